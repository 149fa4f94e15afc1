import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type NatsConnection, connect } from 'nats';
import { NATS_URL, natsReachable } from './helpers/nats.js';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { ConfigError, readEnv, toConfig } from '../src/config.js';
import type { Context } from '../src/context.js';
import { LanguageScanner } from '../src/scanning/language.js';
import { relayScanJobs, startScanConsumer } from '../src/scanning/nats-jobs.js';
import { type DeadLetter, NatsScanQueue, scanQueueNames } from '../src/scanning/nats-queue.js';
import { ScanPipeline } from '../src/scanning/pipeline.js';
import { startWorkers } from '../src/workers/scheduler.js';
import { type CliServer, startCli } from './helpers/cli-process.js';
import { cliEnv } from './helpers/cli.js';
import { buildAccount, brokenScanner } from './helpers/factories.js';
import { type Harness, TEST_PG_URL, TEST_STORES, startHarness, stopHarness } from './helpers/harness.js';
import { buildContent } from './helpers/notice-action.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { freePort } from './helpers/webhook-receiver.js';

/**
 * Scanning at scale: the scan_jobs outbox relayed to NATS JetStream and consumed
 * by `custos worker` processes. Runs on PostgreSQL (the multi-process store) and
 * the NATS server at CUSTOS_TEST_NATS_URL (default nats://127.0.0.1:4222, with
 * JetStream). Every test uses its own subject prefix and deletes its streams.
 */

const natsUp = await natsReachable();
const unreachable = `NATS with JetStream is not reachable at ${NATS_URL} (set CUSTOS_TEST_NATS_URL, or run nats-server -js)`;
// In CI NATS is part of the environment: its absence fails the run instead of skipping these tests.
if (!natsUp && process.env.CI) throw new Error(unreachable);
const skip = natsUp ? false : unreachable;

/** Polls `check` until it returns a truthy value; fails naming `what` (and the last value) after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** A fresh prefix per test, and the streams it created deleted afterwards. */
function uniquePrefix(): string {
  return `t${crypto.randomBytes(5).toString('hex')}`;
}

async function deleteStreams(nc: NatsConnection, prefix: string): Promise<void> {
  const names = scanQueueNames(prefix);
  const jsm = await nc.jetstreamManager();
  for (const stream of [names.stream, names.deadStream]) await jsm.streams.delete(stream).catch(() => {});
}

async function deadLetters(nc: NatsConnection, prefix: string): Promise<DeadLetter[]> {
  const names = scanQueueNames(prefix);
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(names.deadStream);
  const letters: DeadLetter[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(names.deadStream, { seq });
    letters.push(m.json<DeadLetter>());
  }
  return letters;
}

async function jobStatuses(h: Harness, ids: string[]): Promise<Map<string, { status: string; attempts: number }>> {
  const rows = await h.ctx.store.db
    .selectFrom('scan_jobs')
    .select(['content_id', 'status', 'attempts'])
    .where('content_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.content_id, { status: r.status, attempts: r.attempts }]));
}

async function countDone(h: Harness, ids: string[]): Promise<number> {
  return [...(await jobStatuses(h, ids)).values()].filter((j) => j.status === 'done').length;
}

async function ingestAsync(h: Harness, base: string | null, items: unknown[]): Promise<void> {
  if (base === null) {
    const res = await h.call('POST', '/v1/ingest/content?async=true', { token: h.tokens.platform, body: { items } });
    assert.equal(res.statusCode, 202, res.body);
    return;
  }
  const res = await fetch(`${base}/v1/ingest/content?async=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.tokens.platform}`, 'content-type': 'application/json' },
    body: JSON.stringify({ items }),
  });
  assert.equal(res.status, 202, await res.text());
}

for (const store of TEST_STORES) {
  describe(`scanning at scale: NATS JetStream [${store}]`, { skip }, () => {
    let h: Harness;
    let admin: NatsConnection;
    const prefixes: string[] = [];

    before(async () => {
      h = await startHarness(store);
      admin = await connect({ servers: NATS_URL });
    });

    after(async () => {
      for (const prefix of prefixes) await deleteStreams(admin, prefix);
      await admin?.close();
      if (h) await stopHarness(h);
    });

    // The multi-process deployment is PostgreSQL + NATS.
    if (store === 'postgres') {
      it('two workers, one killed with SIGKILL mid-batch: every item scanned once in effect, none lost, all jobs done', {
        timeout: 240_000,
      }, async (t) => {
        const prefix = uniquePrefix();
        prefixes.push(prefix);
        const names = scanQueueNames(prefix);
        const env = {
          ...cliEnv(h),
          CUSTOS_LOG_LEVEL: 'info',
          CUSTOS_NATS_URL: NATS_URL,
          CUSTOS_NATS_PREFIX: prefix,
          // Short, so the killed worker's messages come back within the test.
          CUSTOS_NATS_ACK_WAIT_MS: '2000',
        };
        const children: CliServer[] = [];
        // Holds a lock on scan_results so both workers stall with scans in flight (verdict not yet
        // stored, message not acked) at the moment one of them is killed.
        const locker = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${h.location}` });
        await locker.connect();
        try {
          // The API alone (--workers 0) and two workers, all real processes.
          const port = await freePort();
          const api = startCli(['serve', '--workers', '0', '--port', String(port)], env);
          children.push(api);
          const workerA = startCli(['worker', '--concurrency', '4'], env);
          const workerB = startCli(['worker', '--concurrency', '4'], env);
          children.push(workerA, workerB);
          await api.waitForStdout(/custos is listening/, 90_000);
          const base = `http://127.0.0.1:${port}`;
          await workerA.waitForStdout(/custos worker is running/, 90_000);
          await workerB.waitForStdout(/custos worker is running/, 90_000);
          // The API-only process reports NATS in /readyz once its connection is up.
          await waitFor('the API to see NATS', async () => {
            const ready = await fetch(`${base}/readyz`).then((r) => r.json());
            return JSON.stringify(ready) === JSON.stringify({ status: 'ready', checks: { store: 'ok', nats: 'ok' } });
          });

          const accounts = [buildAccount(), buildAccount(), buildAccount()];
          const acc = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
          assert.equal(acc.statusCode, 200, acc.body);

          await locker.query('begin');
          await locker.query('lock table scan_results in exclusive mode');
          const first = Array.from({ length: 120 }, (_, i) =>
            buildContent(accounts[i % 3]!.id, { text: `Message ${i} about the weather and the trains tomorrow` }),
          );
          for (let i = 0; i < first.length; i += 20) await ingestAsync(h, base, first.slice(i, i + 20));

          // Four scans per worker in flight, each waiting for the lock to store its verdict.
          await waitFor(
            'eight scans blocked on the lock',
            async () => {
              const r = await locker.query<{ n: number }>(
                'select count(*)::int as n from pg_locks where not granted and relation = $1::regclass',
                [`${h.location}.scan_results`],
              );
              return r.rows[0]!.n >= 8;
            },
            90_000,
          );
          assert.ok(
            (await countDone(
              h,
              first.map((c) => c.id),
            )) === 0,
            'nothing could finish yet',
          );
          const killed = await workerA.stop('SIGKILL');
          assert.equal(killed.signal, 'SIGKILL');
          await locker.query('rollback');
          t.diagnostic('worker A killed with its 4 scans in flight; lock released');

          // The stream goes on while one worker is gone.
          const second = Array.from({ length: 60 }, (_, i) =>
            buildContent(accounts[i % 3]!.id, { text: `Second wave ${i}: see you at the station` }),
          );
          for (let i = 0; i < second.length; i += 20) await ingestAsync(h, base, second.slice(i, i + 20));
          const items = [...first, ...second];
          const ids = items.map((c) => c.id);
          await waitFor('every scan job done', async () => (await countDone(h, ids)) === ids.length, 120_000);

          // Exactly one verdict per item, for the version that was stored.
          const verdicts = await h.ctx.store.db
            .selectFrom('scan_results')
            .innerJoin('content', 'content.id', 'scan_results.content_id')
            .select(['scan_results.content_id', 'scan_results.fingerprint as scanned', 'content.fingerprint as stored'])
            .where('scan_results.content_id', 'in', ids)
            .execute();
          assert.equal(verdicts.length, ids.length);
          assert.equal(new Set(verdicts.map((v) => v.content_id)).size, ids.length);
          for (const v of verdicts) assert.equal(v.scanned, v.stored, `${v.content_id} scanned in its stored version`);

          // The killed worker's messages came back (attempts counts scans started) and acted once.
          const jobs = await jobStatuses(h, ids);
          const redelivered = [...jobs.values()].filter((j) => j.attempts >= 2).length;
          assert.ok(redelivered >= 4, `the killed worker's 4 in-flight messages were redelivered (${redelivered})`);
          t.diagnostic(`${redelivered} jobs needed a second attempt`);

          // Nothing dead, nothing left in the work queue.
          const jsm = await admin.jetstreamManager();
          assert.deepEqual(await deadLetters(admin, prefix), []);
          await waitFor('the work queue to empty', async () => {
            const [stream, consumer] = await Promise.all([
              jsm.streams.info(names.stream),
              jsm.consumers.info(names.stream, names.consumer),
            ]);
            return stream.state.messages === 0 && consumer.num_ack_pending === 0;
          });

          // A graceful stop: the remaining worker drains and exits 0.
          const stopped = await workerB.stop('SIGTERM', 20_000);
          assert.equal(stopped.code, 0, workerB.stderr());
          assert.equal((await api.stop('SIGTERM', 20_000)).code, 0);
        } finally {
          await locker.query('rollback').catch(() => {});
          await locker.end();
          for (const c of children) await c.stop('SIGKILL');
        }
      });
    }

    it('dead-letters a job that always fails, and content that is gone, with the error', {
      timeout: 120_000,
    }, async () => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const broken = brokenScanner();
      const queue = new NatsScanQueue({ url: NATS_URL, prefix, ackWaitMs: 5000, logger: h.ctx.logger });
      const ctx: Context = {
        ...h.ctx,
        scanner: new ScanPipeline([broken, await LanguageScanner.load()], h.ctx.scanning, h.ctx.policy.version),
        scanQueue: queue,
      };
      const consumer = startScanConsumer(ctx, queue, { retryBaseMs: 50 });
      try {
        const a = buildAccount();
        await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
        const item = buildContent(a.id);
        await ingestAsync(h, null, [item]);
        // A job whose content no longer exists fails the same way every time: dead at once.
        await h.ctx.store.db
          .insertInto('scan_jobs')
          .values({
            content_id: 'gone-1',
            status: 'pending',
            attempts: 0,
            next_attempt_at: 0,
            lease_until: null,
            last_error: null,
            created_at: Date.now(),
            finished_at: null,
          })
          .execute();

        await waitFor('both jobs dead', async () => {
          await relayScanJobs(ctx, queue);
          const jobs = await jobStatuses(h, [item.id, 'gone-1']);
          return jobs.get(item.id)?.status === 'dead' && jobs.get('gone-1')?.status === 'dead';
        });
        const job = await h.ctx.store.db
          .selectFrom('scan_jobs')
          .selectAll()
          .where('content_id', '=', item.id)
          .executeTakeFirstOrThrow();
        assert.equal(job.attempts, 5);
        assert.match(job.last_error ?? '', /model exploded/);

        const letters = await waitFor('two dead letters', async () => {
          const l = await deadLetters(admin, prefix);
          return l.length >= 2 ? l : null;
        });
        assert.equal(letters.length, 2, 'one dead letter per job');
        const failing = letters.find((l) => l.contentId === item.id);
        assert.ok(failing);
        assert.match(failing.error, /model exploded/);
        assert.equal(failing.attempts, 5);
        assert.equal(failing.deliveries, 5);
        const gone = letters.find((l) => l.contentId === 'gone-1');
        assert.ok(gone);
        assert.equal(gone.attempts, 1, 'a permanent failure is not retried');
        const noVerdict = await h.ctx.store.db
          .selectFrom('scan_results')
          .select('content_id')
          .where('content_id', '=', item.id)
          .execute();
        assert.deepEqual(noVerdict, []);
        // Dead-lettered messages leave the work queue.
        const jsm = await admin.jetstreamManager();
        await waitFor(
          'the work queue to empty',
          async () => (await jsm.streams.info(scanQueueNames(prefix).stream)).state.messages === 0,
        );
      } finally {
        await consumer.stop();
        await queue.close();
      }
    });

    it('with NATS unreachable, ingest still accepts; the items are scanned once NATS is back', {
      timeout: 180_000,
    }, async () => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const natsPort = Number(new URL(NATS_URL).port || 4222);
      const proxy = await startTcpProxy(natsPort, new URL(NATS_URL).hostname);
      await proxy.stop();
      const queue = new NatsScanQueue({
        url: `nats://127.0.0.1:${proxy.port}`,
        prefix,
        ackWaitMs: 5000,
        logger: h.ctx.logger,
      });
      const ctx: Context = { ...h.ctx, scanQueue: queue };
      const app = await buildApp(ctx);
      const workers = startWorkers(ctx);
      const readyz = async () => {
        const res = await app.inject({ method: 'GET', url: '/readyz' });
        return { status: res.statusCode, body: JSON.parse(res.body) };
      };
      try {
        const a = buildAccount();
        await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
        const first = Array.from({ length: 20 }, () => buildContent(a.id));
        await ingestAsync(h, null, first);

        // Ready (ingest works) and saying NATS is down; the outage is logged loudly.
        assert.deepEqual(await readyz(), {
          status: 200,
          body: { status: 'ready', checks: { store: 'ok', nats: 'down' } },
        });
        await waitFor('the outage in the log', () => h.logs().includes('NATS is unreachable'));
        assert.deepEqual(await relayScanJobs(ctx, queue), { claimed: 0, published: 0 }, 'nothing is claimed');
        const waiting = await jobStatuses(
          h,
          first.map((c) => c.id),
        );
        assert.ok(
          [...waiting.values()].every((j) => j.status === 'pending'),
          'the jobs wait in the outbox',
        );

        await proxy.start();
        await waitFor('NATS connected', () => queue.state() === 'ok', 60_000);
        await waitFor(
          'the first items scanned',
          async () =>
            (await countDone(
              h,
              first.map((c) => c.id),
            )) === first.length,
        );
        assert.equal((await readyz()).body.checks.nats, 'ok');

        // An outage while running: the client reconnects and the consumer resumes.
        await proxy.stop();
        await waitFor('NATS seen down', () => queue.state() === 'down', 30_000);
        const second = Array.from({ length: 10 }, () => buildContent(a.id));
        await ingestAsync(h, null, second);
        assert.equal((await readyz()).body.checks.nats, 'down');
        await proxy.start();
        await waitFor(
          'the second items scanned',
          async () =>
            (await countDone(
              h,
              second.map((c) => c.id),
            )) === second.length,
          90_000,
        );
        const ids = [...first, ...second].map((c) => c.id);
        const verdicts = await h.ctx.store.db
          .selectFrom('scan_results')
          .select('content_id')
          .where('content_id', 'in', ids)
          .execute();
        assert.equal(verdicts.length, ids.length);
      } finally {
        await workers.stop();
        await queue.close();
        await app.close();
        await proxy.stop();
      }
    });
  });
}

describe('CUSTOS_NATS_* configuration', () => {
  const error = (env: Record<string, string>) => {
    try {
      toConfig(readEnv(env));
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    assert.fail(`${JSON.stringify(env)} was accepted`);
  };

  it('refuses URLs that are not nats:// or tls://, without repeating credentials', () => {
    for (const bad of ['http://nats:4222', 'not a url', 'nats://a:4222,redis://b', 'https://user:hunter2@nats']) {
      const e = error({ CUSTOS_NATS_URL: bad });
      assert.equal(e.variable, 'CUSTOS_NATS_URL');
      assert.ok(!e.message.includes('hunter2'), e.message);
    }
    assert.equal(error({ CUSTOS_NATS_PREFIX: 'Has.Dots' }).variable, 'CUSTOS_NATS_PREFIX');
    assert.equal(error({ CUSTOS_NATS_ACK_WAIT_MS: '10' }).variable, 'CUSTOS_NATS_ACK_WAIT_MS');
    assert.equal(error({ CUSTOS_NATS_REPLICAS: '0' }).variable, 'CUSTOS_NATS_REPLICAS');
    assert.equal(error({ CUSTOS_NATS_REPLICAS: '6' }).variable, 'CUSTOS_NATS_REPLICAS');
  });

  it('is off by default, and reads a server list', () => {
    const off = toConfig(readEnv({}));
    assert.equal(off.natsUrl, undefined);
    assert.equal(off.natsPrefix, 'custos');
    assert.equal(off.natsAckWaitMs, 60_000);
    assert.equal(off.natsReplicas, 1, 'one copy: a single NATS server');
    assert.equal(toConfig(readEnv({ CUSTOS_NATS_REPLICAS: '3' })).natsReplicas, 3);
    const on = toConfig(readEnv({ CUSTOS_NATS_URL: 'nats://a:4222, tls://b:4222', CUSTOS_NATS_PREFIX: 'prod-eu' }));
    assert.equal(on.natsUrl, 'nats://a:4222, tls://b:4222');
    assert.deepEqual(scanQueueNames(on.natsPrefix), {
      stream: 'PROD_EU_SCAN',
      subject: 'prod-eu.scan.jobs',
      deadStream: 'PROD_EU_SCAN_DEAD',
      deadSubject: 'prod-eu.scan.dead',
      consumer: 'prod-eu-scan-workers',
    });
  });
});
