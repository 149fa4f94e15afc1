import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { type Actor, SYSTEM_ACTOR } from '../audit/actor.js';
import { type AccountInput, ingestAccounts } from '../accounts/service.js';
import { normalisePhone } from '../accounts/phone.js';
import { authenticate, createToken } from '../identity/tokens.js';
import type { Role } from '../identity/roles.js';
import { type SessionInput, ingestSessions } from '../sessions/service.js';
import { seedModeration } from './moderation-seed.js';
import { type DemoAuthorityKey, demoAuthorities, seedLegal } from './legal-seed.js';
import { mulberry32 } from '../random.js';
import { seedDemoUsers } from './users-seed.js';
import { addHashes, createBank } from '../hashes/banks.js';

export const DEMO_TOKENS_FILE = 'demo-tokens.json';
export { DEMO_USERS_FILE } from './users-seed.js';
export { DEMO_AUTHORITY_KEY_FILE, DEMO_AUTHORITY2_KEY_FILE } from './legal-seed.js';

/**
 * The token names of SPEC.md; two moderators and two legal reviewers for four-eyes work,
 * a senior legal member for emergencies and extra reviews, and a token per demo authority.
 */
const DEMO_TOKENS: Array<{ key: string; role: Role; authority?: DemoAuthorityKey }> = [
  { key: 'admin', role: 'admin' },
  { key: 'moderator', role: 'moderator' },
  { key: 'moderator2', role: 'moderator' },
  { key: 'legal', role: 'legal' },
  { key: 'legal2', role: 'legal' },
  { key: 'legal_senior', role: 'legal_senior' },
  { key: 'auditor', role: 'auditor' },
  { key: 'platform', role: 'platform' },
  { key: 'authority', role: 'authority', authority: 'de' },
  { key: 'authority2', role: 'authority', authority: 'tr' },
  { key: 'trusted_flagger', role: 'trusted_flagger' },
  { key: 'restricted_reviewer', role: 'restricted_reviewer' },
];

/** Mobile number shapes per country; candidates are checked with libphonenumber. */
const PHONE_SHAPES: Record<string, { prefix: string; digits: number }> = {
  DE: { prefix: '+49151', digits: 8 },
  FR: { prefix: '+336', digits: 8 },
  ES: { prefix: '+346', digits: 8 },
  IT: { prefix: '+39347', digits: 7 },
  BR: { prefix: '+55119', digits: 8 },
  IN: { prefix: '+919', digits: 9 },
  RU: { prefix: '+7916', digits: 7 },
  TR: { prefix: '+90532', digits: 7 },
  IR: { prefix: '+98912', digits: 7 },
  NG: { prefix: '+234803', digits: 7 },
  US: { prefix: '+1202555', digits: 4 },
};

/** Deterministic, so every demo start seeds the same platform. */
const prng = mulberry32;

export interface DemoSeedResult {
  accounts: number;
  sessions: number;
  tokensFile: string;
  /** demo-users.json: username, password and TOTP secret of one user per role people sign in with. */
  usersFile: string;
  seeded: boolean;
}

/**
 * Seeds a small platform (300 accounts in 11 countries, a few anonymous +888
 * numbers, their sessions over the last 90 days, moderation, two authorities and
 * their legal orders in every state) through the same
 * services the API uses, and writes one token per role to demo-tokens.json and the
 * credentials of one user per role people sign in with to demo-users.json.
 * Running it again reuses what is there.
 */
export async function seedDemo(ctx: Context, accountCount = 300, now = Date.now()): Promise<DemoSeedResult> {
  const db = ctx.store.db;
  const actor = SYSTEM_ACTOR('demo');
  const rand = prng(20261128);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');

  const already = await db.selectFrom('accounts').select('id').where('id', '=', 'demo-0001').executeTakeFirst();
  let sessionCount = 0;
  if (!already) {
    const countries = Object.keys(PHONE_SHAPES);
    const accounts: AccountInput[] = [];
    for (let i = 1; i <= accountCount; i++) {
      const country = pick(countries);
      let phone: string | undefined;
      if (i % 50 === 0) phone = `+8880${digits(7)}`;
      else {
        const shape = PHONE_SHAPES[country] as { prefix: string; digits: number };
        for (let attempt = 0; attempt < 20 && !phone; attempt++) {
          const candidate = shape.prefix + digits(shape.digits);
          if (normalisePhone(candidate)) phone = candidate;
        }
      }
      accounts.push({
        id: `demo-${String(i).padStart(4, '0')}`,
        username: `user${i}_${country.toLowerCase()}`,
        country,
        ...(phone ? { phone } : {}),
        createdAt: new Date(now - Math.floor(rand() * 900) * 86_400_000).toISOString(),
      });
    }
    await ingestAccounts(db, ctx.cipher, actor, accounts, now);

    const sessions: SessionInput[] = [];
    for (const a of accounts) {
      const n = 3 + Math.floor(rand() * 15);
      const base = rand() < 0.2 ? null : [Math.floor(rand() * 200) + 11, Math.floor(rand() * 256)];
      for (let j = 0; j < n; j++) {
        const ip = base
          ? `${base[0]}.${base[1]}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`
          : `2001:db8:${Math.floor(rand() * 0xffff).toString(16)}::${Math.floor(rand() * 0xffff).toString(16)}`;
        sessions.push({
          accountId: a.id,
          ip,
          port: 1024 + Math.floor(rand() * 60000),
          at: new Date(now - Math.floor(rand() * 90 * 86_400_000)).toISOString(),
        });
      }
    }
    const result = await ingestSessions(db, ctx.cipher, actor, sessions, {
      retentionDays: ctx.config.sessionRetentionDays,
      now,
    });
    sessionCount = result.inserted;
  }

  const tokensFile = path.join(ctx.config.dataDir, DEMO_TOKENS_FILE);
  if (!(await tokensStillValid(ctx, tokensFile))) {
    const authorities = await demoAuthorities(ctx);
    const tokens: Record<string, string> = {};
    for (const t of DEMO_TOKENS) {
      const created = await createToken(db, actor, {
        role: t.role,
        name: `demo ${t.key}`,
        authorityId: t.authority ? authorities[t.authority] : null,
      });
      tokens[t.key] = created.token;
    }
    fs.writeFileSync(tokensFile, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  }
  const usersFile = await seedDemoUsers(ctx);
  const actorFor = async (name: string, role: Role): Promise<Actor> => {
    const row = await db
      .selectFrom('api_tokens')
      .select(['id', 'authority_id'])
      .where('name', '=', `demo ${name}`)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    return { id: row.id, role, authorityId: row.authority_id };
  };
  const demoAccounts = Array.from({ length: accountCount }, (_, i) => `demo-${String(i + 1).padStart(4, '0')}`);
  await seedModeration(
    ctx,
    {
      moderator: await actorFor('moderator', 'moderator'),
      platform: await actorFor('platform', 'platform'),
      trustedFlagger: await actorFor('trusted_flagger', 'trusted_flagger'),
    },
    demoAccounts,
    rand,
    now,
  );
  await seedLegal(
    ctx,
    {
      moderator: await actorFor('moderator', 'moderator'),
      trustedFlagger: await actorFor('trusted_flagger', 'trusted_flagger'),
      legal: await actorFor('legal', 'legal'),
      legal2: await actorFor('legal2', 'legal'),
      legalSenior: await actorFor('legal_senior', 'legal_senior'),
      authority: await actorFor('authority', 'authority'),
      authority2: await actorFor('authority2', 'authority'),
    },
    now,
  );
  await seedHashBanks(ctx, rand);
  const accounts = await db.selectFrom('accounts').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { accounts: Number(accounts.n), sessions: sessionCount, tokensFile, usersFile, seeded: !already };
}

async function tokensStillValid(ctx: Context, file: string): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  try {
    const tokens = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    for (const t of DEMO_TOKENS) {
      const token = tokens[t.key];
      if (!token) return false;
      const principal = await authenticate(ctx.store.db, token);
      if (principal?.role !== t.role) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Two small banks so the admin page and the image scanner have something to show: PDQ
 * hashes of invented images (a bank the operator would import from an industry list)
 * and exact MD5s. Made once; random but the same in every demo.
 */
async function seedHashBanks(ctx: Context, rand: () => number): Promise<void> {
  const db = ctx.store.db;
  const hex = (chars: number) => Array.from({ length: chars }, () => Math.floor(rand() * 16).toString(16)).join('');
  const banks = [
    { name: 'demo-terrorism-pdq', category: 'terrorism', action: 'review', kind: 'pdq', chars: 64, count: 12 },
    { name: 'demo-spam-md5', category: 'spam', action: 'remove', kind: 'md5', chars: 32, count: 5 },
  ];
  for (const b of banks) {
    const hashes = Array.from({ length: b.count }, () => ({ kind: b.kind, value: hex(b.chars) }));
    if (await db.selectFrom('hash_banks').select('id').where('name', '=', b.name).executeTakeFirst()) continue;
    await createBank(db, SYSTEM_ACTOR('demo'), b.name, { category: b.category, action: b.action, threshold: 31 });
    await addHashes(db, SYSTEM_ACTOR('demo'), b.name, hashes, 'demo');
  }
}
