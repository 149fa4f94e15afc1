import { sql } from 'kysely';
import type { Actor } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import { verifyPassword } from './passwords.js';
import { type Role, isRole } from './roles.js';
import { checkTotp } from './totp.js';
import { TOTP_FIELD, TOTP_REQUIRED_ROLES, normaliseUsername } from './users.js';
import { type WebSession, openWebSession, revokeWebSession } from './web-sessions.js';

/** Failed sign-ins in a row that lock an account… */
export const MAX_FAILED_SIGN_INS = 5;
/** …for this long. */
export const LOCK_MS = 15 * 60_000;

export interface SignInInput {
  username: string;
  password: string;
  /** The code of the authenticator app; required for the roles of TOTP_REQUIRED_ROLES. */
  totp?: string;
}

export interface SignedIn {
  user: { id: string; username: string; role: Role; authorityId: string | null };
  session: WebSession;
  /** The cookie value: given to the browser once, stored only as its hash. */
  cookieValue: string;
}

type Failure = 'unknown_user' | 'password' | 'totp' | 'totp_missing' | 'disabled' | 'authority_suspended' | 'locked';

/**
 * Signs a user in with username, password and (where the role needs one, or when
 * given) a TOTP code, and opens a web session.
 *
 * - An unknown username, a wrong password and a wrong code give one answer,
 *   `invalid_credentials`, in about the same time (an unknown user's password is
 *   checked against a dummy hash). A disabled user, or one of a suspended
 *   authority, gets the same answer.
 * - A right password without the code a role needs answers `totp_required` and
 *   does not count as a failure (it is the first step of the form).
 * - Every attempt on an existing user first claims one of its
 *   MAX_FAILED_SIGN_INS attempts in the store (a conditional update), so parallel
 *   guesses cannot outrun the count; the attempt that reaches the limit locks the
 *   account for LOCK_MS, and attempts on a locked account answer `account_locked`
 *   without checking anything. A successful sign-in clears the count.
 * - Every outcome is audited (never the password or the code); failures by the
 *   public actor, a sign-in by the user.
 *
 * `previousSessionId` (the browser's current session, if any) is ended with the new sign-in.
 */
export async function signIn(
  db: Db,
  cipher: PersonalDataCipher,
  input: SignInInput,
  meta: { requestId?: string; previousSessionId?: string } = {},
  now = Date.now(),
): Promise<SignedIn> {
  const publicActor: Actor = { id: 'public', role: 'public', requestId: meta.requestId };
  const username = normaliseUsername(input.username);
  const totp = input.totp !== undefined && input.totp.trim() !== '' ? input.totp : undefined;

  const user = await db
    .selectFrom('users')
    .leftJoin('authorities', 'authorities.id', 'users.authority_id')
    .select([
      'users.id',
      'users.username',
      'users.role',
      'users.authority_id',
      'users.password_hash',
      'users.totp_secret',
      'users.totp_last_step',
      'users.disabled_at',
      'authorities.status as authority_status',
    ])
    .where('users.username', '=', username)
    .executeTakeFirst();

  if (!user) {
    await verifyPassword(null, input.password);
    // The attempted name is not recorded: people type passwords into the username field.
    await appendAudit(db, publicActor, { action: 'session.sign_in_failed', details: { reason: 'unknown_user' } }, now);
    throw invalidCredentials();
  }

  const attempt = await claimAttempt(db, user.id, now);
  if (attempt === null) {
    const lockedUntil = await currentLock(db, user.id, now);
    await recordFailure(db, publicActor, user.id, 'locked', null, now);
    throw new AppError('account_locked', 'Too many failed sign-ins; this account is locked for a while.', {
      lockedUntil: new Date(lockedUntil).toISOString(),
    });
  }

  const passwordOk = await verifyPassword(user.password_hash, input.password);
  let failure: Failure | null = null;
  let step: number | null = null;
  if (!passwordOk) failure = 'password';
  else if (user.disabled_at !== null || !isRole(user.role)) failure = 'disabled';
  else if (user.role === 'authority' && user.authority_status !== 'active') failure = 'authority_suspended';
  else if (totp !== undefined) {
    const secret = cipher.decrypt(TOTP_FIELD, user.id, user.totp_secret);
    const lastStep = user.totp_last_step === null ? null : Number(user.totp_last_step);
    step = await checkTotp(secret, totp, lastStep, now);
    if (step === null) failure = 'totp';
  } else if (TOTP_REQUIRED_ROLES.includes(user.role as Role)) failure = 'totp_missing';

  if (failure === 'totp_missing') {
    await releaseAttempt(db, user.id);
    await recordFailure(db, publicActor, user.id, failure, null, now);
    throw new AppError('totp_required', 'Enter the code of your authenticator app too.');
  }
  if (failure !== null) {
    await recordFailure(db, publicActor, user.id, failure, attempt, now);
    throw invalidCredentials();
  }

  const role = user.role as Role;
  const signedIn = await db.transaction().execute(async (tx) => {
    let cleared = tx
      .updateTable('users')
      .set({ failed_attempts: 0, locked_until: null, ...(step === null ? {} : { totp_last_step: step }) })
      .where('id', '=', user.id);
    // A code is good once: of two sign-ins with the same code at the same moment, one wins.
    if (step !== null) {
      const s = step;
      cleared = cleared.where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', s)]));
    }
    const updated = await cleared.executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return null;
    if (meta.previousSessionId) await revokeWebSession(tx, meta.previousSessionId, now);
    const opened = await openWebSession(tx, { id: user.id, username: user.username }, now);
    await appendAudit(
      tx,
      { id: user.id, role, authorityId: user.authority_id, requestId: meta.requestId },
      { action: 'session.sign_in', subjectType: 'user', subjectId: user.id, details: { totp: step !== null } },
      now,
    );
    return opened;
  });
  if (!signedIn) {
    await recordFailure(db, publicActor, user.id, 'totp', attempt, now);
    throw invalidCredentials();
  }
  return {
    user: { id: user.id, username: user.username, role, authorityId: user.authority_id },
    session: signedIn.session,
    cookieValue: signedIn.cookieValue,
  };
}

/** Ends a web session (sign-out); audited when it was live. */
export async function signOut(
  db: Db,
  actor: Actor,
  session: { id: string; userId: string },
  now = Date.now(),
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (await revokeWebSession(tx, session.id, now)) {
      await appendAudit(tx, actor, { action: 'session.sign_out', subjectType: 'user', subjectId: session.userId }, now);
    }
  });
}

function invalidCredentials(): AppError {
  return new AppError('invalid_credentials', 'The username, password or code is wrong.');
}

/**
 * Claims one attempt: counts it as a failure until it proves otherwise, and locks
 * the account when it is the last one allowed. Null when the account is locked.
 * An expired lock starts the count afresh. Returns the count including this attempt.
 */
async function claimAttempt(db: Db, userId: string, now: number): Promise<number | null> {
  const count = sql<number>`case when locked_until is not null then 1 else failed_attempts + 1 end`;
  const row = await db
    .updateTable('users')
    .set({
      failed_attempts: count,
      locked_until: sql<
        number | null
      >`case when ${count} >= ${MAX_FAILED_SIGN_INS} then cast(${now + LOCK_MS} as bigint) else null end`,
    })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .returning('failed_attempts')
    .executeTakeFirst();
  return row ? Number(row.failed_attempts) : null;
}

/** Gives back a claimed attempt that turned out not to be a failure (right password, code still to come). */
async function releaseAttempt(db: Db, userId: string): Promise<void> {
  await db
    .updateTable('users')
    .set({
      failed_attempts: sql<number>`failed_attempts - 1`,
      locked_until: sql<
        number | null
      >`case when failed_attempts - 1 < ${MAX_FAILED_SIGN_INS} then null else locked_until end`,
    })
    .where('id', '=', userId)
    .where('failed_attempts', '>', 0)
    .execute();
}

async function currentLock(db: Db, userId: string, now: number): Promise<number> {
  const row = await db.selectFrom('users').select('locked_until').where('id', '=', userId).executeTakeFirst();
  return row?.locked_until != null ? Number(row.locked_until) : now + LOCK_MS;
}

/** Audits a failed attempt and, when it was the one that locked the account, the lock. */
async function recordFailure(
  db: Db,
  actor: Actor,
  userId: string,
  reason: Failure,
  attempt: number | null,
  now: number,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await appendAudit(
      tx,
      actor,
      {
        action: 'session.sign_in_failed',
        subjectType: 'user',
        subjectId: userId,
        details: { reason, ...(attempt === null ? {} : { failedAttempts: attempt }) },
      },
      now,
    );
    if (attempt !== null && attempt >= MAX_FAILED_SIGN_INS) {
      await appendAudit(
        tx,
        actor,
        {
          action: 'user.locked',
          subjectType: 'user',
          subjectId: userId,
          details: { failedAttempts: attempt, lockedUntil: new Date(now + LOCK_MS).toISOString() },
        },
        now,
      );
    }
  });
}
