import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import type { Actor } from '../src/audit/actor.js';
import { readPersonalData } from '../src/accounts/personal-data.js';
import { PHONE_FIELD } from '../src/accounts/service.js';
import type { PersonalDataCipher } from '../src/crypto/personal-data-cipher.js';
import type { Db, Dialect } from '../src/db/database.js';
import { IP_FIELD, sessionsInPeriod } from '../src/sessions/service.js';
import {
  BENCH_PG_URL,
  type BenchStore,
  dropPostgresIndexes,
  openBenchStore,
  storeSettings,
  storeVersion,
} from './store.js';
import { type Latency, latency, nowMs, rng } from './stats.js';

/**
 * One account's sessions in a 30-day period, from a table of millions of
 * sessions (the disclosure lookup). The table is filled in bulk, bypassing the
 * service, then queried at random accounts and periods four ways, interleaved:
 * - select1: a trivial round trip (the floor of any query);
 * - query: the same indexed query as `sessionsInPeriod`, rows returned raw;
 * - sessionsInPeriod: the service function, which decrypts every IP;
 * - readPersonalData: what the API does, in a transaction with the audit entry.
 */

export interface LookupOptions {
  /** Rows in `sessions`. */
  sessions: number;
  sessionsPerAccount: number;
  /** Timed lookups per method. */
  lookups: number;
  /** Untimed lookups first, at other accounts. */
  warmup: number;
  periodDays: number;
}

export const LOOKUP_DEFAULTS: LookupOptions = {
  sessions: 10_000_000,
  sessionsPerAccount: 10,
  lookups: 2000,
  warmup: 200,
  periodDays: 30,
};

export const LOOKUP_TARGET = { p99Ms: 10 };

type Method = 'select1' | 'query' | 'sessionsInPeriod' | 'readPersonalData';
const METHODS: readonly Method[] = ['select1', 'query', 'sessionsInPeriod', 'readPersonalData'];

export interface LookupResult {
  store: Dialect;
  storeVersion: string;
  /** Journal and sync settings in force (what a commit costs). */
  storeSettings: string;
  options: LookupOptions;
  accounts: number;
  rows: number;
  fillSeconds: number;
  /** Size of the sessions table with its indexes (PostgreSQL) or of the database file (SQLite). */
  storeBytes: number;
  /** The plan of the lookup query, as the store explains it. */
  plan: string;
  meanRowsReturned: number;
  latencyMs: Record<Method, Latency>;
  targetMet: { sessionsInPeriod: boolean; readPersonalData: boolean };
}

const DAY_MS = 86_400_000;
const FILL_CHUNK = 1_000_000;

/**
 * Where the rows go. Row g belongs to account g mod A and happened at
 * start + g * step, so the table is in time order (as ingest writes it) and each
 * account's sessions are spread evenly over the year, one every ~36 days.
 */
interface Layout {
  accounts: number;
  rows: number;
  start: number;
  step: number;
  spanMs: number;
}

function layoutFor(options: LookupOptions, now: number): Layout {
  const accounts = Math.max(1, Math.floor(options.sessions / options.sessionsPerAccount));
  const rows = accounts * options.sessionsPerAccount;
  // 360 days, starting 362 days ago: inside the 365-day retention window.
  const spanMs = 360 * DAY_MS;
  return { accounts, rows, start: now - 362 * DAY_MS, step: spanMs / rows, spanMs };
}

const accountId = (a: number) => `u${String(a).padStart(9, '0')}`;
/** Each account looked up logs in from one address of its own, so one ciphertext decrypts all its rows. */
const accountIp = (a: number) => `${10 + ((a >>> 16) % 200)}.${(a >>> 8) & 255}.${a & 255}.${1 + (a % 250)}`;
const PHONE = '+4915112345678';

interface Lookup {
  account: number;
  accountId: string;
  ip: string;
  from: number;
  to: number;
}

function pickLookups(layout: Layout, options: LookupOptions): Lookup[] {
  const r = rng(4242);
  const count = Math.min(layout.accounts, options.lookups + options.warmup);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(r() * layout.accounts));
  const periodMs = options.periodDays * DAY_MS;
  return [...chosen].map((a) => {
    const from = layout.start + Math.floor(r() * (layout.spanMs - periodMs));
    return { account: a, accountId: accountId(a), ip: accountIp(a), from, to: from + periodMs };
  });
}

/**
 * An authority and one approved production order whose included targets are the
 * accounts looked up and whose period spans the layout, written directly (the checks
 * are not what is measured), so `readPersonalData` passes its order check.
 */
async function seedLookupOrder(db: Db, cipher: PersonalDataCipher, layout: Layout, lookups: Lookup[]): Promise<string> {
  const now = Date.now();
  const authorityId = 'auth_bench';
  const orderId = 'lr_bench';
  await db
    .insertInto('authorities')
    .values({
      id: authorityId,
      name: 'Bench police',
      country: 'DE',
      kind: 'police',
      contact_email: 'bench@example.org',
      public_jwk: '{}',
      status: 'active',
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('legal_requests')
    .values({
      id: orderId,
      authority_id: authorityId,
      type: 'production',
      status: 'approved',
      case_reference: 'BENCH-1',
      legal_basis: 'bench',
      issuing_authority: JSON.stringify({ name: 'Bench police', country: 'DE' }),
      court_order: JSON.stringify({ reference: 'bench', issuedBy: 'bench', issuedAt: new Date(now).toISOString() }),
      document_sha256: null,
      document_size: null,
      offence_category: 'illegal_drugs',
      offence: JSON.stringify({ description: 'bench', provisions: 'bench' }),
      data_categories: JSON.stringify(['ip_addresses', 'phone_number']),
      period_from: layout.start,
      period_to: layout.start + layout.spanMs,
      requested: '{}',
      non_disclosure_until: null,
      emergency_justification: null,
      preservation_request_id: null,
      extra_review: 0,
      policy_version: 'bench',
      round: 1,
      received_at: now,
      due_at: now + DAY_MS,
      decided_at: now,
      disclosed_at: null,
      second_approval_owed: 0,
      preserved_until: null,
      preservation_extended: 0,
      consumed_by: null,
      deadline_warned_at: null,
      overdue_warned_at: null,
      updated_at: now,
    })
    .execute();
  const targets = lookups.map((l, i) => ({
    id: `lrt_bench_${i}`,
    request_id: orderId,
    position: i,
    kind: 'accountId',
    given_enc: cipher.encrypt('legal_targets.given', `lrt_bench_${i}`, l.accountId),
    account_id: l.accountId,
    status: 'included',
    reasons: '[]',
    notice_due_at: null,
    notified_at: null,
  }));
  for (let i = 0; i < targets.length; i += 500) {
    await db
      .insertInto('legal_targets')
      .values(targets.slice(i, i + 500))
      .execute();
  }
  return orderId;
}

const started = nowMs();
/** Progress on stderr, with seconds since the start, so stdout stays a clean report. */
function log(message: string): void {
  process.stderr.write(`  [${((nowMs() - started) / 1000).toFixed(1)} s] ${message}\n`);
}

export async function runLookup(dialect: Dialect, options: LookupOptions = LOOKUP_DEFAULTS): Promise<LookupResult> {
  const bench = await openBenchStore(dialect);
  try {
    return await measure(bench, options);
  } finally {
    await bench.destroy();
  }
}

async function measure(bench: BenchStore, options: LookupOptions): Promise<LookupResult> {
  const layout = layoutFor(options, Date.now());
  const lookups = pickLookups(layout, options);
  const cipher = bench.ctx.cipher;

  const t0 = nowMs();
  // Real ciphertexts for the accounts looked up (every row of theirs must decrypt);
  // the other rows carry a ciphertext of the same shape that is never read.
  const looked: LookedUp[] = lookups.map((l) => ({
    account: l.account,
    ipEnc: cipher.encrypt(IP_FIELD, l.accountId, l.ip),
    phoneEnc: cipher.encrypt(PHONE_FIELD, l.accountId, PHONE),
    phoneBidx: cipher.blindIndex(PHONE_FIELD, PHONE),
  }));
  const filler = cipher.encrypt(IP_FIELD, 'filler', '203.0.113.77');
  if (bench.dialect === 'sqlite') {
    await bench.reopen(() => fillSqlite(bench.sqliteFile as string, layout, looked, filler));
  } else {
    await fillPostgres(bench.schema as string, layout, looked, filler);
  }
  const fillSeconds = Math.round((nowMs() - t0) / 100) / 10;
  log(`${bench.dialect}: ${layout.rows.toLocaleString('en')} sessions loaded in ${fillSeconds} s; looking up`);

  const { db } = bench.ctx.store;
  const probe = lookups[0] as Lookup;
  const plan = await explain(db, bench.dialect, probe);
  const actor: Actor = { id: 'bench:lookup', role: 'legal' };
  // A read needs an order naming the account: one approved order covering the whole layout.
  const orderId = await seedLookupOrder(db, cipher, layout, lookups);

  const run: Record<Method, (l: Lookup) => Promise<number>> = {
    select1: async () => {
      await sql`select 1`.execute(db);
      return 0;
    },
    query: async (l) => (await rawQuery(db, l)).length,
    sessionsInPeriod: async (l) => {
      const sessions = await sessionsInPeriod(db, cipher, l.accountId, l.from, l.to);
      if (sessions.some((s) => s.ip !== l.ip)) throw new Error(`wrong IP decrypted for ${l.accountId}`);
      return sessions.length;
    },
    readPersonalData: async (l) => {
      const request = { accountId: l.accountId, orderId, from: l.from, to: l.to, purpose: 'benchmark' };
      const view = await readPersonalData(db, cipher, actor, request);
      if (view.phoneNumber !== PHONE) throw new Error(`wrong phone decrypted for ${l.accountId}`);
      return view.sessions.length;
    },
  };

  const timings: Record<Method, number[]> = { select1: [], query: [], sessionsInPeriod: [], readPersonalData: [] };
  let rowsReturned = 0;
  for (let i = 0; i < lookups.length; i++) {
    const l = lookups[i] as Lookup;
    const timed = i >= lookups.length - options.lookups;
    const counts: number[] = [];
    // Rotate the order: the first method to touch an account's pages pays for bringing them in.
    for (let k = 0; k < METHODS.length; k++) {
      const method = METHODS[(i + k) % METHODS.length] as Method;
      const start = nowMs();
      const n = await run[method](l);
      const ms = nowMs() - start;
      if (timed) timings[method].push(ms);
      if (method !== 'select1') counts.push(n);
    }
    if (new Set(counts).size !== 1) throw new Error(`methods disagree on ${l.accountId}: ${counts.join(', ')}`);
    if (timed) rowsReturned += counts[0] as number;
  }

  const latencyMs = {
    select1: latency(timings.select1),
    query: latency(timings.query),
    sessionsInPeriod: latency(timings.sessionsInPeriod),
    readPersonalData: latency(timings.readPersonalData),
  };
  return {
    store: bench.dialect,
    storeVersion: await storeVersion(db, bench.dialect),
    storeSettings: await storeSettings(db, bench.dialect),
    options,
    accounts: layout.accounts,
    rows: layout.rows,
    fillSeconds,
    storeBytes: await storeBytes(bench),
    plan,
    meanRowsReturned: Math.round((rowsReturned / timings.query.length) * 100) / 100,
    latencyMs,
    targetMet: {
      sessionsInPeriod: latencyMs.sessionsInPeriod.p99 <= LOOKUP_TARGET.p99Ms,
      readPersonalData: latencyMs.readPersonalData.p99 <= LOOKUP_TARGET.p99Ms,
    },
  };
}

/** The query of `sessionsInPeriod`, without the decryption. */
function rawQuery(db: Db, l: Lookup) {
  return db
    .selectFrom('sessions')
    .select(['ip_enc', 'port', 'at'])
    .where('account_id', '=', l.accountId)
    .where('at', '>=', l.from)
    .where('at', '<', l.to)
    .orderBy('at')
    .execute();
}

async function explain(db: Db, dialect: Dialect, l: Lookup): Promise<string> {
  const query = sql`select ip_enc, port, at from sessions where account_id = ${l.accountId} and at >= ${l.from} and at < ${l.to} order by at`;
  const explained = dialect === 'sqlite' ? sql`explain query plan ${query}` : sql`explain ${query}`;
  const { rows } = await explained.execute(db);
  // The top line says which index serves the query; costs and literals would only make diffs noisy.
  const first = rows[0] as Record<string, unknown> | undefined;
  return String(first?.detail ?? first?.['QUERY PLAN'] ?? JSON.stringify(first))
    .replace(/\s*\(cost=.*\)$/, '')
    .trim();
}

async function storeBytes(bench: BenchStore): Promise<number> {
  if (bench.dialect === 'sqlite') return fs.statSync(bench.sqliteFile as string).size;
  const { rows } = await sql<{ n: string | number }>`select pg_total_relation_size('sessions') as n`.execute(
    bench.ctx.store.db,
  );
  return Number(rows[0]?.n ?? 0);
}

/** An account that will be looked up, with its real ciphertexts. */
interface LookedUp {
  account: number;
  ipEnc: Buffer;
  phoneEnc: Buffer;
  phoneBidx: string;
}

/**
 * SQLite: the rows are generated inside SQLite (a recursive CTE) on a raw
 * better-sqlite3 handle, journal and fsync off for the load (the store is
 * closed meanwhile). Rows arrive in time order, so the primary key (ordered
 * ids here) and the `at` index take appends; the (account, at) index is dropped
 * and rebuilt afterwards from its own definition.
 */
function fillSqlite(file: string, layout: Layout, looked: LookedUp[], filler: Buffer): void {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1000000');
    db.pragma('temp_store = MEMORY');
    const indexes = db
      .prepare("select name, sql from sqlite_master where type = 'index' and tbl_name = 'sessions' and sql is not null")
      .all() as { name: string; sql: string }[];
    const rebuild = indexes.filter((i) => i.name !== 'sessions_at');
    for (const i of rebuild) db.exec(`drop index "${i.name}"`);

    log('sqlite: inserting accounts');
    const series = 'with recursive g(n) as (select @lo union all select n + 1 from g where n < @hi - 1)';
    db.prepare(
      `insert into accounts (id, country, first_seen_at, updated_at)
       ${series}
       select printf('u%09d', n), case n % 3 when 0 then 'DE' when 1 then 'FR' else 'PL' end, @now, @now from g`,
    ).run({ lo: 0, hi: layout.accounts, now: Date.now() });
    db.exec('create temp table bench_ip (a integer primary key, ip_enc blob not null)');
    const setPhone = db.prepare("update accounts set phone_enc = ?, phone_bidx = ?, phone_country = 'DE' where id = ?");
    const insertIp = db.prepare('insert into bench_ip (a, ip_enc) values (?, ?)');
    db.transaction(() => {
      for (const l of looked) {
        setPhone.run(l.phoneEnc, l.phoneBidx, accountId(l.account));
        insertIp.run(l.account, l.ipEnc);
      }
    })();

    log('sqlite: inserting sessions');
    const insertSessions = db.prepare(
      `insert into sessions (id, account_id, ip_enc, ip_version, port, at, received_at)
       ${series}
       select printf('%032x', n), printf('u%09d', n % @accounts), coalesce(b.ip_enc, @filler), 4, 1024 + n % 60000,
              @start + cast(n * @step as integer), @start + cast(n * @step as integer) + 1000
         from g left join bench_ip b on b.a = n % @accounts`,
    );
    for (let lo = 0; lo < layout.rows; lo += FILL_CHUNK) {
      const hi = Math.min(layout.rows, lo + FILL_CHUNK);
      insertSessions.run({ lo, hi, accounts: layout.accounts, start: layout.start, step: layout.step, filler });
      if (hi % (2 * FILL_CHUNK) === 0 && hi < layout.rows) log(`sqlite: ${hi.toLocaleString('en')} rows`);
    }
    db.exec('drop table bench_ip');
    log('sqlite: rebuilding the (account_id, at) index');
    for (const i of rebuild) db.exec(i.sql);
  } finally {
    db.pragma('journal_mode = WAL');
    db.close();
  }
}

/**
 * PostgreSQL: the rows are generated by the server (`insert … select … from
 * generate_series`). The table's indexes and primary key are dropped first and
 * rebuilt from their own definitions, then the table is vacuumed and analysed,
 * as autovacuum would after a load.
 */
async function fillPostgres(schema: string, layout: Layout, looked: LookedUp[], filler: Buffer): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query(`set maintenance_work_mem = '512MB'`);
    const rebuildIndexes = await dropPostgresIndexes(client, schema, 'sessions');

    log('postgres: inserting accounts');
    await client.query(
      `insert into accounts (id, country, first_seen_at, updated_at)
       select 'u' || lpad(g::text, 9, '0'), (array['DE', 'FR', 'PL'])[1 + g % 3], $2, $2
         from generate_series(0, $1::bigint - 1) g`,
      [layout.accounts, Date.now()],
    );
    await client.query(
      `update accounts set phone_enc = v.enc, phone_bidx = v.bidx, phone_country = 'DE'
         from unnest($1::text[], $2::bytea[], $3::text[]) as v(id, enc, bidx) where accounts.id = v.id`,
      [looked.map((l) => accountId(l.account)), looked.map((l) => l.phoneEnc), looked.map((l) => l.phoneBidx)],
    );
    await client.query('create temp table bench_ip (a bigint primary key, ip_enc bytea not null)');
    await client.query('insert into bench_ip select * from unnest($1::bigint[], $2::bytea[])', [
      looked.map((l) => l.account),
      looked.map((l) => l.ipEnc),
    ]);
    await client.query('analyze bench_ip');

    log('postgres: inserting sessions');
    const chunk = 2 * FILL_CHUNK;
    for (let lo = 0; lo < layout.rows; lo += chunk) {
      const hi = Math.min(layout.rows, lo + chunk);
      await client.query(
        `insert into sessions (id, account_id, ip_enc, ip_version, port, at, received_at)
         select lpad(to_hex(g), 32, '0'), 'u' || lpad((g % $3)::text, 9, '0'), coalesce(b.ip_enc, $6), 4,
                1024 + g % 60000, $4::bigint + floor(g * $5::float8)::bigint, $4::bigint + floor(g * $5::float8)::bigint + 1000
           from generate_series($1::bigint, $2::bigint - 1) g
           left join bench_ip b on b.a = g % $3`,
        [lo, hi, layout.accounts, layout.start, layout.step, filler],
      );
      if (hi < layout.rows) log(`postgres: ${hi.toLocaleString('en')} rows`);
    }
    log('postgres: rebuilding the primary key and indexes');
    await rebuildIndexes();
    log('postgres: vacuum analyze');
    await client.query('vacuum analyze sessions');
    await client.query('vacuum analyze accounts');
  } finally {
    await client.end();
  }
}
