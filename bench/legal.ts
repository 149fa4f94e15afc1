import fs from 'node:fs';
import os from 'node:os';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompactEncrypt,
  CompactSign,
  type CryptoKey,
  type JWK,
  compactDecrypt,
  compactVerify,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
} from 'jose';
import { sql } from 'kysely';
import pg from 'pg';
import { PHONE_FIELD, findAccountsByPhone } from '../src/accounts/service.js';
import { normalisePhone } from '../src/accounts/phone.js';
import type { Actor } from '../src/audit/actor.js';
import { createAuthority } from '../src/authorities/service.js';
import type { PersonalDataCipher } from '../src/crypto/personal-data-cipher.js';
import type { Db, Dialect } from '../src/db/database.js';
import { PACKAGE_ENC, PACKAGE_KEY_ALG, importAuthorityKey } from '../src/legal/authority-key.js';
import { type DisclosurePayload, PAYLOAD_TYPE, produceDisclosure } from '../src/legal/disclosure.js';
import { reviewLegalRequest } from '../src/legal/review.js';
import { type LegalOrderInput, submitLegalRequest } from '../src/legal/service.js';
import { SIGNING_ALG, currentSigningKey, publishedSigningKeys } from '../src/legal/signing-keys.js';
import { IP_FIELD, type SessionRecord, sessionId, sessionsInPeriod } from '../src/sessions/service.js';
import {
  BENCH_PG_URL,
  type BenchStore,
  dropPostgresIndexes,
  openBenchStore,
  storeSettings,
  storeVersion,
} from './store.js';
import { type Latency, latency, median, nowMs, rng } from './stats.js';

/**
 * Lawful requests, on each store:
 *
 * 1. Disclosure packages: `produceDisclosure` (src/legal/disclosure.ts), the real
 *    code path, for an order naming one target whose approved period holds
 *    `packageSessions` sessions, and for one naming `targets` targets holding as
 *    many between them (`packageSessions / targets` each). Accounts (encrypted phone
 *    numbers), sessions (encrypted IPs, a tenth of them outside the period),
 *    a confirmed violation per target (and the decision it rests on) are inserted
 *    directly; the authority is registered through `createAuthority` with a real
 *    ECDH-ES P-256 key. Each order is filed through `submitLegalRequest` (the
 *    policy's automatic checks) and approved once through `reviewLegalRequest`.
 *    The first order of each shape then gets its second approval through
 *    `reviewLegalRequest`, which builds the package (timed as a whole, reported
 *    apart); the timed orders after it are set to `approved` directly (the
 *    status and decision time the second approval writes) and `produceDisclosure`
 *    alone is timed. The baseline, interleaved with it, is `sessionsInPeriod`
 *    for the same accounts and period: reading and decrypting the same rows, so
 *    the ratio is what building the payload, signing, encrypting, storing the
 *    package and auditing add. Every package is decrypted with the authority's
 *    private key and its signature verified against the published keys; the
 *    first is compared entry by entry with the sessions inserted, the others by
 *    count.
 * 2. Candidate lookup by phone: `accounts` filled in bulk with `accounts` rows
 *    (a real blind index of a distinct, valid number each), then
 *    `findAccountsByPhone` (src/accounts/service.ts) timed for random existing
 *    numbers, interleaved with `select 1` (the floor of any query) and with the
 *    number's normalisation and blind index alone (no database).
 */

export interface LegalOptions {
  /** Sessions inside the approved period, per package (one target holds them all, or `targets` share them). */
  packageSessions: number;
  /** Targets of the many-target order (the shipped policy allows 100 at most). */
  targets: number;
  /** Timed packages per shape (fresh orders each), median reported. */
  repetitions: number;
  /** Further sessions per target before the period, as a share of those inside: the package must leave them out. */
  outsideShare: number;
  /** Length of the approved period. */
  periodDays: number;
  /** Rows in `accounts` for the phone lookup. */
  accounts: number;
  /** Timed phone lookups per method. */
  lookups: number;
  /** Untimed lookups first, of other numbers. */
  warmup: number;
}

export const LEGAL_DEFAULTS: LegalOptions = {
  packageSessions: 100_000,
  targets: 100,
  repetitions: 5,
  outsideShare: 0.1,
  periodDays: 90,
  accounts: 10_000_000,
  lookups: 2000,
  warmup: 200,
};

export const LEGAL_TARGET = { phoneLookupP99Ms: 10 };

/** A package of one shape: figures of the timed orders, checks of all of them. */
export interface PackageResult {
  shape: 'one-target' | 'many-targets';
  targets: number;
  sessionsPerTarget: number;
  /** IP addresses in each package (sessions inside the period, all targets). */
  sessions: number;
  /** Sessions of the same accounts outside the period, left out. */
  sessionsOutside: number;
  /** `produceDisclosure` per package, ms: every timed order, and their median. */
  packageMs: { median: number; samples: number[] };
  /** `sessionsInPeriod` for the same accounts and period, ms. */
  baselineMs: { median: number; samples: number[] };
  /**
   * The same payload serialised, signed and encrypted as produceDisclosure does it,
   * in this process without a database, ms: the share of the package that is crypto.
   */
  sealMs: { median: number; samples: number[] };
  /** packageMs / baselineMs (medians). */
  ratio: number;
  sessionsPerSecond: number;
  /** The JWE as stored and handed out (compact serialisation, ASCII). */
  packageBytes: number;
  /** The signed JSON inside it. */
  payloadBytes: number;
  /** The first order's second approval (`reviewLegalRequest`, which builds the package), ms. */
  secondApprovalMs: number;
  /** Packages decrypted and verified, and what they held in all. */
  verified: { packages: number; ipAddresses: number; phoneNumbers: number };
}

export interface PhoneLookupResult {
  accounts: number;
  fillSeconds: number;
  /** The accounts table with its indexes (PostgreSQL) or the database file (SQLite). */
  storeBytes: number;
  plan: string;
  latencyMs: { select1: Latency; findAccountsByPhone: Latency; prepare: Latency };
  /** findAccountsByPhone / select 1, at p50 and p99. */
  ratio: { p50: number; p99: number };
  targetMet: boolean;
}

export interface LegalResult {
  store: Dialect;
  storeVersion: string;
  /** Journal and sync settings in force (what a commit costs). */
  storeSettings: string;
  options: LegalOptions;
  packages: PackageResult[];
  phoneLookup: PhoneLookupResult;
  /** 1-minute load average when this store's part began and ended (the machine has `cores` cores). */
  loadAverage: { start: number; end: number; cores: number };
  targetMet: { phoneLookupP99: boolean };
}

const DAY = 86_400_000;
const started = nowMs();
/** Progress on stderr, with seconds since the start, so stdout stays a clean report. */
function log(message: string): void {
  process.stderr.write(`  [${((nowMs() - started) / 1000).toFixed(1)} s] ${message}\n`);
}
const load = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

export async function runLegal(dialect: Dialect, options: LegalOptions = LEGAL_DEFAULTS): Promise<LegalResult> {
  const loadStart = load();
  let packages: PackageResult[];
  let version: string;
  let settings: string;
  const packageStore = await openBenchStore(dialect);
  try {
    version = await storeVersion(packageStore.ctx.store.db, dialect);
    settings = await storeSettings(packageStore.ctx.store.db, dialect);
    packages = await measurePackages(packageStore, options);
  } finally {
    await packageStore.destroy();
  }
  let phoneLookup: PhoneLookupResult;
  const lookupStore = await openBenchStore(dialect);
  try {
    phoneLookup = await measurePhoneLookup(lookupStore, options);
  } finally {
    await lookupStore.destroy();
  }
  return {
    store: dialect,
    storeVersion: version,
    storeSettings: settings,
    options,
    packages,
    phoneLookup,
    loadAverage: { start: loadStart, end: load(), cores: os.cpus().length },
    targetMet: { phoneLookupP99: phoneLookup.targetMet },
  };
}

// ---------------------------------------------------------------- 1. disclosure packages

const ADMIN: Actor = { id: 'bench:admin', role: 'admin' };
const LEGAL_1: Actor = { id: 'bench:legal-1', role: 'legal' };
const LEGAL_2: Actor = { id: 'bench:legal-2', role: 'legal' };

/** The accounts an order names, what was inserted for them, and the approved period. */
interface TargetGroup {
  shape: PackageResult['shape'];
  accounts: string[];
  phones: Map<string, string>;
  /** Per account, the sessions inside the period, oldest first, as the package must hold them. */
  expected: Map<string, SessionRecord[]>;
  sessionsOutside: number;
  from: number;
  to: number;
}

async function measurePackages(bench: BenchStore, options: LegalOptions): Promise<PackageResult[]> {
  const { db } = bench.ctx.store;
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  const authorityId = await createAuthority(db, ADMIN, {
    name: 'Benchmark Police',
    country: 'DE',
    kind: 'police',
    contactEmail: 'legal@police.example',
    publicJwk: { ...(await exportJWK(publicKey)), use: 'enc' } as Record<string, unknown>,
  });
  const authority: Actor = { id: 'bench:authority', role: 'authority', authorityId };
  // The platform's signing key is made once in its life, by its first package: not part of any timing here.
  await currentSigningKey(db, bench.ctx.cipher);

  const now = Date.now();
  const from = now - options.periodDays * DAY;
  const perTarget = Math.max(1, Math.floor(options.packageSessions / options.targets));
  const r = rng(2718);
  const groups = [
    await insertTargets(bench, 'one-target', 1, options.packageSessions, options, from, now, r),
    await insertTargets(bench, 'many-targets', options.targets, perTarget, options, from, now, r),
  ];
  const results: PackageResult[] = [];
  for (const group of groups) {
    results.push(await measureShape(bench, group, authority, privateKey, options));
  }
  return results;
}

/** A distinct, valid German mobile number per target (the authority's country, so the jurisdiction check passes). */
const targetPhone = (k: number) => `+49176${String(10_000_000 + k).slice(-8)}`;

async function insertTargets(
  bench: BenchStore,
  shape: PackageResult['shape'],
  count: number,
  sessionsPerTarget: number,
  options: LegalOptions,
  from: number,
  to: number,
  r: () => number,
): Promise<TargetGroup> {
  const { db } = bench.ctx.store;
  const cipher = bench.ctx.cipher;
  const outsidePerTarget = Math.round(sessionsPerTarget * options.outsideShare);
  const group: TargetGroup = {
    shape,
    accounts: [],
    phones: new Map(),
    expected: new Map(),
    sessionsOutside: 0,
    from,
    to,
  };
  const base = shape === 'one-target' ? 0 : 1000;
  const rows: Parameters<typeof insertSessionRows>[1] = [];
  await db.transaction().execute(async (tx) => {
    for (let k = 0; k < count; k++) {
      const accountId = `${shape}-${String(k).padStart(4, '0')}`;
      const phone = targetPhone(base + k);
      group.accounts.push(accountId);
      group.phones.set(accountId, phone);
      const created = from - 400 * DAY;
      await tx
        .insertInto('accounts')
        .values({
          id: accountId,
          phone_enc: cipher.encrypt(PHONE_FIELD, accountId, phone),
          phone_bidx: cipher.blindIndex(PHONE_FIELD, phone),
          phone_country: 'DE',
          username: `target_${shape}_${k}`,
          country: 'DE',
          created_at: created,
          first_seen_at: created,
          updated_at: created,
        })
        .execute();
      // The confirmed violation the policy requires (illegal_drugs, related to the offence of the orders).
      const decisionId = `dec-${accountId}`;
      await tx
        .insertInto('decisions')
        .values({
          id: decisionId,
          case_id: `case-${accountId}`,
          subject_type: 'account',
          subject_id: accountId,
          account_id: accountId,
          actions: JSON.stringify([{ type: 'suspend_account', days: 30 }]),
          category: 'illegal_drugs',
          ground: 'illegal',
          explanation: 'Offered narcotics for sale.',
          decided_by: 'bench:moderator',
          automation: 'none',
          policy_version: bench.ctx.policy.version,
          statement: null,
          status: 'in_effect',
          created_at: from - DAY,
          reversed_at: null,
          opened_by: 'report',
          restricts: 1,
          removes_content: 0,
        })
        .execute();
      await tx
        .insertInto('violations')
        .values({
          id: `vio-${accountId}`,
          account_id: accountId,
          decision_id: decisionId,
          category: 'illegal_drugs',
          ground: 'illegal',
          status: 'confirmed',
          created_at: from - DAY,
          strike_expires_at: to + 365 * DAY,
          overturned_at: null,
        })
        .execute();

      const inside: SessionRecord[] = [];
      const step = (to - from) / sessionsPerTarget;
      for (let i = 0; i < sessionsPerTarget; i++) {
        const s = session(r, from + Math.floor(i * step));
        inside.push({ ip: s.ip, port: s.port, at: new Date(s.at).toISOString() });
        rows.push({ accountId, ...s });
      }
      // Before the period: the 30 days preceding it.
      for (let i = 0; i < outsidePerTarget; i++) {
        rows.push({ accountId, ...session(r, from - 1 - Math.floor(((i + 1) * 30 * DAY) / (outsidePerTarget + 1))) });
      }
      group.expected.set(accountId, inside);
      group.sessionsOutside += outsidePerTarget;
    }
  });
  await insertSessionRows(bench, rows);
  log(
    `${bench.dialect}: ${shape}: ${count} account(s), ${(count * sessionsPerTarget).toLocaleString('en')} sessions in the period, ${group.sessionsOutside.toLocaleString('en')} before it`,
  );
  return group;
}

/** A random session: public-looking IPv4 three times in four, else IPv6 (documentation prefix), with a port. */
function session(r: () => number, at: number) {
  const n = (bits: number) => Math.floor(r() * 2 ** bits);
  const ip =
    r() < 0.75
      ? `${11 + n(7)}.${n(8)}.${n(8)}.${1 + Math.floor(r() * 254)}`
      : `2001:db8:${(1 + n(15)).toString(16)}:${(1 + n(15)).toString(16)}::${(1 + n(15)).toString(16)}`;
  return { ip, version: ip.includes(':') ? 6 : 4, port: 1024 + n(15), at };
}

async function insertSessionRows(
  bench: BenchStore,
  rows: Array<{ accountId: string; ip: string; version: number; port: number; at: number }>,
): Promise<void> {
  const cipher = bench.ctx.cipher;
  const received = Date.now();
  for (let lo = 0; lo < rows.length; lo += 20_000) {
    const part = rows.slice(lo, lo + 20_000);
    await bench.ctx.store.db.transaction().execute(async (tx) => {
      for (let i = 0; i < part.length; i += 1000) {
        await tx
          .insertInto('sessions')
          .values(
            part.slice(i, i + 1000).map((s) => ({
              id: sessionId(cipher, s.accountId, s.ip, s.port, s.at),
              account_id: s.accountId,
              ip_enc: cipher.encrypt(IP_FIELD, s.accountId, s.ip),
              ip_version: s.version,
              port: s.port,
              at: s.at,
              received_at: received,
            })),
          )
          .execute();
      }
    });
  }
}

function orderFor(group: TargetGroup): LegalOrderInput {
  return {
    type: 'production',
    caseReference: `BENCH-${group.shape}`,
    issuingAuthority: { name: 'Benchmark Police', country: 'DE' },
    legalBasis: '§ 100g StPO',
    courtOrder: {
      reference: 'AG Berlin 1 Gs 1/26',
      issuedBy: 'Amtsgericht Berlin',
      issuedAt: new Date(group.to - DAY).toISOString(),
    },
    offence: { category: 'illegal_drugs', description: 'Sale of narcotics', provisions: '§ 29 BtMG' },
    targets: group.accounts.map((accountId) => ({ accountId })),
    data: ['ip_addresses', 'phone_number'],
    period: { from: new Date(group.from).toISOString(), to: new Date(group.to).toISOString() },
  };
}

/** Files an order and gives it its first approval; answers its id, in review with one approval. */
async function fileAndApproveOnce(bench: BenchStore, authority: Actor, group: TargetGroup): Promise<string> {
  const id = await submitLegalRequest(bench.ctx, authority, orderFor(group));
  const row = await bench.ctx.store.db
    .selectFrom('legal_requests')
    .select(['status'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const included = await bench.ctx.store.db
    .selectFrom('legal_targets')
    .select(['account_id'])
    .where('request_id', '=', id)
    .where('status', '=', 'included')
    .execute();
  if (row.status !== 'in_review' || included.length !== group.accounts.length) {
    throw new Error(
      `the order was not accepted: ${row.status}, ${included.length} of ${group.accounts.length} targets included`,
    );
  }
  await reviewLegalRequest(bench.ctx, LEGAL_1, id, { decision: 'approve' });
  return id;
}

async function measureShape(
  bench: BenchStore,
  group: TargetGroup,
  authority: Actor,
  authorityKey: CryptoKey,
  options: LegalOptions,
): Promise<PackageResult> {
  const { db } = bench.ctx.store;
  const cipher = bench.ctx.cipher;
  const sessions = [...group.expected.values()].reduce((n, s) => n + s.length, 0);
  const verified = { packages: 0, ipAddresses: 0, phoneNumbers: 0 };
  const check = async (id: string, exact: boolean) => {
    const opened = await openPackage(db, id, authorityKey);
    const payload = opened.payload;
    const ips = payload.targets.reduce((n, t) => n + (t.ipAddresses?.length ?? 0), 0);
    const phones = payload.targets.filter((t) => t.phoneNumber).length;
    if (ips !== sessions || phones !== group.accounts.length || payload.targets.length !== group.accounts.length) {
      throw new Error(
        `${group.shape}: the package holds ${ips} IP addresses and ${phones} phone numbers of ${payload.targets.length} targets; ` +
          `${sessions} sessions and ${group.accounts.length} numbers were inserted in the period`,
      );
    }
    if (exact) {
      for (const t of payload.targets) {
        const want = group.expected.get(t.accountId);
        if (t.phoneNumber !== group.phones.get(t.accountId)) throw new Error(`wrong phone number for ${t.accountId}`);
        if (JSON.stringify(t.ipAddresses) !== JSON.stringify(want)) {
          throw new Error(`${group.shape}: the IP addresses of ${t.accountId} differ from those inserted`);
        }
      }
    }
    verified.packages++;
    verified.ipAddresses += ips;
    verified.phoneNumbers += phones;
    return opened;
  };

  // The first order goes the whole way: its second approval builds the package.
  const first = await fileAndApproveOnce(bench, authority, group);
  const t0 = nowMs();
  await reviewLegalRequest(bench.ctx, LEGAL_2, first, { decision: 'approve' });
  const secondApprovalMs = nowMs() - t0;
  const status = await db.selectFrom('legal_requests').select(['status']).where('id', '=', first).executeTakeFirst();
  if (status?.status !== 'disclosed')
    throw new Error(`${group.shape}: the second approval left the order ${status?.status}`);
  const firstOpened = await check(first, true);

  const baseline = async () => {
    let n = 0;
    for (const accountId of group.accounts) {
      n += (await sessionsInPeriod(db, cipher, accountId, group.from, group.to)).length;
    }
    if (n !== sessions) throw new Error(`${group.shape}: sessionsInPeriod found ${n} sessions, not ${sessions}`);
  };
  const signing = await currentSigningKey(db, cipher);
  const authorityRow = await db
    .selectFrom('authorities')
    .select(['public_jwk'])
    .where('id', '=', authority.authorityId!)
    .executeTakeFirstOrThrow();
  const authorityJwk = JSON.parse(authorityRow.public_jwk) as JWK;
  const seal = async (payload: DisclosurePayload) => {
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: SIGNING_ALG, kid: signing.kid, typ: 'JWS', cty: PAYLOAD_TYPE })
      .sign(signing.privateKey);
    return new CompactEncrypt(new TextEncoder().encode(jws))
      .setProtectedHeader({ alg: PACKAGE_KEY_ALG, enc: PACKAGE_ENC, cty: 'JWS' })
      .encrypt(await importAuthorityKey(authorityJwk));
  };
  const packageMs: number[] = [];
  const baselineMs: number[] = [];
  const sealMs: number[] = [];
  for (let rep = 0; rep < options.repetitions; rep++) {
    const id = await fileAndApproveOnce(bench, authority, group);
    // What the second approval's transaction writes; the package is then built by produceDisclosure alone.
    const decidedAt = Date.now();
    await db
      .updateTable('legal_requests')
      .set({ status: 'approved', decided_at: decidedAt, updated_at: decidedAt })
      .where('id', '=', id)
      .execute();
    const timePackage = async () => {
      const start = nowMs();
      const built = await produceDisclosure(bench.ctx, id);
      packageMs.push(nowMs() - start);
      if (!built) throw new Error(`${group.shape}: produceDisclosure built no package for ${id}`);
    };
    const timeBaseline = async () => {
      const start = nowMs();
      await baseline();
      baselineMs.push(nowMs() - start);
    };
    // Alternate which goes first, so neither always meets pages the other just read.
    if (rep % 2 === 0) {
      await timePackage();
      await timeBaseline();
    } else {
      await timeBaseline();
      await timePackage();
    }
    const opened = await check(id, false);
    const start = nowMs();
    await seal(opened.payload);
    sealMs.push(nowMs() - start);
  }
  const pkg = await db
    .selectFrom('disclosure_packages')
    .select(['jwe', 'records', 'targets'])
    .where('request_id', '=', first)
    .executeTakeFirstOrThrow();
  if (Number(pkg.records) !== sessions + group.accounts.length || Number(pkg.targets) !== group.accounts.length) {
    throw new Error(`${group.shape}: the package row counts ${pkg.records} records of ${pkg.targets} targets`);
  }
  const round = (v: number) => Math.round(v * 10) / 10;
  const packageMedian = median(packageMs);
  const baselineMedian = median(baselineMs);
  log(
    `${bench.dialect}: ${group.shape}: package ${round(packageMedian)} ms, sessionsInPeriod ${round(baselineMedian)} ms`,
  );
  return {
    shape: group.shape,
    targets: group.accounts.length,
    sessionsPerTarget: Math.round(sessions / group.accounts.length),
    sessions,
    sessionsOutside: group.sessionsOutside,
    packageMs: { median: round(packageMedian), samples: packageMs.map(round) },
    baselineMs: { median: round(baselineMedian), samples: baselineMs.map(round) },
    sealMs: { median: round(median(sealMs)), samples: sealMs.map(round) },
    ratio: Math.round((packageMedian / baselineMedian) * 100) / 100,
    sessionsPerSecond: Math.round(sessions / (packageMedian / 1000)),
    packageBytes: Buffer.byteLength(pkg.jwe),
    payloadBytes: firstOpened.payloadBytes,
    secondApprovalMs: round(secondApprovalMs),
    verified,
  };
}

/** Opens a package as the authority would: decrypts it with its private key, verifies the platform's signature. */
async function openPackage(db: Db, id: string, authorityKey: CryptoKey) {
  const row = await db
    .selectFrom('disclosure_packages')
    .select(['jwe'])
    .where('request_id', '=', id)
    .executeTakeFirstOrThrow();
  const { plaintext } = await compactDecrypt(row.jwe, authorityKey);
  const keys = createLocalJWKSet(await publishedSigningKeys(db));
  const { payload } = await compactVerify(new TextDecoder().decode(plaintext), keys);
  const parsed = JSON.parse(new TextDecoder().decode(payload)) as DisclosurePayload;
  if (parsed.requestId !== id) throw new Error(`package of ${id} names ${parsed.requestId}`);
  return { payload: parsed, payloadBytes: payload.length };
}

// ---------------------------------------------------------------- 2. candidate lookup by phone

/** Valid mobile ranges (libphonenumber accepts every number in them): Germany, France, Poland. */
const DE_PREFIXES = ['+49151', '+49152', '+49157', '+49160', '+49162', '+49170', '+49171', '+49175', '+49176'];
const FR_PREFIXES = ['+3360', '+3361', '+3362', '+3364', '+3365', '+3366', '+3367', '+3368'];
const PL_PREFIXES = ['+4850', '+4851', '+4853', '+4857', '+4860', '+4866', '+4872', '+4878'];

const accountId = (n: number) => `u${String(n).padStart(9, '0')}`;

/**
 * Account n's number: six in ten German, two French, two Polish. Within a country
 * the subscriber digits are a permutation of the account's rank there (so no two
 * accounts share a number) and the range follows from both, so consecutive
 * accounts get unrelated numbers.
 */
function phoneOf(n: number): { e164: string; country: string } {
  const group = n % 10;
  const q = Math.floor(n / 10) * (group < 6 ? 6 : 2) + (group < 6 ? group : (group - 6) % 2);
  if (group < 6) {
    const digits = 8;
    const r = q % 10 ** digits;
    const prefix = DE_PREFIXES[(Math.floor(q / 10 ** digits) + r) % DE_PREFIXES.length]!;
    return { e164: prefix + String((r * 48_271 + 1_234_567) % 10 ** digits).padStart(digits, '0'), country: 'DE' };
  }
  const [prefixes, country] = group < 8 ? [FR_PREFIXES, 'FR'] : [PL_PREFIXES, 'PL'];
  const digits = 7;
  const r = q % 10 ** digits;
  const prefix = prefixes[(Math.floor(q / 10 ** digits) + r) % prefixes.length]!;
  return { e164: prefix + String((r * 48_271 + 765_432) % 10 ** digits).padStart(digits, '0'), country };
}

type LookupMethod = 'select1' | 'findAccountsByPhone' | 'prepare';
const LOOKUP_METHODS: readonly LookupMethod[] = ['select1', 'findAccountsByPhone', 'prepare'];

async function measurePhoneLookup(bench: BenchStore, options: LegalOptions): Promise<PhoneLookupResult> {
  const cipher = bench.ctx.cipher;
  const r = rng(31337);
  const count = Math.min(options.accounts, options.lookups + options.warmup);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(r() * options.accounts));
  const picks = [...chosen];
  // Numbers that would not parse would make the lookup answer nothing, and time nothing.
  for (const n of [...picks, ...Array.from({ length: 1000 }, () => Math.floor(r() * options.accounts))]) {
    const p = phoneOf(n);
    const parsed = normalisePhone(p.e164);
    if (parsed?.e164 !== p.e164 || parsed.country !== p.country) {
      throw new Error(`generated number ${p.e164} of account ${n} is not a valid ${p.country} number`);
    }
  }
  // The numbers looked up get real ciphertexts; the others one of the same length per country, never read.
  const real = new Map(picks.map((n) => [n, cipher.encrypt(PHONE_FIELD, accountId(n), phoneOf(n).e164)]));
  const fillers: Record<string, Buffer> = {
    DE: cipher.encrypt(PHONE_FIELD, 'filler', '+4915100000000'),
    FR: cipher.encrypt(PHONE_FIELD, 'filler', '+33600000000'),
    PL: cipher.encrypt(PHONE_FIELD, 'filler', '+48500000000'),
  };
  const fill: Fill = { accounts: options.accounts, cipher, real, fillers, now: Date.now() };

  const t0 = nowMs();
  if (bench.dialect === 'sqlite') {
    await bench.reopen(() => fillAccountsSqlite(bench.sqliteFile as string, fill));
  } else {
    await fillAccountsPostgres(bench.schema as string, fill);
  }
  const fillSeconds = Math.round((nowMs() - t0) / 100) / 10;
  log(`${bench.dialect}: ${options.accounts.toLocaleString('en')} accounts loaded in ${fillSeconds} s; looking up`);

  const { db } = bench.ctx.store;
  const plan = await explain(db, bench.dialect, cipher.blindIndex(PHONE_FIELD, phoneOf(picks[0]!).e164));
  const run: Record<LookupMethod, (n: number) => Promise<void>> = {
    select1: async () => {
      await sql`select 1`.execute(db);
    },
    findAccountsByPhone: async (n) => {
      const found = await findAccountsByPhone(db, cipher, phoneOf(n).e164);
      if (found.length !== 1 || found[0]!.id !== accountId(n)) {
        throw new Error(
          `findAccountsByPhone found ${found.map((a) => a.id).join(', ') || 'nothing'} for ${accountId(n)}`,
        );
      }
    },
    prepare: async (n) => {
      const parsed = normalisePhone(phoneOf(n).e164);
      if (!parsed) throw new Error(`account ${n}: number does not parse`);
      cipher.blindIndex(PHONE_FIELD, parsed.e164);
    },
  };
  const timings: Record<LookupMethod, number[]> = { select1: [], findAccountsByPhone: [], prepare: [] };
  for (let i = 0; i < picks.length; i++) {
    const n = picks[i]!;
    const timed = i >= picks.length - options.lookups;
    for (let k = 0; k < LOOKUP_METHODS.length; k++) {
      const method = LOOKUP_METHODS[(i + k) % LOOKUP_METHODS.length]!;
      const start = nowMs();
      await run[method](n);
      if (timed) timings[method].push(nowMs() - start);
    }
  }
  // The rows found are the accounts filled for them: their number decrypts (bound to the account id).
  for (const n of picks.slice(0, 20)) {
    const row = await db.selectFrom('accounts').select(['phone_enc']).where('id', '=', accountId(n)).executeTakeFirst();
    if (!row?.phone_enc || cipher.decrypt(PHONE_FIELD, accountId(n), row.phone_enc) !== phoneOf(n).e164) {
      throw new Error(`account ${accountId(n)} does not hold its number`);
    }
  }
  const latencyMs = {
    select1: latency(timings.select1),
    findAccountsByPhone: latency(timings.findAccountsByPhone),
    prepare: latency(timings.prepare),
  };
  const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
  return {
    accounts: options.accounts,
    fillSeconds,
    storeBytes: await accountsBytes(bench),
    plan,
    latencyMs,
    ratio: {
      p50: ratio(latencyMs.findAccountsByPhone.p50, latencyMs.select1.p50),
      p99: ratio(latencyMs.findAccountsByPhone.p99, latencyMs.select1.p99),
    },
    targetMet: latencyMs.findAccountsByPhone.p99 <= LEGAL_TARGET.phoneLookupP99Ms,
  };
}

async function explain(db: Db, dialect: Dialect, bidx: string): Promise<string> {
  const query = sql`select * from accounts where phone_bidx = ${bidx}`;
  const explained = dialect === 'sqlite' ? sql`explain query plan ${query}` : sql`explain ${query}`;
  const { rows } = await explained.execute(db);
  const first = rows[0] as Record<string, unknown> | undefined;
  return String(first?.detail ?? first?.['QUERY PLAN'] ?? JSON.stringify(first))
    .replace(/\s*\(cost=.*\)$/, '')
    .trim();
}

async function accountsBytes(bench: BenchStore): Promise<number> {
  if (bench.dialect === 'sqlite') return fs.statSync(bench.sqliteFile as string).size;
  const { rows } = await sql<{ n: string | number }>`select pg_total_relation_size('accounts') as n`.execute(
    bench.ctx.store.db,
  );
  return Number(rows[0]?.n ?? 0);
}

interface Fill {
  accounts: number;
  cipher: PersonalDataCipher;
  /** Real ciphertexts of the numbers looked up, by account number. */
  real: Map<number, Buffer>;
  fillers: Record<string, Buffer>;
  now: number;
}

/** One account row's values; the blind index is the real one, computed here. */
function accountRow(fill: Fill, n: number) {
  const phone = phoneOf(n);
  return {
    id: accountId(n),
    enc: fill.real.get(n) ?? (fill.fillers[phone.country] as Buffer),
    bidx: fill.cipher.blindIndex(PHONE_FIELD, phone.e164),
    country: phone.country,
    username: `user${n}`,
    created: fill.now - 1000 * DAY + (n % 900) * DAY,
  };
}

const FILL_BATCH = 100_000;

/**
 * SQLite: rows generated here and inserted through one prepared statement on a raw
 * better-sqlite3 handle while the store is closed, journal and fsync off, in
 * transactions of 100,000. Ids ascend, so the primary key takes appends; the other
 * indexes (the blind index's among them) are dropped and rebuilt from their own
 * definitions afterwards.
 */
function fillAccountsSqlite(file: string, fill: Fill): void {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1000000');
    db.pragma('temp_store = MEMORY');
    const indexes = db
      .prepare("select name, sql from sqlite_master where type = 'index' and tbl_name = 'accounts' and sql is not null")
      .all() as { name: string; sql: string }[];
    for (const i of indexes) db.exec(`drop index "${i.name}"`);
    const insert = db.prepare(
      `insert into accounts (id, phone_enc, phone_bidx, phone_country, username, country, created_at, first_seen_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const batch = db.transaction((lo: number, hi: number) => {
      for (let n = lo; n < hi; n++) {
        const a = accountRow(fill, n);
        insert.run(a.id, a.enc, a.bidx, a.country, a.username, a.country, a.created, a.created, a.created);
      }
    });
    for (let lo = 0; lo < fill.accounts; lo += FILL_BATCH) {
      const hi = Math.min(fill.accounts, lo + FILL_BATCH);
      batch(lo, hi);
      if (hi % 1_000_000 === 0 && hi < fill.accounts) log(`sqlite: ${hi.toLocaleString('en')} accounts`);
    }
    log('sqlite: rebuilding the indexes of accounts');
    for (const i of indexes) db.exec(i.sql);
  } finally {
    db.pragma('journal_mode = WAL');
    db.close();
  }
}

/**
 * PostgreSQL: rows generated here and sent 25,000 at a time as arrays (`insert …
 * select … from unnest(…)`), the next batch computed while the server stores the
 * last. The primary key and indexes are dropped first and rebuilt from their own
 * definitions, then the table is vacuumed and analysed, as autovacuum would.
 */
async function fillAccountsPostgres(schema: string, fill: Fill): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query(`set maintenance_work_mem = '512MB'`);
    const rebuildIndexes = await dropPostgresIndexes(client, schema, 'accounts');

    const text = `insert into accounts (id, phone_enc, phone_bidx, phone_country, username, country, created_at, first_seen_at, updated_at)
      select v.id, coalesce(v.enc, case v.country when 'DE' then $7::bytea when 'FR' then $8::bytea else $9::bytea end),
             v.bidx, v.country, v.username, v.country, v.created, v.created, v.created
        from unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::bigint[])
             as v(id, enc, bidx, country, username, created)`;
    const batchSize = 25_000;
    let pending: Promise<unknown> | undefined;
    for (let lo = 0; lo < fill.accounts; lo += batchSize) {
      const hi = Math.min(fill.accounts, lo + batchSize);
      const cols = { id: [] as string[], enc: [] as (Buffer | null)[], bidx: [] as string[], country: [] as string[] };
      const more = { username: [] as string[], created: [] as number[] };
      for (let n = lo; n < hi; n++) {
        const a = accountRow(fill, n);
        cols.id.push(a.id);
        cols.enc.push(fill.real.get(n) ?? null);
        cols.bidx.push(a.bidx);
        cols.country.push(a.country);
        more.username.push(a.username);
        more.created.push(a.created);
      }
      await pending;
      pending = client.query(text, [
        cols.id,
        cols.enc,
        cols.bidx,
        cols.country,
        more.username,
        more.created,
        fill.fillers.DE,
        fill.fillers.FR,
        fill.fillers.PL,
      ]);
      if (hi % 1_000_000 === 0 && hi < fill.accounts) log(`postgres: ${hi.toLocaleString('en')} accounts`);
    }
    await pending;
    log('postgres: rebuilding the primary key and indexes of accounts');
    await rebuildIndexes();
    log('postgres: vacuum analyze');
    await client.query('vacuum analyze accounts');
  } finally {
    await client.end();
  }
}
