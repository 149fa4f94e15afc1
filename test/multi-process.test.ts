import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type NatsConnection, connect } from 'nats';
import { NATS_URL, natsReachable } from './helpers/nats.js';
import pg from 'pg';
import { verifyAudit } from '../src/audit/service.js';
import type { Context } from '../src/context.js';
import type { ScanPipeline } from '../src/scanning/pipeline.js';
import type { ScanningPolicy } from '../src/scanning/scanning-policy.js';
import { SCANNER_ACTOR, scanStoredContent } from '../src/scanning/service.js';
import { scanQueueNames } from '../src/scanning/nats-queue.js';
import { type CliServer, type PostAnswer, postJson, startCli } from './helpers/cli-process.js';
import { cliEnv } from './helpers/cli.js';
import { buildAccount } from './helpers/factories.js';
import { type Harness, TEST_PG_URL, TEST_STORES, startHarness, stopHarness } from './helpers/harness.js';
import { buildOrder, seedViolator } from './helpers/legal.js';
import { buildContent } from './helpers/notice-action.js';
import { type Receiver, freePort, startReceiver } from './helpers/webhook-receiver.js';

/**
 * The multi-process deployment: two API-only processes (`custos serve --workers 0`)
 * and two `custos worker` processes on one PostgreSQL schema and one NATS JetStream
 * prefix. A stream of content, reports and legal orders goes through both APIs while
 * one worker and one API process are killed with SIGKILL; afterwards every accepted
 * item must be scanned, every automated removal decided and announced exactly once,
 * every webhook delivered, and the audit chain intact.
 */

async function pgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const [natsUp, pgUp] = await Promise.all([natsReachable(), pgReachable()]);
const problems = [
  ...(pgUp ? [] : [`PostgreSQL is not reachable at ${TEST_PG_URL} (set CUSTOS_TEST_PG_URL)`]),
  ...(natsUp
    ? []
    : [`NATS with JetStream is not reachable at ${NATS_URL} (set CUSTOS_TEST_NATS_URL, or run nats-server -js)`]),
];
// In CI both services are part of the environment: their absence fails the run instead of skipping.
if (problems.length > 0 && process.env.CI) throw new Error(problems.join('; '));
const skip =
  problems.length > 0
    ? problems.join('; ')
    : TEST_STORES.includes('postgres')
      ? false
      : 'the multi-process deployment runs on PostgreSQL, and CUSTOS_TEST_STORES excludes it';

/** Texts the shipped pipeline scans as allow, review and remove (test/scanning-default.test.ts). */
const TEXTS = {
  allow: { text: 'The meeting moved to 3pm' },
  review: { text: 'coke for sale, dm me' },
  remove: { text: 'send 0.5 BTC and we will return 1 BTC', public: true },
} as const;
type Expected = keyof typeof TEXTS;

/** Content items per ingest batch, by expected verdict. */
const BATCH: Expected[] = ['allow', 'allow', 'review', 'review', 'remove', 'remove'];
/** Rounds in all; each sends one batch and one report, every fifth one a legal order. */
const ROUNDS = 40;
/** Requests in flight at once (each lane runs rounds one after another). */
const LANES = 3;
/** The worker and the API process are killed once this many rounds were started. */
const KILL_AT_ROUND = 14;

interface Api {
  name: string;
  base: string;
  process: CliServer;
  alive: boolean;
}

function send(api: Api, path: string, token: string, body: unknown): Promise<PostAnswer> {
  return postJson(`${api.base}${path}`, token, body, 20_000);
}

/** Polls `check` until it returns true; fails with `describe()` after `timeoutMs`. */
async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  describe: () => Promise<string>,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${await describe()}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('multi-process deployment: 2 API processes + 2 workers on PostgreSQL and NATS', { skip }, () => {
  let h: Harness | undefined;
  let admin: NatsConnection | undefined;
  let receiver: Receiver | undefined;
  const children: CliServer[] = [];
  const prefix = `mp${crypto.randomBytes(5).toString('hex')}`;
  // Every process reads the same key from the environment (the harness gets it as configuration).
  const masterKey = crypto.randomBytes(32);

  before(async () => {
    // Tokens, the authority and the schema are made here; the processes share them through the store.
    h = await startHarness('postgres', { config: { masterKey } });
    admin = await connect({ servers: NATS_URL });
  });

  after(async () => {
    // Children first: their connections hold the schema and the streams.
    await Promise.allSettled(children.map((c) => c.stop('SIGKILL')));
    await receiver?.close().catch(() => {});
    if (admin) {
      const names = scanQueueNames(prefix);
      const jsm = await admin.jetstreamManager().catch(() => undefined);
      for (const stream of [names.stream, names.deadStream]) await jsm?.streams.delete(stream).catch(() => {});
      await admin.close().catch(() => {});
    }
    if (h) await stopHarness(h);
  });

  it('streams content, reports and orders through both APIs, survives SIGKILL of a worker and an API, loses and repeats nothing', {
    timeout: 240_000,
  }, async (t) => {
    assert.ok(h);
    const harness = h;
    const started = Date.now();
    const db = harness.ctx.store.db;

    // The platform's webhook endpoint: the first try of every seventh event fails, to prove retries.
    let distinctEvents = 0;
    const failedFirst = new Set<string>();
    receiver = await startReceiver({
      behaviour: ({ eventId, attempt }) => {
        if (attempt > 1) return 200;
        if (distinctEvents++ % 7 === 0) {
          failedFirst.add(eventId);
          return 500;
        }
        return 200;
      },
    });
    const registered = await harness.call('POST', '/v1/webhooks', {
      token: harness.tokens.admin,
      body: { url: receiver.url },
    });
    assert.equal(registered.statusCode, 201, registered.body);
    const endpointId: string = registered.data.id;

    // Authors of the streamed content, and an account with a violation for the orders to name.
    const accounts = Array.from({ length: 8 }, () => buildAccount());
    const acc = await harness.call('POST', '/v1/ingest/accounts', {
      token: harness.tokens.platform,
      body: { accounts },
    });
    assert.equal(acc.statusCode, 200, acc.body);
    const violator = await seedViolator(harness, { sessions: 2 });

    const env: NodeJS.ProcessEnv = {
      ...cliEnv(harness),
      CUSTOS_MASTER_KEY: masterKey.toString('hex'),
      CUSTOS_LOG_LEVEL: 'info',
      CUSTOS_PG_POOL_SIZE: '4',
      CUSTOS_NATS_URL: NATS_URL,
      CUSTOS_NATS_PREFIX: prefix,
      // Short, so the killed worker's messages and webhook leases come back within the test.
      CUSTOS_NATS_ACK_WAIT_MS: '4000',
      CUSTOS_WEBHOOK_TIMEOUT_MS: '2000',
      CUSTOS_WEBHOOK_POLL_MS: '200',
      CUSTOS_WEBHOOK_RETRY_BASE_MS: '200',
      CUSTOS_LEGAL_JOBS_INTERVAL_MS: '1000',
    };
    const startWorker = () => {
      const w = startCli(['worker', '--concurrency', '4'], env);
      children.push(w);
      return w;
    };
    const apis: Api[] = [];
    for (const name of ['api-a', 'api-b']) {
      const port = await freePort();
      const p = startCli(['serve', '--workers', '0', '--port', String(port)], env);
      children.push(p);
      apis.push({ name, base: `http://127.0.0.1:${port}`, process: p, alive: true });
    }
    const workers = [startWorker(), startWorker()];
    await Promise.all([
      ...apis.map((a) => a.process.waitForStdout(/custos is listening/, 90_000)),
      ...workers.map((w) => w.waitForStdout(/custos worker is running/, 90_000)),
    ]);
    for (const api of apis) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ready = await fetch(`${api.base}/readyz`)
          .then((r) => r.json())
          .catch(() => undefined);
        if (JSON.stringify(ready) === JSON.stringify({ status: 'ready', checks: { store: 'ok', nats: 'ok' } })) break;
        assert.ok(Date.now() < deadline, `${api.name} never saw NATS: ${JSON.stringify(ready)}`);
        await sleep(100);
      }
    }
    const readyAt = Date.now();
    t.diagnostic(`4 processes ready after ${readyAt - started} ms`);

    // The stream. Only 2xx answers count as accepted.
    const accepted = {
      content: new Map<string, Expected>(),
      reports: new Map<string, string>(),
      orders: new Map<string, string>(),
    };
    const sent = { content: 0, reports: [] as string[], orders: [] as string[] };
    const failures: string[] = [];
    let nextRound = 0;
    let killedAt = 0;
    let restarted: CliServer | undefined;

    const kill = async () => {
      killedAt = Date.now();
      apis[1]!.alive = false;
      const [w, a] = await Promise.all([workers[0]!.stop('SIGKILL'), apis[1]!.process.stop('SIGKILL')]);
      assert.equal(w.signal, 'SIGKILL');
      assert.equal(a.signal, 'SIGKILL');
      // A fresh worker joins while the stream goes on.
      restarted = startWorker();
    };

    const lane = async () => {
      for (;;) {
        const round = nextRound++;
        if (round >= ROUNDS) return;
        if (round === KILL_AT_ROUND) await kill();
        const live = apis.filter((a) => a.alive);
        const api = live[round % live.length]!;
        const items = BATCH.map((expected, i) =>
          buildContent(accounts[(round + i) % accounts.length]!.id, { ...TEXTS[expected] }),
        );
        const expectedOf = new Map(items.map((c, i) => [c.id, BATCH[i]!]));
        sent.content += items.length;
        const ingest = send(api, '/v1/ingest/content?async=true', harness.tokens.platform, { items });
        // A report on something accepted earlier (any verdict), from a reporter named once.
        const known = [...accepted.content.keys()];
        const target = known.length > 0 ? known[crypto.randomInt(known.length)]! : null;
        const reporter = `reporter-${round}-${crypto.randomBytes(3).toString('hex')}`;
        const report = target
          ? send(api, '/v1/reports', harness.tokens.platform, {
              subject: { contentId: target },
              category: 'illegal_drugs',
              reporter: { accountId: reporter },
            })
          : undefined;
        if (target) sent.reports.push(reporter);
        const order = round % 5 === 2 ? buildOrder([{ accountId: violator.accountId }]) : undefined;
        if (order) sent.orders.push(order.caseReference);
        const filed = order ? send(api, '/v1/legal-requests', harness.tokens.authority, order) : undefined;

        const [i, r, o] = await Promise.all([ingest, report, filed]);
        if (i.status === 202) for (const [id, e] of expectedOf) accepted.content.set(id, e);
        else failures.push(`${api.name} ingest: ${i.status} ${i.error ?? JSON.stringify(i.data)}`);
        if (r) {
          if (r.status === 201) accepted.reports.set(r.data.id, reporter);
          else failures.push(`${api.name} report: ${r.status} ${r.error ?? JSON.stringify(r.data)}`);
        }
        if (o && order) {
          if (o.status === 201) accepted.orders.set(o.data.id, order.caseReference);
          else failures.push(`${api.name} order: ${o.status} ${o.error ?? JSON.stringify(o.data)}`);
        }
        await sleep(50);
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    const streamedAt = Date.now();
    // The replacement worker joins in time to share the backlog and the killed worker's redeliveries.
    await restarted!.waitForStdout(/custos worker is running/, 60_000);
    assert.ok(killedAt > 0, 'the kill happened mid-stream');
    // Failures are requests the killed API had in flight (or was sent before it was marked dead).
    for (const f of failures) assert.match(f, /^api-b /, `only the killed API may fail a request: ${f}`);
    t.diagnostic(
      `streamed for ${streamedAt - readyAt} ms: ${accepted.content.size}/${sent.content} content, ` +
        `${accepted.reports.size}/${sent.reports.length} reports, ${accepted.orders.size}/${sent.orders.length} orders accepted; ` +
        `${failures.length} requests failed on the killed API`,
    );
    assert.ok(accepted.orders.size >= 3, 'a few orders were filed');

    const contentIds = [...accepted.content.keys()];
    const removeIds = contentIds.filter((id) => accepted.content.get(id) === 'remove');

    // Every accepted item scanned, every removal decided, every webhook delivered.
    const jobsDone = async () =>
      Number(
        (
          await db
            .selectFrom('scan_jobs')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('content_id', 'in', contentIds)
            .where('status', '=', 'done')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const removedCount = async () =>
      Number(
        (
          await db
            .selectFrom('decisions')
            .select((eb) => eb.fn.count<string>('subject_id').distinct().as('n'))
            .where('subject_id', 'in', removeIds)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const undelivered = async () =>
      Number(
        (
          await db
            .selectFrom('webhook_outbox')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('endpoint_id', '=', endpointId)
            .where('status', '!=', 'delivered')
            .executeTakeFirstOrThrow()
        ).n,
      );
    /** What became of the removals without a decision, for the failure message. */
    const undecided = async () => {
      const decided = new Set(
        (await db.selectFrom('decisions').select('subject_id').where('subject_id', 'in', removeIds).execute()).map(
          (d) => d.subject_id,
        ),
      );
      const missing = removeIds.filter((id) => !decided.has(id));
      if (missing.length === 0) return 'no removal undecided';
      const facts = [];
      for (const id of missing.slice(0, 5)) {
        const [job, verdict, cases] = await Promise.all([
          db.selectFrom('scan_jobs').selectAll().where('content_id', '=', id).executeTakeFirst(),
          db.selectFrom('scan_results').select(['action', 'category']).where('content_id', '=', id).executeTakeFirst(),
          db
            .selectFrom('cases')
            .select(['id', 'status', 'opened_by', 'decision_id'])
            .where('subject_id', '=', id)
            .execute(),
        ]);
        const logs = children.flatMap((c) =>
          `${c.stdout()}\n${c.stderr()}`.split('\n').filter((l) => l.includes(id) && !l.includes('"req"')),
        );
        facts.push({ id, job, verdict, cases, logs: logs.map((l) => l.slice(0, 600)) });
      }
      return `undecided removals: ${JSON.stringify(facts)}`;
    };
    await waitUntil(
      'every accepted item scanned, every removal decided and every webhook delivered',
      async () =>
        (await jobsDone()) === contentIds.length &&
        (await removedCount()) === removeIds.length &&
        (await undelivered()) === 0,
      async () =>
        `${await jobsDone()}/${contentIds.length} scan jobs done, ${await removedCount()}/${removeIds.length} removals decided, ` +
        `${await undelivered()} webhooks not delivered; ${await undecided()}`,
      60_000,
    );
    const settledAt = Date.now();

    // Exactly one verdict per accepted item, for its stored version, and the expected one.
    const verdicts = await db
      .selectFrom('scan_results')
      .innerJoin('content', 'content.id', 'scan_results.content_id')
      .select([
        'scan_results.content_id',
        'scan_results.action',
        'scan_results.fingerprint as scanned',
        'content.fingerprint as stored',
        'content.state',
      ])
      .where('scan_results.content_id', 'in', contentIds)
      .execute();
    assert.equal(verdicts.length, contentIds.length, 'one verdict per accepted item');
    for (const v of verdicts) {
      const expected = accepted.content.get(v.content_id);
      assert.equal(v.action, expected, `${v.content_id}: verdict`);
      assert.equal(v.scanned, v.stored, `${v.content_id}: scanned in its stored version`);
      assert.equal(v.state, expected === 'remove' ? 'removed' : 'visible', `${v.content_id}: state`);
    }

    // Each automated removal decided exactly once, in effect; nothing else decided.
    const decisions = await db
      .selectFrom('decisions')
      .select(['id', 'subject_id', 'decided_by', 'automation', 'status', 'removes_content'])
      .where('subject_type', '=', 'content')
      .where('subject_id', 'in', contentIds)
      .execute();
    const bySubject = new Map<string, typeof decisions>();
    for (const d of decisions) bySubject.set(d.subject_id, [...(bySubject.get(d.subject_id) ?? []), d]);
    for (const id of contentIds) {
      const mine = bySubject.get(id) ?? [];
      if (accepted.content.get(id) !== 'remove') {
        assert.deepEqual(mine, [], `${id}: not decided`);
        continue;
      }
      assert.equal(mine.length, 1, `${id}: exactly one decision, got ${JSON.stringify(mine)}`);
      const [d] = mine;
      assert.equal(d!.decided_by, SCANNER_ACTOR.id);
      assert.equal(d!.automation, 'full');
      assert.equal(d!.status, 'in_effect');
      assert.equal(d!.removes_content, 1);
    }

    // Webhooks: every outbox entry of the endpoint delivered and received (deduplicated by event id).
    const outbox = await db
      .selectFrom('webhook_outbox')
      .select(['id', 'event_type', 'payload', 'status', 'attempts'])
      .where('endpoint_id', '=', endpointId)
      .execute();
    const outboxIds = new Set(outbox.map((o) => o.id));
    const received = new Map(receiver.accepted().map((r) => [r.eventId, r]));
    for (const o of outbox) {
      assert.equal(o.status, 'delivered', `${o.id} (${o.event_type})`);
      assert.ok(received.has(o.id), `${o.id} (${o.event_type}) reached the receiver`);
    }
    for (const r of receiver.received) assert.ok(outboxIds.has(r.eventId), `${r.eventId} is an outbox entry`);
    // One content.removed per decision, in the outbox and at the receiver.
    const removedEvents = new Map<string, string[]>();
    for (const r of received.values()) {
      if (r.json.type !== 'content.removed') continue;
      const list = removedEvents.get(r.json.data.decisionId) ?? [];
      list.push(r.eventId);
      removedEvents.set(r.json.data.decisionId, list);
    }
    for (const d of decisions) {
      assert.deepEqual(removedEvents.get(d.id)?.length, 1, `decision ${d.id}: one content.removed event`);
      assert.equal(
        outbox.filter((o) => o.event_type === 'content.removed' && JSON.parse(o.payload).data.decisionId === d.id)
          .length,
        1,
      );
    }
    // Retries: the events failed once were delivered on a later attempt.
    assert.ok(failedFirst.size > 0, 'some deliveries failed first');
    for (const id of failedFirst) {
      const row = outbox.find((o) => o.id === id);
      assert.ok(row && row.attempts >= 2, `${id} retried (attempts ${row?.attempts})`);
    }
    // A 2xx answered twice for one event is a repeat the receiver did not cause. It is allowed only
    // for a delivery the killed worker had in flight (at-least-once across a crash, by its lease).
    const okAnswers = new Map<string, number[]>();
    for (const r of receiver.received) {
      if (r.answered !== 200) continue;
      okAnswers.set(r.eventId, [...(okAnswers.get(r.eventId) ?? []), r.at]);
    }
    const repeated = [...okAnswers].filter(([, at]) => at.length > 1);
    for (const [id, at] of repeated) {
      assert.ok(
        at.length === 2 && at[0]! <= killedAt && at[0]! > killedAt - 5000,
        `${id} delivered successfully ${at.length} times, first at ${at[0]! - killedAt} ms from the kill`,
      );
    }

    // Reports and orders: each accepted one stored once, and nothing stored twice.
    const reports = await db
      .selectFrom('reports')
      .select(['id', 'reporter_account_id'])
      .where('reporter_account_id', 'in', sent.reports)
      .execute();
    const reportsByReporter = new Map<string, number>();
    for (const r of reports)
      reportsByReporter.set(r.reporter_account_id!, (reportsByReporter.get(r.reporter_account_id!) ?? 0) + 1);
    for (const [id, reporter] of accepted.reports) {
      assert.ok(
        reports.some((r) => r.id === id && r.reporter_account_id === reporter),
        `report ${id} stored`,
      );
    }
    for (const [reporter, n] of reportsByReporter) assert.equal(n, 1, `${reporter}: one report`);
    const orders = await db
      .selectFrom('legal_requests')
      .select(['id', 'case_reference'])
      .where('case_reference', 'in', sent.orders)
      .execute();
    for (const [id, ref] of accepted.orders) {
      assert.ok(
        orders.some((o) => o.id === id && o.case_reference === ref),
        `order ${id} stored`,
      );
    }
    assert.equal(new Set(orders.map((o) => o.case_reference)).size, orders.length, 'no order stored twice');

    // The audit chain, appended to by five processes, is whole.
    const audit = await verifyAudit(db);
    assert.ok(audit.ok, JSON.stringify(audit));

    // The queue: nothing dead-lettered, nothing left.
    const names = scanQueueNames(prefix);
    const jsm = await admin!.jetstreamManager();
    assert.equal((await jsm.streams.info(names.deadStream)).state.messages, 0, 'no dead letters');
    const redelivered = await db
      .selectFrom('scan_jobs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('content_id', 'in', contentIds)
      .where('attempts', '>=', 2)
      .executeTakeFirstOrThrow();
    t.diagnostic(
      `settled ${settledAt - streamedAt} ms after the stream: ${contentIds.length} items scanned once ` +
        `(${redelivered.n} needed a second attempt), ${decisions.length} automated removals, ` +
        `${outbox.length} webhooks delivered (${failedFirst.size} after a failed first try, ` +
        `${repeated.length} repeated across the kill), ${accepted.reports.size} reports, ${accepted.orders.size} orders, ` +
        `${audit.entries} audit entries; total ${Date.now() - started} ms`,
    );

    // What the workers had to recover from, as their logs tell it.
    const logLines = children.flatMap((c) => c.stdout().split('\n'));
    for (const msg of ['scan job failed', 'finishing an automated removal left undecided', 'background job failed']) {
      const lines = logLines.filter((l) => l.includes(`"msg":"${msg}"`));
      if (lines.length > 0) t.diagnostic(`${lines.length} x "${msg}", e.g. ${lines[0]!.slice(0, 700)}`);
    }

    // The survivors stop gracefully.
    const survivors = { 'api-a': apis[0]!.process, 'worker-b': workers[1]!, 'worker-c (restarted)': restarted! };
    for (const [name, p] of Object.entries(survivors)) {
      const stopped = await p.stop('SIGTERM', 15_000);
      assert.deepEqual(stopped, { code: 0, signal: null }, `${name}: ${p.stderr().slice(-2000)}`);
    }
  });
  // The two ways the stream above lost or could double a removal, made to happen on purpose.
  it('a removal whose decision never ran is taken on the retry; two scans of one version decide once', async () => {
    assert.ok(h);
    const harness = h;
    const db = harness.ctx.store.db;
    const author = buildAccount();
    await harness.call('POST', '/v1/ingest/accounts', { token: harness.tokens.platform, body: { accounts: [author] } });
    const ingest = async () => {
      const item = buildContent(author.id, { ...TEXTS.remove });
      const res = await harness.call('POST', '/v1/ingest/content?async=true', {
        token: harness.tokens.platform,
        body: { items: [item] },
      });
      assert.equal(res.statusCode, 202, res.body);
      return item.id;
    };
    const decisionsOn = (id: string) =>
      db.selectFrom('decisions').select(['id', 'case_id']).where('subject_id', '=', id).execute();

    // The process dies after the verdict and its case commit, before the decision: the same step
    // in scanStoredContent throws here. The retry finds the verdict and still removes, once.
    const lost = await ingest();
    const s = harness.ctx.scanning;
    const dying: ScanningPolicy = {
      maxTextChars: s.maxTextChars,
      section: s.section,
      threshold: (category, isPublic) => s.threshold(category, isPublic),
      isShadow: (category, scanner) => s.isShadow(category, scanner),
      ground: () => {
        throw new Error('the process died here');
      },
    };
    await assert.rejects(scanStoredContent({ ...harness.ctx, scanning: dying }, lost), /the process died here/);
    assert.deepEqual(await decisionsOn(lost), [], 'verdict stored, nothing decided');
    assert.equal((await scanStoredContent(harness.ctx, lost)).action, 'remove');
    assert.equal((await decisionsOn(lost)).length, 1, 'the retry decides');
    await scanStoredContent(harness.ctx, lost);
    assert.equal((await decisionsOn(lost)).length, 1, 'and only once');

    // A message redelivered while its first worker is still scanning: the second scan finishes
    // only after the first one decided (and closed the case). It must not open and decide another.
    const twice = await ingest();
    const slow = Object.create(harness.ctx.scanner) as ScanPipeline;
    slow.scan = async (item) => {
      const verdict = await harness.ctx.scanner.scan(item);
      const deadline = Date.now() + 20_000;
      while ((await decisionsOn(twice)).length === 0) {
        assert.ok(Date.now() < deadline, 'the first scan decided');
        await sleep(20);
      }
      return verdict;
    };
    const late: Context = { ...harness.ctx, scanner: slow };
    await Promise.all([scanStoredContent(late, twice), scanStoredContent(harness.ctx, twice)]);
    const decided = await decisionsOn(twice);
    assert.equal(decided.length, 1, `one decision, got ${JSON.stringify(decided)}`);
    const cases = await db.selectFrom('cases').select('id').where('subject_id', '=', twice).execute();
    assert.deepEqual(
      cases.map((c) => c.id),
      [decided[0]!.case_id],
      'one case',
    );
  });
});
