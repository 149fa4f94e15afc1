import crypto from 'node:crypto';
import type { Db } from '../db/database.js';
import { prepared } from '../db/prepared.js';
import { AppError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { type Role, isRole } from './roles.js';

/** What a valid token resolves to. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  authorityId: string | null;
}

export interface TokenView {
  id: string;
  name: string;
  role: Role;
  authorityId: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const TOKEN_PREFIX = 'cus_';

/** SHA-256 suffices: tokens carry 256 random bits, so there is nothing to brute-force. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface CreateTokenInput {
  role: string;
  name: string;
  authorityId?: string | null;
  expiresAt?: number | null;
}

/**
 * Creates a token and returns it once; only its hash is stored. An `authority`
 * token must name an existing authority, and no other role may name one.
 */
export async function createToken(
  db: Db,
  actor: Actor,
  input: CreateTokenInput,
  now = Date.now(),
): Promise<{ id: string; token: string; view: TokenView }> {
  const problems = [];
  if (!isRole(input.role)) {
    problems.push({ path: '/role', code: 'unknown_role', message: `unknown role "${input.role}"` });
  }
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) {
    problems.push({ path: '/name', code: 'invalid_name', message: 'name must be 1 to 200 characters' });
  }
  if (input.role === 'authority' && !input.authorityId) {
    problems.push({
      path: '/authorityId',
      code: 'missing_field',
      message: 'an authority token must name its authority',
    });
  }
  if (input.role !== 'authority' && input.authorityId) {
    problems.push({
      path: '/authorityId',
      code: 'not_allowed',
      message: 'only authority tokens are bound to an authority',
    });
  }
  if (input.expiresAt != null && input.expiresAt <= now) {
    problems.push({ path: '/expiresAt', code: 'in_the_past', message: 'expiry must be in the future' });
  }
  if (problems.length > 0) throw new ValidationError(problems);

  const id = newId('tok');
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  const row = {
    id,
    name,
    role: input.role,
    authority_id: input.authorityId ?? null,
    token_hash: hashToken(token),
    created_at: now,
    expires_at: input.expiresAt ?? null,
    revoked_at: null,
    created_by: actor.id,
  };
  await db.transaction().execute(async (tx) => {
    if (row.authority_id) {
      const authority = await tx
        .selectFrom('authorities')
        .select('id')
        .where('id', '=', row.authority_id)
        .executeTakeFirst();
      if (!authority) {
        throw new ValidationError([{ path: '/authorityId', code: 'not_found', message: 'no such authority' }]);
      }
    }
    await tx.insertInto('api_tokens').values(row).execute();
    await appendAudit(tx, actor, {
      action: 'token.create',
      subjectType: 'token',
      subjectId: id,
      details: { role: row.role, authorityId: row.authority_id, expiresAt: row.expires_at },
    });
  });
  return { id, token, view: toView(row) };
}

/**
 * Resolves a presented token. Unknown, revoked and expired tokens, and tokens of
 * a suspended authority, all give the same answer (null) so nothing leaks.
 */
export async function authenticate(db: Db, token: string, now = Date.now()): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const row = await tokenByHash.first(db, { hash: hashToken(token) });
  if (!row || row.revoked_at !== null) return null;
  if (row.expires_at !== null && Number(row.expires_at) <= now) return null;
  if (!isRole(row.role)) return null;
  if (row.role === 'authority' && row.authority_status !== 'active') return null;
  return { tokenId: row.id, name: row.name, role: row.role, authorityId: row.authority_id };
}

/** Revokes a token; revoking twice is harmless and answers the same. */
export async function revokeToken(db: Db, actor: Actor, id: string, now = Date.now()): Promise<TokenView> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('Token');
    if (row.revoked_at !== null) return toView(row);
    await tx.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).execute();
    await appendAudit(tx, actor, { action: 'token.revoke', subjectType: 'token', subjectId: id });
    return toView({ ...row, revoked_at: now });
  });
}

export async function listTokens(db: Db): Promise<TokenView[]> {
  const rows = await db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute();
  return rows.map(toView);
}

function toView(row: {
  id: string;
  name: string;
  role: string;
  authority_id: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}): TokenView {
  if (!isRole(row.role)) throw new AppError('internal_error', 'token with unknown role');
  const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    authorityId: row.authority_id,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
  };
}

/** Runs for every request with a token: prepared once (see db/prepared.ts). */
const tokenByHash = prepared(['hash'], (db, p: { hash: string }) =>
  db
    .selectFrom('api_tokens')
    .leftJoin('authorities', 'authorities.id', 'api_tokens.authority_id')
    .select([
      'api_tokens.id',
      'api_tokens.name',
      'api_tokens.role',
      'api_tokens.authority_id',
      'api_tokens.expires_at',
      'api_tokens.revoked_at',
      'authorities.status as authority_status',
    ])
    .where('api_tokens.token_hash', '=', p.hash),
);
