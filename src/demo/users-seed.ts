import fs from 'node:fs';
import path from 'node:path';
import { SYSTEM_ACTOR } from '../audit/actor.js';
import type { Context } from '../context.js';
import { verifyPassword } from '../identity/passwords.js';
import { TOTP_FIELD, type UserRole, createUser, resetUserCredentials } from '../identity/users.js';
import { type DemoAuthorityKey, demoAuthorities } from './legal-seed.js';

export const DEMO_USERS_FILE = 'demo-users.json';

/** One user per role people sign in with, named as the demo tokens are (two of some, for four-eyes work). */
const DEMO_USERS: Array<{ key: string; role: UserRole; authority?: DemoAuthorityKey }> = [
  { key: 'admin', role: 'admin' },
  { key: 'moderator', role: 'moderator' },
  { key: 'moderator2', role: 'moderator' },
  { key: 'legal', role: 'legal' },
  { key: 'legal2', role: 'legal' },
  { key: 'legal_senior', role: 'legal_senior' },
  { key: 'auditor', role: 'auditor' },
  { key: 'authority', role: 'authority', authority: 'de' },
  { key: 'authority2', role: 'authority', authority: 'tr' },
  { key: 'restricted_reviewer', role: 'restricted_reviewer' },
];

export interface DemoUser {
  username: string;
  password: string;
  role: string;
  totpSecret: string;
}

/**
 * Creates the demo users (username = key) and writes their credentials to
 * DIR/demo-users.json (0600). On a later start the file is kept as it is when
 * every credential in it still works; a user whose credentials do not (file lost
 * or edited) gets new ones. Returns the file's path.
 */
export async function seedDemoUsers(ctx: Context): Promise<string> {
  const db = ctx.store.db;
  const actor = SYSTEM_ACTOR('demo');
  const file = path.join(ctx.config.dataDir, DEMO_USERS_FILE);
  const written = readUsersFile(file);
  const users: Record<string, DemoUser> = {};
  let changed = false;
  let authorities: Record<DemoAuthorityKey, string> | undefined;
  for (const u of DEMO_USERS) {
    const row = await db.selectFrom('users').selectAll().where('username', '=', u.key).executeTakeFirst();
    const known = written[u.key];
    if (row && known && (await stillWorks(ctx, row, known, u.role))) {
      users[u.key] = known;
      continue;
    }
    changed = true;
    let created: { username: string; password: string; role: string; totpSecret: string };
    if (row) {
      created = await resetUserCredentials(db, ctx.cipher, actor, row.id);
    } else {
      authorities ??= await demoAuthorities(ctx);
      created = await createUser(db, ctx.cipher, actor, {
        username: u.key,
        role: u.role,
        authorityId: u.authority ? authorities[u.authority] : null,
      });
    }
    users[u.key] = {
      username: created.username,
      password: created.password,
      role: created.role,
      totpSecret: created.totpSecret,
    };
  }
  if (changed || !fs.existsSync(file)) {
    fs.writeFileSync(file, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  }
  return file;
}

function readUsersFile(file: string): Record<string, DemoUser> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, DemoUser>;
  } catch {
    return {};
  }
}

async function stillWorks(
  ctx: Context,
  row: { id: string; role: string; disabled_at: number | null; password_hash: string; totp_secret: Buffer },
  known: DemoUser,
  role: UserRole,
): Promise<boolean> {
  if (row.role !== role || known.role !== role || row.disabled_at !== null) return false;
  if (typeof known.password !== 'string' || typeof known.totpSecret !== 'string') return false;
  try {
    if (ctx.cipher.decrypt(TOTP_FIELD, row.id, row.totp_secret) !== known.totpSecret) return false;
  } catch {
    return false;
  }
  return verifyPassword(row.password_hash, known.password);
}
