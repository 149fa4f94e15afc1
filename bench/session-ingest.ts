import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.js';
import type { Actor } from '../src/audit/actor.js';
import { ingestAccounts } from '../src/accounts/service.js';
import { chunks } from '../src/db/chunks.js';
import type { Db, Dialect } from '../src/db/database.js';
import type { SessionTable } from '../src/db/schema.js';
import { createToken } from '../src/identity/tokens.js';
import { normaliseIp } from '../src/sessions/ip.js';
import { IP_FIELD, type SessionInput, ingestSessions, sessionId } from '../src/sessions/service.js';
import type { PersonalDataCipher } from '../src/crypto/personal-data-cipher.js';
import { type BenchStore, openBenchStore, storeSettings, storeVersion } from './store.js';
import { median, nowMs, rng } from './stats.js';

/**
 * Session ingest, three ways into the same `sessions` table in the same run:
 * - raw: Kysely inserts of rows whose ids and ciphertexts were computed before
 *   the clock started (the floor: what the database itself costs);
 * - service: `ingestSessions`, which validates, hashes, encrypts, checks the
 *   accounts and writes the audit entry;
 * - http: POST /v1/ingest/sessions over a real socket, one request at a time.
 * Every measurement uses rows never sent before, so nothing is a no-op.
 */

export interface IngestOptions {
  /** Sessions per batch (one transaction, one HTTP request); the API allows up to 10,000. */
  batchSize: number;
  /** Batches timed together as one sample. */
  batchesPerSample: number;
  /** Samples per method; the median is reported. */
  samples: number;
  /** Accounts the sessions belong to (ingested first). */
  accounts: number;
}

export const INGEST_DEFAULTS: IngestOptions = { batchSize: 5000, batchesPerSample: 4, samples: 5, accounts: 10_000 };

export const INGEST_TARGET = { serviceToRaw: 0.5 };

type Method = 'raw' | 'service' | 'http';
const METHODS: readonly Method[] = ['raw', 'service', 'http'];

export interface IngestResult {
  store: Dialect;
  storeVersion: string;
  /** Journal and sync settings in force (what a commit costs). */
  storeSettings: string;
  options: IngestOptions;
  /** Median rows per second of each way in. */
  rowsPerSecond: Record<Method, number>;
  /** Rows per second of each sample, in the order they ran. */
  samples: Record<Method, number[]>;
  ratios: { serviceToRaw: number; httpToRaw: number };
  /**
   * What the raw insert skips, timed alone without a database: normalising the
   * IPs, the keyed-hash ids and the AES-GCM encryption, in rows per second.
   */
  preparePerSecond: number;
  targetMet: boolean;
  /** Rows in `sessions` at the end, checked against what was sent. */
  rowsStored: number;
}

const ACTOR_ID = 'bench:ingest';
const HOUR_MS = 3_600_000;

/** Generates sessions never seen before: every call moves a shared clock forward. */
class SessionFactory {
  readonly #random = rng(20261128);
  readonly #accountIds: string[];
  #next: number;

  constructor(accountIds: string[], start: number) {
    this.#accountIds = accountIds;
    this.#next = start;
  }

  batch(size: number): SessionInput[] {
    const out: SessionInput[] = [];
    for (let i = 0; i < size; i++) {
      const r = this.#random;
      const accountId = this.#accountIds[Math.floor(r() * this.#accountIds.length)] as string;
      // About one address in four is IPv6, as on a mobile-heavy platform.
      const ip =
        r() < 0.25
          ? `2a02:${hex(r)}:${hex(r)}:${hex(r)}::${hex(r)}`
          : `${1 + Math.floor(r() * 222)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
      // Distinct times make every session new even when account and address repeat.
      this.#next += 1 + Math.floor(r() * 20);
      out.push({ accountId, ip, port: 1024 + Math.floor(r() * 64_000), at: new Date(this.#next).toISOString() });
    }
    return out;
  }
}

function hex(r: () => number): string {
  return Math.floor(r() * 0xffff).toString(16);
}

/** The rows `ingestSessions` would store for these items, computed ahead of the raw insert's clock. */
function toRows(cipher: PersonalDataCipher, items: SessionInput[], receivedAt: number): SessionTable[] {
  return items.map((item) => {
    const ip = normaliseIp(item.ip);
    if (!ip) throw new Error(`bench generated an invalid IP: ${item.ip}`);
    const at = Date.parse(item.at);
    return {
      id: sessionId(cipher, item.accountId, ip.address, item.port ?? null, at),
      account_id: item.accountId,
      ip_enc: cipher.encrypt(IP_FIELD, item.accountId, ip.address),
      ip_version: ip.version,
      port: item.port ?? null,
      at,
      received_at: receivedAt,
    };
  });
}

async function rawInsert(db: Db, rows: SessionTable[]): Promise<void> {
  // Same statement size as the service (1,000 rows: SQLite's bound-parameter limit), one transaction per batch.
  await db.transaction().execute(async (tx) => {
    for (const part of chunks(rows, 1000)) await tx.insertInto('sessions').values(part).execute();
  });
}

export async function runIngest(dialect: Dialect, options: IngestOptions = INGEST_DEFAULTS): Promise<IngestResult> {
  const bench = await openBenchStore(dialect);
  try {
    return await measure(bench, options);
  } finally {
    await bench.destroy();
  }
}

async function measure(bench: BenchStore, options: IngestOptions): Promise<IngestResult> {
  const { ctx } = bench;
  const { db } = ctx.store;
  const retentionDays = ctx.config.sessionRetentionDays;

  const platform = await createToken(db, { id: ACTOR_ID, role: 'system' }, { role: 'platform', name: 'bench' });
  const actor: Actor = { id: platform.id, role: 'platform' };
  const accountIds = Array.from({ length: options.accounts }, (_, i) => `u${String(i).padStart(9, '0')}`);
  for (const part of chunks(accountIds, 5000)) {
    await ingestAccounts(
      db,
      ctx.cipher,
      actor,
      part.map((id, i) => ({ id, country: i % 3 === 0 ? 'DE' : 'FR' })),
    );
  }

  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/v1/ingest/sessions`;

  // Sessions from ~300 days ago onwards: inside the retention window, never in the future.
  const factory = new SessionFactory(accountIds, Date.now() - 300 * 24 * HOUR_MS);
  let sent = 0;

  /** Prepares one sample's input outside the clock, then times only the sending. */
  const sample = async (method: Method, batches: number): Promise<number> => {
    const items = Array.from({ length: batches }, () => factory.batch(options.batchSize));
    sent += batches * options.batchSize;
    if (method === 'raw') {
      const rows = items.map((b) => toRows(ctx.cipher, b, Date.now()));
      const t0 = nowMs();
      for (const batch of rows) await rawInsert(db, batch);
      return nowMs() - t0;
    }
    if (method === 'service') {
      const t0 = nowMs();
      for (const batch of items) {
        const result = await ingestSessions(db, ctx.cipher, actor, batch, { retentionDays });
        if (result.inserted !== batch.length) throw new Error(`service stored ${result.inserted}/${batch.length}`);
      }
      return nowMs() - t0;
    }
    const bodies = items.map((b) => JSON.stringify({ sessions: b }));
    const t0 = nowMs();
    for (const body of bodies) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${platform.token}`, 'content-type': 'application/json' },
        body,
      });
      const answer = (await res.json()) as { inserted?: number };
      if (res.status !== 200 || answer.inserted !== options.batchSize) {
        throw new Error(`HTTP ingest answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
      }
    }
    return nowMs() - t0;
  };

  try {
    // Warm-up: JIT, statement caches, connection pool, the first pages of each index.
    for (const method of METHODS) await sample(method, 1);

    const samples: Record<Method, number[]> = { raw: [], service: [], http: [] };
    const rowsPerSample = options.batchSize * options.batchesPerSample;
    for (let s = 0; s < options.samples; s++) {
      // Rotate the order so no way in always follows another (the table grows as we go).
      for (let k = 0; k < METHODS.length; k++) {
        const method = METHODS[(s + k) % METHODS.length] as Method;
        const ms = await sample(method, options.batchesPerSample);
        samples[method].push(Math.round((rowsPerSample / ms) * 1000));
      }
    }

    // The CPU work the raw insert was spared, on its own.
    const prepItems = factory.batch(options.batchSize * 2);
    const p0 = nowMs();
    toRows(ctx.cipher, prepItems, Date.now());
    const preparePerSecond = Math.round((prepItems.length / (nowMs() - p0)) * 1000);

    const stored = await db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    const rowsStored = Number(stored.n);
    if (rowsStored !== sent) throw new Error(`sessions holds ${rowsStored} rows, ${sent} were sent`);

    const rowsPerSecond = {
      raw: median(samples.raw),
      service: median(samples.service),
      http: median(samples.http),
    };
    const round = (v: number) => Math.round(v * 1000) / 1000;
    const ratios = {
      serviceToRaw: round(rowsPerSecond.service / rowsPerSecond.raw),
      httpToRaw: round(rowsPerSecond.http / rowsPerSecond.raw),
    };
    return {
      store: bench.dialect,
      storeVersion: await storeVersion(db, bench.dialect),
      storeSettings: await storeSettings(db, bench.dialect),
      options,
      rowsPerSecond,
      samples,
      ratios,
      preparePerSecond,
      targetMet: ratios.serviceToRaw >= INGEST_TARGET.serviceToRaw,
      rowsStored,
    };
  } finally {
    await app.close();
  }
}
