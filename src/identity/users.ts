import type { Actor } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db } from '../db/database.js';
import type { Insertable, Selectable } from 'kysely';
import type { UserTable } from '../db/schema.js';
import { isUniqueViolation } from '../db/store-errors.js';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { generatePassword, hashPassword } from './passwords.js';
import { type Role, isRole } from './roles.js';
import { newTotpSecret, totpUri } from './totp.js';

/**
 * Roles a person signs in with. `platform` and `trusted_flagger` are machines and
 * organisations: they keep API tokens.
 */
export const USER_ROLES = [
  'admin',
  'moderator',
  'legal',
  'legal_senior',
  'auditor',
  'authority',
  'restricted_reviewer',
] as const satisfies readonly Role[];
export type UserRole = (typeof USER_ROLES)[number];

/** Roles that must give a TOTP code at every sign-in; the others may. */
export const TOTP_REQUIRED_ROLES: readonly Role[] = ['admin', 'legal', 'legal_senior', 'authority'];

export function isUserRole(value: string): value is UserRole {
  return (USER_ROLES as readonly string[]).includes(value);
}

/** The cipher field of the TOTP secret; the user id is bound to it as authenticated data. */
export const TOTP_FIELD = 'users.totp';

/** Lower case letters, digits and `._@-`, 3 to 64 characters, starting with a letter or digit. */
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$';
const USERNAME = new RegExp(USERNAME_PATTERN);

/** Usernames compare without case: `Alice` and `alice` are one user. */
export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

export interface UserView {
  id: string;
  username: string;
  role: Role;
  authorityId: string | null;
  createdAt: string;
  disabledAt: string | null;
  /** Set while failed sign-ins keep the account locked. */
  lockedUntil: string | null;
}

/** What creating a user answers, once: the password and the TOTP secret are not stored in the clear. */
export interface CreatedUser {
  id: string;
  username: string;
  role: Role;
  authorityId: string | null;
  password: string;
  totpSecret: string;
  totpUri: string;
}

export interface CreateUserInput {
  username: string;
  role: string;
  authorityId?: string | null;
}

/**
 * Creates a user with a generated password and TOTP secret, both returned once.
 * An `authority` user must name an existing authority, and no other role may.
 */
export async function createUser(
  db: Db,
  cipher: PersonalDataCipher,
  actor: Actor,
  input: CreateUserInput,
  now = Date.now(),
): Promise<CreatedUser> {
  const username = normaliseUsername(input.username);
  const problems = [];
  if (!USERNAME.test(username)) {
    problems.push({
      path: '/username',
      code: 'invalid_username',
      message: 'a username is 3 to 64 letters, digits and . _ @ -, starting with a letter or digit',
    });
  }
  if (!isUserRole(input.role)) {
    problems.push({
      path: '/role',
      code: 'unknown_role',
      message: `users hold one of ${USER_ROLES.join(', ')} (machines and organisations use API tokens)`,
    });
  }
  if (input.role === 'authority' && !input.authorityId) {
    problems.push({
      path: '/authorityId',
      code: 'missing_field',
      message: 'an authority user must name its authority',
    });
  }
  if (input.role !== 'authority' && input.authorityId) {
    problems.push({
      path: '/authorityId',
      code: 'not_allowed',
      message: 'only authority users are bound to an authority',
    });
  }
  if (problems.length > 0) throw new ValidationError(problems);

  const id = newId('usr');
  const password = generatePassword();
  const totpSecret = newTotpSecret();
  const row: Insertable<UserTable> & { authority_id: string | null } = {
    id,
    username,
    role: input.role,
    authority_id: input.authorityId ?? null,
    password_hash: await hashPassword(password),
    totp_secret: cipher.encrypt(TOTP_FIELD, id, totpSecret),
    totp_last_step: null,
    failed_attempts: 0,
    locked_until: null,
    created_at: now,
    created_by: actor.id,
    disabled_at: null,
  };
  try {
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
      const taken = await tx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
      if (taken) throw new ConflictError('That username is taken.');
      await tx.insertInto('users').values(row).execute();
      await appendAudit(
        tx,
        actor,
        {
          action: 'user.create',
          subjectType: 'user',
          subjectId: id,
          details: { username, role: row.role, authorityId: row.authority_id },
        },
        now,
      );
    });
  } catch (error) {
    // Two creations of one username at once: the unique index decides.
    if (isUniqueViolation(error)) throw new ConflictError('That username is taken.');
    throw error;
  }
  return {
    id,
    username,
    role: input.role as Role,
    authorityId: row.authority_id,
    password,
    totpSecret,
    totpUri: totpUri(username, totpSecret),
  };
}

/**
 * Gives a user a new generated password and TOTP secret (returned once), clears a
 * lock and ends the user's sessions: for a lost authenticator or password. A
 * disabled user stays disabled.
 */
export async function resetUserCredentials(
  db: Db,
  cipher: PersonalDataCipher,
  actor: Actor,
  id: string,
  now = Date.now(),
): Promise<CreatedUser> {
  const password = generatePassword();
  const totpSecret = newTotpSecret();
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('User');
    if (!isRole(row.role)) throw new AppError('internal_error', 'user with unknown role');
    await tx
      .updateTable('users')
      .set({
        password_hash: passwordHash,
        totp_secret: cipher.encrypt(TOTP_FIELD, id, totpSecret),
        totp_last_step: null,
        failed_attempts: 0,
        locked_until: null,
      })
      .where('id', '=', id)
      .execute();
    await tx
      .updateTable('web_sessions')
      .set({ revoked_at: now })
      .where('user_id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    await appendAudit(tx, actor, { action: 'user.reset_credentials', subjectType: 'user', subjectId: id }, now);
    return {
      id,
      username: row.username,
      role: row.role,
      authorityId: row.authority_id,
      password,
      totpSecret,
      totpUri: totpUri(row.username, totpSecret),
    };
  });
}

/** Every user, oldest first; never a password hash or a TOTP secret. */
export async function listUsers(db: Db, now = Date.now()): Promise<UserView[]> {
  const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => toUserView(r, now));
}

/**
 * Disables a user: sign-ins are refused and every open session ends at once (the
 * sessions are revoked here, and a session of a disabled user is refused anyway).
 * Disabling twice answers the same.
 */
export async function disableUser(db: Db, actor: Actor, id: string, now = Date.now()): Promise<UserView> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('User');
    if (row.disabled_at !== null) return toUserView(row, now);
    await tx.updateTable('users').set({ disabled_at: now }).where('id', '=', id).execute();
    const revoked = await tx
      .updateTable('web_sessions')
      .set({ revoked_at: now })
      .where('user_id', '=', id)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    await appendAudit(
      tx,
      actor,
      {
        action: 'user.disable',
        subjectType: 'user',
        subjectId: id,
        details: { sessionsRevoked: Number(revoked.numUpdatedRows) },
      },
      now,
    );
    return toUserView({ ...row, disabled_at: now }, now);
  });
}

function toUserView(row: Selectable<UserTable>, now: number): UserView {
  if (!isRole(row.role)) throw new AppError('internal_error', 'user with unknown role');
  const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
  const locked = row.locked_until !== null && Number(row.locked_until) > now;
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    authorityId: row.authority_id,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    disabledAt: iso(row.disabled_at),
    lockedUntil: locked ? iso(row.locked_until) : null,
  };
}
