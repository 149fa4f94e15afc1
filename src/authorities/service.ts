import type { Db } from '../db/database.js';
import { ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { isCountryCode } from '../geo/countries.js';
import { NotFoundError } from '../errors.js';
import { checkEncryptionJwk } from '../legal/authority-key.js';

export const AUTHORITY_KINDS = ['court', 'prosecutor', 'police'] as const;
export type AuthorityKind = (typeof AUTHORITY_KINDS)[number];

export interface AuthorityInput {
  name: string;
  country: string;
  kind: AuthorityKind;
  contactEmail: string;
  /** Public key (JWK) that disclosure packages are encrypted to. */
  publicJwk: Record<string, unknown>;
}

/** Registers an authority. Its tokens are created separately and bound to its id. */
export async function createAuthority(db: Db, actor: Actor, input: AuthorityInput, now = Date.now()): Promise<string> {
  const problems = await checkEncryptionJwk(input.publicJwk);
  if (!isCountryCode(input.country)) {
    problems.unshift({ path: '/country', code: 'unknown_country', message: 'not an ISO 3166-1 country code' });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  const id = newId('auth');
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('authorities')
      .values({
        id,
        name: input.name,
        country: input.country,
        kind: input.kind,
        contact_email: input.contactEmail,
        public_jwk: JSON.stringify(input.publicJwk),
        status: 'active',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await appendAudit(tx, actor, {
      action: 'authority.create',
      subjectType: 'authority',
      subjectId: id,
      details: { country: input.country, kind: input.kind },
    });
  });
  return id;
}

export interface AuthorityView {
  id: string;
  name: string;
  country: string;
  kind: string;
  contactEmail: string;
  publicJwk: Record<string, unknown>;
  status: 'active' | 'suspended';
  createdAt: string;
  updatedAt: string;
}

function toView(row: {
  id: string;
  name: string;
  country: string;
  kind: string;
  contact_email: string;
  public_jwk: string;
  status: string;
  created_at: number;
  updated_at: number;
}): AuthorityView {
  return {
    id: row.id,
    name: row.name,
    country: row.country,
    kind: row.kind,
    contactEmail: row.contact_email,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    status: row.status as AuthorityView['status'],
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

export async function getAuthority(db: Db, id: string): Promise<AuthorityView> {
  const row = await db.selectFrom('authorities').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Authority');
  return toView(row);
}

export async function listAuthorities(db: Db): Promise<AuthorityView[]> {
  const rows = await db.selectFrom('authorities').selectAll().orderBy('name').orderBy('id').execute();
  return rows.map(toView);
}

/**
 * Suspends or reinstates an authority. Its tokens stop (or work again) at once:
 * every request resolves the token together with its authority's status.
 */
export async function setAuthorityStatus(
  db: Db,
  actor: Actor,
  id: string,
  status: 'active' | 'suspended',
  reason: string,
  now = Date.now(),
): Promise<AuthorityView> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('authorities').select(['status']).where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('Authority');
    if (row.status !== status) {
      await tx.updateTable('authorities').set({ status, updated_at: now }).where('id', '=', id).execute();
      await appendAudit(
        tx,
        actor,
        {
          action: status === 'suspended' ? 'authority.suspend' : 'authority.reinstate',
          subjectType: 'authority',
          subjectId: id,
          details: { reason },
        },
        now,
      );
    }
    const updated = await tx.selectFrom('authorities').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return toView(updated);
  });
}
