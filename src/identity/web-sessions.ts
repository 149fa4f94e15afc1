import crypto from 'node:crypto';
import type { Db, Tx } from '../db/database.js';
import { prepared } from '../db/prepared.js';
import { isRole } from './roles.js';
import type { Principal } from './tokens.js';

/** The cookie that carries a sign-in session. */
export const SESSION_COOKIE = 'custos_session';

/** A session ends after this long without a request… */
export const SESSION_IDLE_MS = 30 * 60_000;
/** …and this long after sign-in, however busy. */
export const SESSION_ABSOLUTE_MS = 12 * 3_600_000;
/** Requests within this long of the last extension do not write the expiry again. */
const TOUCH_EVERY_MS = 60_000;

/** 256 random bits, base64url: 43 characters. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The session a cookie stands for, as the auth hook and the session routes see it. */
export interface WebSession {
  /** SHA-256 of the cookie value. */
  id: string;
  userId: string;
  username: string;
  csrfToken: string;
  expiresAt: number;
}

/** A cookie value is stored only as its SHA-256: it carries 256 random bits, so nothing is left to brute-force. */
export function sessionIdOf(cookieValue: string): string {
  return crypto.createHash('sha256').update(cookieValue, 'utf8').digest('hex');
}

/** Opens a session for a user who just signed in; returns the cookie value (never stored) and the session. */
export async function openWebSession(
  tx: Tx | Db,
  user: { id: string; username: string },
  now = Date.now(),
): Promise<{ cookieValue: string; session: WebSession }> {
  const cookieValue = crypto.randomBytes(32).toString('base64url');
  const session: WebSession = {
    id: sessionIdOf(cookieValue),
    userId: user.id,
    username: user.username,
    csrfToken: crypto.randomBytes(32).toString('base64url'),
    expiresAt: now + SESSION_IDLE_MS,
  };
  // The user's sessions that ended over a day ago are of no further use.
  await tx
    .deleteFrom('web_sessions')
    .where('user_id', '=', user.id)
    .where('expires_at', '<', now - 86_400_000)
    .execute();
  await tx
    .insertInto('web_sessions')
    .values({
      id: session.id,
      user_id: user.id,
      csrf_token: session.csrfToken,
      created_at: now,
      expires_at: session.expiresAt,
      revoked_at: null,
    })
    .execute();
  return { cookieValue, session };
}

/**
 * Resolves a session cookie. Unknown, revoked and expired sessions, sessions of a
 * disabled user and of a user whose authority is suspended all give null: they
 * stop at once, not at their expiry. A live session slides its idle expiry
 * forward (written at most once a minute), never past the absolute limit.
 */
export async function authenticateSession(
  db: Db,
  cookieValue: string,
  now = Date.now(),
): Promise<{ principal: Principal; session: WebSession } | null> {
  if (!COOKIE_VALUE.test(cookieValue)) return null;
  const row = await sessionById.first(db, { id: sessionIdOf(cookieValue) });
  if (!row || row.revoked_at !== null || Number(row.expires_at) <= now) return null;
  if (row.disabled_at !== null || !isRole(row.role)) return null;
  if (row.role === 'authority' && row.authority_status !== 'active') return null;
  let expiresAt = Number(row.expires_at);
  const slid = Math.min(now + SESSION_IDLE_MS, Number(row.created_at) + SESSION_ABSOLUTE_MS);
  if (slid - expiresAt >= TOUCH_EVERY_MS) {
    await db
      .updateTable('web_sessions')
      .set({ expires_at: slid })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .execute();
    expiresAt = slid;
  }
  return {
    principal: { tokenId: row.user_id, name: row.username, role: row.role, authorityId: row.authority_id },
    session: { id: row.id, userId: row.user_id, username: row.username, csrfToken: row.csrf_token, expiresAt },
  };
}

/** Ends a session (sign-out, or a new sign-in in the same browser); true when it was live. */
export async function revokeWebSession(tx: Tx | Db, sessionId: string, now = Date.now()): Promise<boolean> {
  const result = await tx
    .updateTable('web_sessions')
    .set({ revoked_at: now })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Compares a presented CSRF token with the session's in constant time. */
export function csrfTokenMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Runs for every request with a session cookie: prepared once (see db/prepared.ts). */
const sessionById = prepared(['id'], (db, p: { id: string }) =>
  db
    .selectFrom('web_sessions')
    .innerJoin('users', 'users.id', 'web_sessions.user_id')
    .leftJoin('authorities', 'authorities.id', 'users.authority_id')
    .select([
      'web_sessions.id',
      'web_sessions.user_id',
      'web_sessions.csrf_token',
      'web_sessions.created_at',
      'web_sessions.expires_at',
      'web_sessions.revoked_at',
      'users.username',
      'users.role',
      'users.authority_id',
      'users.disabled_at',
      'authorities.status as authority_status',
    ])
    .where('web_sessions.id', '=', p.id),
);
