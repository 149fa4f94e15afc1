/**
 * The load generator of the report-intake benchmark, run as a process of its own
 * (`node --import tsx bench/load-client.ts '<json>'`) so that it does not share
 * the server's event loop. It drives one target with autocannon at a fixed
 * concurrency for warm-up + timed seconds, in one run on the same connections
 * (new connections are admitted slowly by a busy server, so a timed run on fresh
 * connections would time their admission too); responses are split into the two
 * phases by the time they arrive. Progress goes to stdout as JSON lines:
 * `{"phase":"measure"}` when the timed part starts, then
 * `{"phase":"done","result":…}` at the end.
 */
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { type Latency, latency, rng } from './stats.js';

export interface LoadTarget {
  /** `reports`: POST /v1/reports with random bodies; `healthz`: GET /healthz. */
  kind: 'reports' | 'healthz';
  /** http://127.0.0.1:<port> */
  origin: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Platform token for the reports. */
  token?: string;
  /** Content ids to report: `${contentPrefix}${n}` with n in [0, contentCount), zero-padded to 7 digits. */
  contentPrefix?: string;
  contentCount?: number;
  /** Reporting users: `${reporterPrefix}${n}` with n in [0, reporters). */
  reporterPrefix?: string;
  reporters?: number;
  categories?: readonly string[];
  seed?: number;
}

/** What one phase of the load saw. */
export interface LoadPhase {
  seconds: number;
  responses: number;
  /** 2xx responses per second of the phase. */
  okPerSecond: number;
  statuses: Record<string, number>;
  ok: number;
  non2xx: number;
  /** Request errors (connection errors, timeouts) in the phase. */
  errors: number;
  /** Every response's time, in milliseconds (autocannon's own histogram rounds to whole ms). */
  latencyMs: Latency;
}

export interface LoadResult {
  target: Omit<LoadTarget, 'token'>;
  warmup: LoadPhase;
  measured: LoadPhase;
  /** The whole run: requests sent, 2xx answers (a few requests are in flight when it stops). */
  sent: number;
  ok: number;
  timeouts: number;
}

export const padded = (prefix: string, n: number) => `${prefix}${String(n).padStart(7, '0')}`;

function requestFor(target: LoadTarget): autocannon.Request {
  if (target.kind === 'healthz') return { method: 'GET', path: '/healthz' };
  const r = rng(target.seed ?? 1);
  const categories = target.categories ?? [];
  const pick = (n: number) => Math.floor(r() * n);
  return {
    method: 'POST',
    path: '/v1/reports',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    // A new body for every request: a random one of many content items, a random category and reporter.
    setupRequest: (request) => ({
      ...request,
      body: JSON.stringify({
        subject: { contentId: padded(target.contentPrefix ?? 'c', pick(target.contentCount ?? 1)) },
        category: categories[pick(categories.length)],
        reporter: { accountId: padded(target.reporterPrefix ?? 'r', pick(target.reporters ?? 1)) },
      }),
    }),
  };
}

interface Response {
  at: number;
  ms: number;
  status: number;
}

function summarise(responses: Response[], errors: number[], from: number, to: number): LoadPhase {
  const inside = responses.filter((r) => r.at >= from && r.at < to);
  const statuses: Record<string, number> = {};
  for (const r of inside) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const ok = inside.filter((r) => r.status >= 200 && r.status < 300).length;
  const seconds = (to - from) / 1000;
  return {
    seconds: Math.round(seconds * 100) / 100,
    responses: inside.length,
    okPerSecond: Math.round(ok / seconds),
    statuses,
    ok,
    non2xx: inside.length - ok,
    errors: errors.filter((at) => at >= from && at < to).length,
    latencyMs: latency(inside.length ? inside.map((r) => r.ms) : [0]),
  };
}

async function main(): Promise<void> {
  const target = JSON.parse(process.argv[2] ?? '{}') as LoadTarget;
  if (target.kind !== 'reports' && target.kind !== 'healthz') throw new Error('load-client: bad target');
  const responses: Response[] = [];
  const errors: number[] = [];
  const start = performance.now();
  const boundary = start + target.warmupSeconds * 1000;
  const mark = setTimeout(() => process.stdout.write(`${JSON.stringify({ phase: 'measure' })}\n`), boundary - start);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.origin,
        connections: target.connections,
        duration: target.warmupSeconds + target.durationSeconds,
        requests: [requestFor(target)],
        timeout: 30,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      responses.push({ at: performance.now(), ms, status });
    });
    instance.on('reqError', () => errors.push(performance.now()));
  });
  const end = performance.now();
  clearTimeout(mark);
  const { token: _token, ...shown } = target;
  const out: LoadResult = {
    target: shown,
    warmup: summarise(responses, errors, start, boundary),
    measured: summarise(responses, errors, boundary, end),
    sent: result.requests.sent,
    ok: result['2xx'],
    timeouts: result.timeouts,
  };
  process.stdout.write(`${JSON.stringify({ phase: 'done', result: out })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
