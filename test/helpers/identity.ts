import crypto from 'node:crypto';
import { createAuthority, type AuthorityInput } from '../../src/authorities/service.js';
import { authorityKeyPair } from './harness.js';
import type { Role } from '../../src/identity/roles.js';
import { createToken, revokeToken } from '../../src/identity/tokens.js';
import { type Harness, TEST_ACTOR } from './harness.js';

/** SHA-256 in hex, computed here rather than with the code under test. */
export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface IssuedToken {
  id: string;
  token: string;
}

/** A token created through the service, as `custos token create` would. */
export async function issueToken(
  h: Harness,
  role: Role,
  options: { authorityId?: string | null; expiresAt?: number | null; now?: number; name?: string } = {},
): Promise<IssuedToken> {
  const created = await createToken(
    h.ctx.store.db,
    TEST_ACTOR,
    {
      role,
      name: options.name ?? `test ${role} ${crypto.randomBytes(3).toString('hex')}`,
      authorityId: options.authorityId ?? (role === 'authority' ? h.tokens.authorityId : null),
      expiresAt: options.expiresAt ?? null,
    },
    options.now,
  );
  return { id: created.id, token: created.token };
}

/** A token of `role` that has been revoked. */
export async function revokedToken(h: Harness, role: Role): Promise<IssuedToken> {
  const t = await issueToken(h, role);
  await revokeToken(h.ctx.store.db, TEST_ACTOR, t.id);
  return t;
}

/** A token of `role` created an hour ago that expired a minute after creation. */
export async function expiredToken(h: Harness, role: Role): Promise<IssuedToken & { expiresAt: number }> {
  const createdAt = Date.now() - 3_600_000;
  const expiresAt = createdAt + 60_000;
  const t = await issueToken(h, role, { now: createdAt, expiresAt });
  return { ...t, expiresAt };
}

/** Registers another authority (the harness's own stays active for other tests). */
export async function addAuthority(h: Harness, overrides: Partial<AuthorityInput> = {}): Promise<string> {
  return createAuthority(h.ctx.store.db, TEST_ACTOR, {
    name: `Authority ${crypto.randomBytes(3).toString('hex')}`,
    country: 'FR',
    kind: 'prosecutor',
    contactEmail: 'prosecutor@example.org',
    publicJwk: (await authorityKeyPair()).publicJwk,
    ...overrides,
  });
}

/** Sets an authority's status directly in the store (there is no API for it yet). */
export async function setAuthorityStatus(h: Harness, authorityId: string, status: 'active' | 'suspended') {
  await h.ctx.store.db.updateTable('authorities').set({ status }).where('id', '=', authorityId).execute();
}

/** The id of the stored token whose hash matches `token`, or undefined. */
export async function tokenIdOf(h: Harness, token: string): Promise<string | undefined> {
  const row = await h.ctx.store.db
    .selectFrom('api_tokens')
    .select('id')
    .where('token_hash', '=', sha256Hex(token))
    .executeTakeFirst();
  return row?.id;
}
