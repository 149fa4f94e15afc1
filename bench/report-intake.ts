import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { toConfig } from '../src/config.js';
import { closeContext, createContext } from '../src/context.js';
import type { Dialect } from '../src/db/database.js';
import { createLogger } from '../src/logging.js';
import { CATEGORY_CODES } from '../src/policy/policy.js';
import { type LoadPhase, type LoadResult, type LoadTarget, padded } from './load-client.js';
import {
  ROOT,
  type Server,
  createPlatformToken,
  freePort,
  log,
  post,
  serverEnv,
  startServer,
  stopServer,
  trackChild,
} from './server.js';
import { createBenchDatabase, makeTempDir, removeTempDir, storeSettings, storeVersion } from './store.js';
import { nowMs } from './stats.js';

/**
 * Report intake through HTTP. The real server runs in a child process
 * (`node bin/custos.js serve`), exactly as deployed: SQLite in a fresh data
 * folder, or PostgreSQL in a fresh database. Accounts and content are seeded
 * through the platform API; then a second process (bench/load-client.ts,
 * autocannon) drives it at a fixed concurrency, twice in the same run:
 * - healthz: GET /healthz, the floor of any request on this server and machine;
 * - reports: POST /v1/reports with a platform token, each request a random one
 *   of many content items, a random category and a random reporting user.
 * Afterwards the store is opened and the reports it holds are counted against
 * the 2xx answers the load generator saw.
 */

export interface IntakeOptions {
  /** Concurrent connections of the load generator. */
  connections: number;
  /** Untimed load before the timed reports run. */
  warmupSeconds: number;
  /** Timed reports run. */
  durationSeconds: number;
  /** The /healthz baseline: untimed warm-up, then timed. */
  healthzWarmupSeconds: number;
  healthzSeconds: number;
  /** Accounts (content authors) and content items seeded through the API. */
  authors: number;
  content: number;
  /** Distinct reporting users the bodies pick from. */
  reporters: number;
  /** When set, the server runs with --cpu-prof and writes its profile here. */
  cpuProfDir?: string;
}

export const INTAKE_DEFAULTS: IntakeOptions = {
  connections: 50,
  warmupSeconds: 5,
  durationSeconds: 20,
  healthzWarmupSeconds: 2,
  healthzSeconds: 8,
  authors: 2_000,
  content: 3_000,
  reporters: 100_000,
};

/** Reports per second on SQLite; PostgreSQL has no target of its own. */
export const INTAKE_TARGET = { sqliteReportsPerSecond: 2000 };

/** One timed load: what the load generator saw, and the CPU the server and the client used meanwhile. */
export interface IntakeLoad extends LoadPhase {
  /** CPU time of the server process over the timed run, in cores (1 = one core busy throughout). */
  serverCores: number;
  /** CPU time of the load generator over the timed run, in cores. */
  clientCores: number;
  /** Share of the whole machine's CPU in use over the timed run (all processes, PostgreSQL's too). */
  machineBusy: number;
}

export interface IntakeResult {
  store: Dialect;
  storeVersion: string;
  storeSettings: string;
  options: IntakeOptions;
  seeded: { accounts: number; content: number; seconds: number };
  reports: IntakeLoad;
  /** The untimed warm-up before the timed reports run, on the same connections (its reports are stored too). */
  reportsWarmup: { seconds: number; ok: number; non2xx: number; errors: number };
  healthz: IntakeLoad;
  /** Reports per second as a share of /healthz requests per second. */
  ratio: number;
  /** CPU the server used at rest, after seeding and before the load (background jobs), in cores. */
  serverIdleCores: number;
  /**
   * What the store holds afterwards. Every report answered 201 must be there
   * (`reports` ≥ `answered`), and none that was never sent (`reports` ≤ `sent`); the
   * difference is requests still in flight when the load generator stopped.
   */
  stored: { reports: number; answered: number; sent: number; cases: number; complete: boolean };
  /** Met / not met on SQLite; null on PostgreSQL, which has no target. */
  targetMet: boolean | null;
}

const LOAD_CLIENT = path.join(ROOT, 'bench', 'load-client.ts');
const AUTHOR_PREFIX = 'a';
const CONTENT_PREFIX = 'c';
const REPORTER_PREFIX = 'r';
const LANGUAGES = ['en', 'de', 'fr', 'es', 'pl', 'pt', 'it'];

export async function runIntake(dialect: Dialect, options: IntakeOptions = INTAKE_DEFAULTS): Promise<IntakeResult> {
  const dataDir = makeTempDir();
  const database = dialect === 'postgres' ? await createBenchDatabase() : undefined;
  try {
    return await measure(dialect, dataDir, database?.url, options);
  } finally {
    removeTempDir(dataDir);
    await database?.drop();
  }
}

async function measure(
  dialect: Dialect,
  dataDir: string,
  databaseUrl: string | undefined,
  options: IntakeOptions,
): Promise<IntakeResult> {
  // The server's whole configuration: nothing of the caller's CUSTOS_* variables leaks in.
  const { env, custos } = serverEnv(dataDir, databaseUrl);
  const token = await createPlatformToken(env);

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startServer(env, port, options.cpuProfDir);
  try {
    const s0 = nowMs();
    await seed(origin, token, options);
    const seedSeconds = Math.round((nowMs() - s0) / 100) / 10;
    log(`${dialect}: server on port ${port}, seeded ${options.content.toLocaleString('en')} content items`);
    const rest0 = cpuTicks(server.child.pid);
    const r0 = nowMs();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rest1 = cpuTicks(server.child.pid);
    const serverIdleCores =
      Math.round(((rest1.process - rest0.process) / TICKS_PER_SECOND / ((nowMs() - r0) / 1000)) * 100) / 100;

    const base = { origin, connections: options.connections };
    log(`${dialect}: GET /healthz, ${options.connections} connections`);
    const healthz = await load(server, {
      ...base,
      kind: 'healthz',
      warmupSeconds: options.healthzWarmupSeconds,
      durationSeconds: options.healthzSeconds,
    });
    log(`${dialect}: POST /v1/reports, ${options.connections} connections (server at rest: ${serverIdleCores} cores)`);
    const reports = await load(server, {
      ...base,
      kind: 'reports',
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
      token,
      contentPrefix: CONTENT_PREFIX,
      contentCount: options.content,
      reporterPrefix: REPORTER_PREFIX,
      reporters: options.reporters,
      categories: CATEGORY_CODES,
      seed: dialect === 'sqlite' ? 1 : 2,
    });
    await stopServer(server);

    // Count what was stored, through a store opened as Custos opens it.
    const config = toConfig(custos, { logLevel: 'silent' });
    const ctx = await createContext(config, { logger: createLogger('silent'), migrate: false });
    try {
      const db = ctx.store.db;
      const count = async (table: 'reports' | 'cases') => {
        const row = await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow();
        return Number(row.n);
      };
      const storedReports = await count('reports');
      const complete = storedReports >= reports.ok && storedReports <= reports.sent;
      if (!complete) {
        log(
          `${dialect}: WARNING: ${storedReports} reports stored; ${reports.ok} were answered 2xx, ${reports.sent} sent`,
        );
      }
      const reportsLoad = reports.load;
      return {
        store: dialect,
        storeVersion: await storeVersion(db, dialect),
        storeSettings: await storeSettings(db, dialect),
        options,
        seeded: { accounts: options.authors, content: options.content, seconds: seedSeconds },
        reports: reportsLoad,
        reportsWarmup: {
          seconds: reports.warmup.seconds,
          ok: reports.warmup.ok,
          non2xx: reports.warmup.non2xx,
          errors: reports.warmup.errors,
        },
        healthz: healthz.load,
        ratio: Math.round((reportsLoad.okPerSecond / healthz.load.okPerSecond) * 1000) / 1000,
        serverIdleCores,
        stored: {
          reports: storedReports,
          answered: reports.ok,
          sent: reports.sent,
          cases: await count('cases'),
          complete,
        },
        targetMet: dialect === 'sqlite' ? reportsLoad.okPerSecond >= INTAKE_TARGET.sqliteReportsPerSecond : null,
      };
    } finally {
      await closeContext(ctx);
    }
  } finally {
    await stopServer(server);
  }
}

/**
 * Authors, then their content (one in five public, most with a language),
 * through the platform API: batches of 500, four at a time (the content route
 * scans each item before it answers).
 */
async function seed(origin: string, token: string, options: IntakeOptions): Promise<void> {
  const BATCH = 500;
  const IN_FLIGHT = 4;
  for (let lo = 0; lo < options.authors; lo += 5000) {
    const accounts = [];
    for (let n = lo; n < Math.min(options.authors, lo + 5000); n++) {
      accounts.push({ id: padded(AUTHOR_PREFIX, n), country: ['DE', 'FR', 'PL'][n % 3] });
    }
    await post(origin, token, '/v1/ingest/accounts', { accounts });
  }
  const now = Date.now();
  const batches: unknown[][] = [];
  for (let lo = 0; lo < options.content; lo += BATCH) {
    const items = [];
    for (let n = lo; n < Math.min(options.content, lo + BATCH); n++) {
      const language = n % 8 === 7 ? undefined : LANGUAGES[n % LANGUAGES.length];
      items.push({
        id: padded(CONTENT_PREFIX, n),
        accountId: padded(AUTHOR_PREFIX, n % options.authors),
        kind: 'text',
        text: `benchmark message ${n}: ${crypto.randomBytes(12).toString('base64')}`,
        createdAt: new Date(now - (options.content - n) * 10_000).toISOString(),
        public: n % 5 === 0,
        ...(language ? { language } : {}),
      });
    }
    batches.push(items);
  }
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const items = batches[next++];
      await post(origin, token, '/v1/ingest/content', { items });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** CPU ticks of one process (user + system) and of the whole machine (busy, total), from /proc. */
function cpuTicks(pid: number | undefined): { process: number; busy: number; total: number } {
  let processTicks = 0;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    processTicks = Number(fields[11]) + Number(fields[12]);
  } catch {
    // the process has gone
  }
  const cpu = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { process: processTicks, busy: total - idle, total };
}

const TICKS_PER_SECOND = 100;

/** Runs the load generator against one target; samples CPU use over its timed run. */
async function load(
  server: Server,
  target: LoadTarget,
): Promise<{ load: IntakeLoad; warmup: LoadPhase; sent: number; ok: number }> {
  const client = spawn(process.execPath, ['--import', 'tsx', LOAD_CLIENT, JSON.stringify(target)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  trackChild(client);
  let result: LoadResult | undefined;
  let before: { server: ReturnType<typeof cpuTicks>; client: ReturnType<typeof cpuTicks>; at: number } | undefined;
  let after: typeof before;
  const lines = readline.createInterface({ input: client.stdout! });
  for await (const line of lines) {
    const message = JSON.parse(line) as { phase: 'measure' | 'done'; result?: LoadResult };
    const sample = () => ({ server: cpuTicks(server.child.pid), client: cpuTicks(client.pid), at: nowMs() });
    if (message.phase === 'measure') before = sample();
    if (message.phase === 'done') {
      after = sample();
      result = message.result;
    }
  }
  const code = await new Promise<number | null>((resolve) => {
    if (client.exitCode !== null) resolve(client.exitCode);
    else client.once('exit', resolve);
  });
  if (!result || !before || !after || code !== 0) throw new Error(`the load generator failed (exit ${code})`);
  if (server.child.exitCode !== null) throw new Error(`the server died under load:\n${server.output()}`);
  const seconds = (after.at - before.at) / 1000;
  const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
  const measured = result.measured;
  return {
    load: {
      ...measured,
      serverCores: cores(after.server.process - before.server.process),
      clientCores: cores(after.client.process - before.client.process),
      machineBusy:
        Math.round(((after.server.busy - before.server.busy) / (after.server.total - before.server.total)) * 100) / 100,
    },
    warmup: result.warmup,
    sent: result.sent,
    ok: result.ok,
  };
}
