import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { MAX_ATTEMPTS, backoffMs, deliverDue } from '../src/webhooks/delivery.js';
import { verifySignature } from '../src/webhooks/signature.js';
import { startWorkers } from '../src/workers/scheduler.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { decideOk, reportAs, reportedContent, seedAccount, seedContent } from './helpers/notice-action.js';
import { type Receiver, freePort, startReceiver } from './helpers/webhook-receiver.js';

const HOUR = 3_600_000;

interface Endpoint {
  id: string;
  secret: string;
}

async function register(h: Harness, url: string, events?: string[]): Promise<Endpoint> {
  const res = await h.call('POST', '/v1/webhooks', {
    token: h.tokens.admin,
    body: { url, ...(events ? { events } : {}) },
  });
  assert.equal(res.statusCode, 201, res.body);
  assert.match(res.data.secret, /^whsec_/);
  return { id: res.data.id, secret: res.data.secret };
}

async function outbox(h: Harness, endpointId: string) {
  return h.ctx.store.db
    .selectFrom('webhook_outbox')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('created_at')
    .execute();
}

/** Runs delivery rounds with the clock moved an hour ahead (so backoff never holds a row) until none is pending. */
async function drain(h: Harness, endpointId: string, maxRounds = 20): Promise<number> {
  for (let round = 1; round <= maxRounds; round++) {
    await deliverDue(h.ctx, { now: Date.now() + HOUR });
    const pending = (await outbox(h, endpointId)).filter((r) => r.status === 'pending');
    if (pending.length === 0) return round;
  }
  throw new Error(`outbox of ${endpointId} still pending after ${maxRounds} rounds`);
}

/** A decision that removes reported content (reported by two users) and suspends its author. */
async function enforcement(h: Harness) {
  const { account, content } = await seedContent(h);
  const r1 = await reportAs(h, { contentId: content.id }, 'illegal_drugs', 'in-app-reporter-1');
  const r2 = await reportAs(h, { contentId: content.id }, 'illegal_drugs', 'in-app-reporter-2');
  const decision = await decideOk(h, r1.caseId, {
    actions: [
      { type: 'remove_content' },
      { type: 'suspend_account', until: new Date(Date.now() + 86_400_000).toISOString() },
    ],
  });
  return { account, content, reports: [r1, r2], decision };
}

describeEachStore(
  'webhooks',
  (get) => {
    let receiver: Receiver | undefined;
    let endpoint: Endpoint | undefined;

    // Each test has its own receiver and endpoint; afterwards the endpoint is
    // retired and its leftovers taken out of the outbox, so tests stay apart.
    afterEach(async () => {
      const h = get();
      if (endpoint) {
        await h.call('POST', `/v1/webhooks/${endpoint.id}/deactivate`, { token: h.tokens.admin });
        await h.ctx.store.db
          .updateTable('webhook_outbox')
          .set({ status: 'dead' })
          .where('endpoint_id', '=', endpoint.id)
          .where('status', '=', 'pending')
          .execute();
      }
      await receiver?.close();
      receiver = undefined;
      endpoint = undefined;
    });

    it('sends signed enforcement events, with the statement, and report.resolved for each report', async () => {
      const h = get();
      receiver = await startReceiver();
      endpoint = await register(h, receiver.url);
      const { account, content, reports, decision } = await enforcement(h);
      const round = await deliverDue(h.ctx);
      assert.equal(round.failed, 0);
      assert.equal(round.delivered, 4);

      const byType = new Map<string, any[]>();
      for (const r of receiver.received) byType.set(r.json.type, [...(byType.get(r.json.type) ?? []), r]);
      assert.deepEqual([...byType.keys()].sort(), ['account.suspended', 'content.removed', 'report.resolved']);

      const removed = byType.get('content.removed')![0];
      assert.equal(removed.json.data.decisionId, decision.id);
      assert.equal(removed.json.data.contentId, content.id);
      assert.equal(removed.json.data.accountId, account);
      const statement = await h.call('GET', `/v1/decisions/${decision.id}/statement`, { token: h.tokens.platform });
      assert.deepEqual(removed.json.data.statement, statement.data.statement, 'the statement of reasons travels along');
      assert.equal(byType.get('account.suspended')![0].json.data.accountId, account);

      const resolved = byType.get('report.resolved')!;
      assert.deepEqual(resolved.map((r) => r.json.data.reportId).sort(), reports.map((r) => r.id).sort());
      for (const r of resolved) assert.equal(r.json.data.outcome, 'action_taken');
      assert.deepEqual(
        resolved.map((r) => r.json.data.reporterAccountId).sort(),
        ['in-app-reporter-1', 'in-app-reporter-2'],
        'the platform learns whom to tell in-app',
      );

      for (const r of receiver.received) {
        const signature = String(r.headers['custos-signature']);
        assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
        assert.ok(verifySignature(endpoint.secret, signature, r.body), 'valid over the exact raw body');
        assert.ok(!verifySignature(`${endpoint.secret}x`, signature, r.body), 'not with another secret');
        assert.ok(!verifySignature(endpoint.secret, signature, `${r.body} `), 'not tampered');
        assert.ok(
          !verifySignature(endpoint.secret, signature, r.body, 300, Date.now() + 10 * 60_000),
          'a replay ten minutes later is refused',
        );
        assert.equal(r.headers['idempotency-key'], r.json.id);
        assert.equal(r.headers['custos-event-id'], r.json.id);
        assert.equal(r.headers['custos-event-type'], r.json.type);
        assert.match(String(r.headers['content-type']), /^application\/json/);
      }
      assert.equal(new Set(receiver.received.map((r) => r.eventId)).size, 4, 'distinct event ids');

      const deliveries = await h.call('GET', '/v1/webhooks/deliveries?status=delivered', { token: h.tokens.admin });
      const mine = deliveries.data.deliveries.filter((d: { endpointId: string }) => d.endpointId === endpoint!.id);
      assert.equal(mine.length, 4);
      for (const d of mine) assert.equal(d.attempts, 1);

      const again = await deliverDue(h.ctx, { now: Date.now() + HOUR });
      assert.equal(again.attempted, 0, 'nothing is sent twice once accepted');
      assert.equal(receiver.received.length, 4);
    });

    it('sends only the events an endpoint subscribed to', async () => {
      const h = get();
      receiver = await startReceiver();
      endpoint = await register(h, receiver.url, ['account.banned', 'account.warned']);
      const account = await seedAccount(h);
      const r = await reportAs(h, { accountId: account.id }, 'scam_fraud');
      await decideOk(h, r.caseId, { actions: [{ type: 'ban_account' }], category: 'scam_fraud' });
      await drain(h, endpoint.id);
      assert.deepEqual(
        receiver.received.map((x) => x.json.type),
        ['account.banned'],
      );
    });

    it('refuses an endpoint with an unknown event or a non-http URL', async () => {
      const h = get();
      const unknown = await h.call('POST', '/v1/webhooks', {
        token: h.tokens.admin,
        body: { url: 'http://127.0.0.1:9/x', events: ['content.deleted'] },
      });
      assertErrorBody(unknown, 422, 'validation_failed');
      const ftp = await h.call('POST', '/v1/webhooks', { token: h.tokens.admin, body: { url: 'ftp://example.org/x' } });
      assertErrorBody(ftp, 422, 'validation_failed');
      const moderator = await h.call('POST', '/v1/webhooks', {
        token: h.tokens.moderator,
        body: { url: 'http://127.0.0.1:9/x' },
      });
      assertErrorBody(moderator, 403, 'forbidden');
    });

    it('retries a receiver that fails three times with backoff, then delivers once (attempts = 4)', async () => {
      const h = get();
      receiver = await startReceiver({ behaviour: ({ attempt }) => (attempt <= 3 ? 500 : 200) });
      endpoint = await register(h, receiver.url, ['content.removed']);
      const { caseId } = await reportedContent(h);
      const decision = await decideOk(h, caseId);

      for (let attempt = 1; attempt <= 3; attempt++) {
        const now = Date.now() + attempt * HOUR;
        const round = await deliverDue(h.ctx, { now });
        assert.equal(round.failed, 1, `attempt ${attempt} fails`);
        const [row] = await outbox(h, endpoint.id);
        assert.equal(row!.status, 'pending');
        assert.equal(row!.attempts, attempt);
        assert.equal(row!.last_error, 'HTTP 500');
        const early = await deliverDue(h.ctx, { now: Date.now() - 1000 });
        assert.equal(early.attempted, 0, 'not retried before its backoff');
      }
      const round = await deliverDue(h.ctx, { now: Date.now() + 10 * HOUR });
      assert.equal(round.delivered, 1);
      const [row] = await outbox(h, endpoint.id);
      assert.equal(row!.status, 'delivered');
      assert.equal(row!.attempts, 4);
      assert.equal(row!.last_error, null);

      assert.equal(receiver.received.length, 4);
      assert.deepEqual(
        receiver.received.map((r) => r.attempt),
        [1, 2, 3, 4],
      );
      assert.equal(new Set(receiver.received.map((r) => r.eventId)).size, 1, 'the same event id every time');
      assert.equal(receiver.accepted().length, 1);
      assert.equal(receiver.accepted()[0]!.json.data.decisionId, decision.id);
      for (const r of receiver.received)
        assert.ok(verifySignature(endpoint.secret, String(r.headers['custos-signature']), r.body));

      for (let i = 0; i < 3; i++) await deliverDue(h.ctx, { now: Date.now() + 100 * HOUR });
      assert.equal(receiver.received.length, 4, 'never delivered again once accepted');

      // Backoff: equal jitter on base × 2^(attempt−1), capped at an hour.
      assert.equal(backoffMs(1, 2000, 0), 1000);
      assert.equal(backoffMs(1, 2000, 1), 2000);
      assert.equal(backoffMs(4, 2000, 0), 8000);
      assert.equal(backoffMs(40, 2000, 1), 3_600_000, 'capped at one hour');
    });

    it('times out a receiver that hangs, keeps the decision, and delivers on retry', async () => {
      const h = get();
      receiver = await startReceiver({ behaviour: ({ attempt }) => (attempt === 1 ? 'hang' : 200) });
      endpoint = await register(h, receiver.url, ['content.removed']);
      const { caseId } = await reportedContent(h);
      const decision = await decideOk(h, caseId);

      const started = Date.now();
      const round = await deliverDue(h.ctx);
      const took = Date.now() - started;
      assert.equal(round.failed, 1);
      assert.ok(took >= h.config.webhookTimeoutMs - 50 && took < h.config.webhookTimeoutMs + 2000, `took ${took} ms`);
      const [row] = await outbox(h, endpoint.id);
      assert.equal(row!.status, 'pending');
      assert.match(row!.last_error ?? '', /timeout/);

      const stored = await h.call('GET', `/v1/decisions/${decision.id}`, { token: h.tokens.moderator });
      assert.equal(stored.statusCode, 200);
      assert.equal(stored.data.status, 'in_effect');
      const c = await h.call('GET', `/v1/cases/${caseId}`, { token: h.tokens.moderator });
      assert.equal(c.data.content.state, 'removed', 'enforcement does not wait for the platform');

      await drain(h, endpoint.id);
      const [done] = await outbox(h, endpoint.id);
      assert.equal(done!.status, 'delivered');
      assert.equal(done!.attempts, 2);
      assert.equal(receiver.accepted().length, 1);
    });

    it('keeps deliveries pending while the receiver is down, and delivers once it is up', async () => {
      const h = get();
      const port = await freePort();
      endpoint = await register(h, `http://127.0.0.1:${port}/hooks/custos`, ['content.removed', 'report.resolved']);
      const { caseId } = await reportedContent(h);
      await decideOk(h, caseId);
      await deliverDue(h.ctx);
      await deliverDue(h.ctx, { now: Date.now() + HOUR });
      const down = await h.call('GET', '/v1/webhooks/deliveries?status=pending', { token: h.tokens.admin });
      const mine = down.data.deliveries.filter((d: { endpointId: string }) => d.endpointId === endpoint!.id);
      assert.equal(mine.length, 2);
      for (const d of mine) {
        assert.equal(d.attempts, 2);
        assert.ok(d.lastError && d.lastError.length > 0, 'the error is recorded');
        assert.equal(d.deliveredAt, null);
      }

      receiver = await startReceiver({ port });
      await drain(h, endpoint.id);
      assert.deepEqual(
        receiver
          .accepted()
          .map((r) => r.json.type)
          .sort(),
        ['content.removed', 'report.resolved'],
      );
      for (const row of await outbox(h, endpoint.id)) {
        assert.equal(row.status, 'delivered');
        // Two failed attempts while it was down, then one per request the receiver got: one, or more when
        // a loaded machine let the suite's 400 ms timeout cut an answer and the entry was sent again.
        const requests: number = receiver.received.filter((r) => r.eventId === row.id).length;
        assert.ok(requests >= 1, 'sent once the receiver was up');
        assert.equal(row.attempts, 2 + requests);
      }
    });

    it('never sends one entry twice when delivery rounds run at the same time (lease)', async () => {
      const h = get();
      receiver = await startReceiver({ delayMs: 150 });
      endpoint = await register(h, receiver.url);
      for (let i = 0; i < 3; i++) {
        const { caseId } = await reportedContent(h);
        await decideOk(h, caseId);
      }
      const expected = (await outbox(h, endpoint.id)).length;
      assert.equal(expected, 6, 'content.removed and report.resolved per case');
      const rounds = await Promise.all([deliverDue(h.ctx), deliverDue(h.ctx), deliverDue(h.ctx)]);
      assert.equal(
        rounds.reduce((n, r) => n + r.attempted, 0),
        expected,
      );
      assert.equal(receiver.received.length, expected);
      assert.equal(new Set(receiver.received.map((r) => r.eventId)).size, expected, 'each entry sent once');
      for (const row of await outbox(h, endpoint.id)) {
        // On a heavily loaded machine the suite's 400 ms timeout can cut a 150 ms answer: that entry is
        // rescheduled for a retry (not sent twice by racing rounds, which is what this test is about).
        if (row.status !== 'delivered') assert.match(row.last_error ?? '', /^timeout after/, row.status);
        assert.equal(row.attempts, 1, 'one attempt each');
      }
    });

    it('counts every attempt, and a failure that returns after its lease ran out does not undo a delivery', async () => {
      const h = get();
      receiver = await startReceiver({ behaviour: ({ attempt }) => (attempt === 1 ? 'hang' : 200) });
      endpoint = await register(h, receiver.url, ['content.removed']);
      const { caseId } = await reportedContent(h);
      await decideOk(h, caseId);
      // A worker whose request hangs until the 400 ms timeout…
      const stalled = deliverDue(h.ctx);
      await receiver.waitFor((r) => r.length === 1, 5000);
      // …while, ten minutes on by another worker's clock, its lease has run out: that worker takes the entry.
      const other = await deliverDue(h.ctx, { now: Date.now() + 10 * 60_000 });
      assert.equal(other.delivered, 1);
      assert.equal((await stalled).failed, 1, 'the stalled request timed out after the other was delivered');
      const rows = await outbox(h, endpoint.id);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.status, 'delivered', 'the late failure did not reschedule a delivered entry');
      assert.equal(rows[0]!.last_error, null);
      assert.equal(rows[0]!.attempts, 2, 'both attempts counted');
      assert.equal(receiver.accepted().length, 1);
    });

    it('a failure that returns after its lease ran out leaves the lease and the schedule of the worker that took over', async () => {
      const h = get();
      // A hangs until the suite's 400 ms timeout; B, with a patient timeout, gets its answer 1.5 s later.
      receiver = await startReceiver({
        behaviour: ({ attempt }) => (attempt === 1 ? 'hang' : { status: 200, delayMs: 1500 }),
      });
      endpoint = await register(h, receiver.url, ['content.removed']);
      const { caseId } = await reportedContent(h);
      await decideOk(h, caseId);
      const stalled = deliverDue(h.ctx);
      await receiver.waitFor((r) => r.length === 1, 5000);
      const patient = { ...h.ctx, config: { ...h.ctx.config, webhookTimeoutMs: 10_000 } };
      const taking = deliverDue(patient, { now: Date.now() + 10 * 60_000 });
      await receiver.waitFor((r) => r.length === 2, 5000);
      const [taken] = await outbox(h, endpoint.id);
      assert.ok(taken!.lease_until !== null, "B holds the entry's lease");
      assert.equal((await stalled).failed, 1, 'A timed out while B was still waiting for its answer');
      const [during] = await outbox(h, endpoint.id);
      assert.equal(receiver.received[1]!.answeredAt, undefined, 'B had no answer yet when A failed');
      assert.equal(during!.status, 'pending');
      assert.equal(Number(during!.lease_until), Number(taken!.lease_until), "A's failure left B's lease alone");
      assert.equal(Number(during!.next_attempt_at), Number(taken!.next_attempt_at), '…and the schedule');
      assert.equal(during!.last_error, null);
      assert.equal((await taking).delivered, 1);
      const [done] = await outbox(h, endpoint.id);
      assert.equal(done!.status, 'delivered');
      assert.equal(done!.attempts, 2);
    });

    it('gives up on an entry whose attempts all ended without an outcome, instead of retrying it forever', async () => {
      const h = get();
      receiver = await startReceiver();
      endpoint = await register(h, receiver.url, ['content.removed']);
      const { caseId } = await reportedContent(h);
      await decideOk(h, caseId);
      // As if a sender had died mid-request MAX_ATTEMPTS times, each time after counting its attempt.
      await h.ctx.store.db
        .updateTable('webhook_outbox')
        .set({ attempts: MAX_ATTEMPTS })
        .where('endpoint_id', '=', endpoint.id)
        .execute();
      const round = await deliverDue(h.ctx, { now: Date.now() + HOUR });
      assert.equal(round.attempted, 0);
      const [row] = await outbox(h, endpoint.id);
      assert.equal(row!.status, 'dead');
      assert.match(row!.last_error ?? '', /no outcome after 18 attempts/);
      assert.equal(receiver.received.length, 0, 'nothing sent on the attempt past the limit');
    });

    it('delivers from the in-process worker without anyone calling it', async () => {
      const h = get();
      receiver = await startReceiver();
      endpoint = await register(h, receiver.url, ['content.removed']);
      const workers = startWorkers(h.ctx);
      try {
        const { caseId } = await reportedContent(h);
        const decision = await decideOk(h, caseId);
        await receiver.waitFor((r) => r.some((x) => x.json?.data?.decisionId === decision.id), 5000);
      } finally {
        await workers.stop();
      }
      assert.equal(receiver.accepted().length, 1);
    });
  },
  { config: { webhookRetryBaseMs: 10, webhookTimeoutMs: 400, webhookPollMs: 50 } },
);
