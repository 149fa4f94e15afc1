import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import pg from 'pg';
import { connect } from 'nats';
import { scanQueueNames } from '../src/scanning/nats-queue.js';
import type { ScanItem } from '../src/scanning/scanner.js';
import type { ScanNatsResult } from './content-scanning.js';
import {
  CLI,
  ROOT,
  createPlatformToken,
  freePort,
  log,
  serverEnv,
  startServer,
  stopServer,
  trackChild,
} from './server.js';
import { nowMs } from './stats.js';
import { createBenchDatabase, makeTempDir, removeTempDir } from './store.js';

/** Scans in flight per worker: enough that each worker's store round trips overlap. */
const WORKER_CONCURRENCY = 16;

export const NATS_BENCH_URL = process.env.CUSTOS_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface ScanNatsOptions {
  /** Worker processes per run, one run each. */
  workers: readonly number[];
  /** Content items queued before the workers start. */
  items: number;
}

export const SCAN_NATS_DEFAULTS: ScanNatsOptions = { workers: [1, 2, 4], items: 3000 };

/**
 * Scan workers on PostgreSQL and NATS JetStream: for 1, 2, … `custos worker`
 * processes, the rate at which they drain a backlog. An API process (`serve
 * --workers 0`, which scans nothing) takes `options.items` items of the mix with
 * `?async=true`, so they wait as pending jobs in the store; then the workers
 * start, relay the jobs to the stream and scan them. The rate is counted from
 * the first finished job to the last, so the workers' start-up (a few seconds of
 * TypeScript compilation) is not in it. The machine's cores are shared by the
 * workers, PostgreSQL and NATS, so the scaling shows where one machine ends.
 */
export async function runScanNats(
  items: readonly ScanItem[],
  options: ScanNatsOptions = SCAN_NATS_DEFAULTS,
): Promise<ScanNatsResult[]> {
  const rows: { workers: number; perSecond: number }[] = [];
  for (const workers of options.workers) {
    log(`scan: NATS, ${workers} worker${workers === 1 ? '' : 's'}, ${options.items.toLocaleString('en')} items`);
    rows.push({ workers, perSecond: await drainWith(workers, items, options.items) });
  }
  const base = rows[0]?.perSecond ?? 0;
  return rows.map((r) => ({ ...r, scaling: base > 0 ? Math.round((r.perSecond / base) * 100) / 100 : 0 }));
}

async function drainWith(workers: number, mix: readonly ScanItem[], count: number): Promise<number> {
  const dataDir = makeTempDir();
  const database = await createBenchDatabase();
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}`;
  const { env } = serverEnv(dataDir, database.url);
  Object.assign(env, { CUSTOS_NATS_URL: NATS_BENCH_URL, CUSTOS_NATS_PREFIX: prefix });
  const running: ReturnType<typeof spawn>[] = [];
  const client = new pg.Client({ connectionString: database.url });
  try {
    const token = await createPlatformToken(env);
    const port = await freePort();
    const server = await startServer(env, port, undefined, ['--workers', '0']);
    try {
      await queue(`http://127.0.0.1:${port}`, token, mix, count);
    } finally {
      await stopServer(server);
    }
    await client.connect();
    for (let i = 0; i < workers; i++) {
      const child = spawn(process.execPath, [CLI, 'worker', '--concurrency', String(WORKER_CONCURRENCY)], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      trackChild(child);
      running.push(child);
    }
    let first: number | undefined;
    let doneAtFirst = 0;
    const deadline = nowMs() + 600_000;
    for (;;) {
      const { rows } = await client.query<{ done: string }>(
        "select count(*) as done from scan_jobs where status in ('done', 'dead')",
      );
      const done = Number(rows[0]!.done);
      if (first === undefined && done > 0) {
        first = nowMs();
        doneAtFirst = done;
      }
      if (done >= count) break;
      if (nowMs() > deadline) throw new Error(`only ${done} of ${count} items scanned after 10 minutes`);
      for (const child of running) {
        if (child.exitCode !== null) throw new Error(`a worker exited with ${child.exitCode}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (nowMs() - first!) / 1000;
    return Math.round((count - doneAtFirst) / Math.max(seconds, 0.001));
  } finally {
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(
      running.map((child) => (child.exitCode !== null ? null : new Promise((resolve) => child.once('exit', resolve)))),
    );
    await client.end().catch(() => {});
    await deleteStreams(prefix);
    await database.drop();
    removeTempDir(dataDir);
  }
}

/** Sends the items with `?async=true` (202: stored and queued), 500 per request. */
async function queue(origin: string, token: string, mix: readonly ScanItem[], count: number): Promise<void> {
  const accounts = [...new Set(mix.map((m) => m.accountId))].map((id) => ({ id }));
  for (let i = 0; i < accounts.length; i += 1000) {
    await send(origin, token, '/v1/ingest/accounts', { accounts: accounts.slice(i, i + 1000) }, 200);
  }
  const createdAt = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < count; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 500); j++) {
      const m = mix[j % mix.length]!;
      batch.push({
        id: `n${String(j).padStart(7, '0')}`,
        accountId: m.accountId,
        kind: 'text',
        text: m.text,
        createdAt,
        public: m.public,
      });
    }
    await send(origin, token, '/v1/ingest/content?async=true', { items: batch }, 202);
  }
}

async function send(origin: string, token: string, route: string, body: unknown, expected: number): Promise<void> {
  const res = await fetch(`${origin}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== expected) throw new Error(`${route} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_BENCH_URL, timeout: 5000 }).catch(() => null);
  if (!nc) return;
  try {
    const jsm = await nc.jetstreamManager();
    const names = scanQueueNames(prefix);
    for (const stream of [names.stream, names.deadStream]) await jsm.streams.delete(stream).catch(() => {});
  } finally {
    await nc.close();
  }
}
