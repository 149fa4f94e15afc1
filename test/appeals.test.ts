import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { decideCase } from '../src/decisions/service.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import {
  buildDecision,
  decideOk,
  extraToken,
  reportAs,
  reportedContent,
  seedContent,
  tokenId,
  writePolicy,
} from './helpers/notice-action.js';

const DAY = 86_400_000;

async function appeal(h: Harness, decisionId: string, text = 'I was quoting the message to warn others.') {
  return h.call('POST', `/v1/decisions/${decisionId}/appeals`, { token: h.tokens.platform, body: { text } });
}

/** Payloads of the outbox entries of one event type that mention a decision. */
async function queued(h: Harness, type: string, decisionId: string): Promise<any[]> {
  const rows = await h.ctx.store.db
    .selectFrom('webhook_outbox')
    .select('payload')
    .where('event_type', '=', type)
    .execute();
  return rows
    .map((r) => JSON.parse(r.payload))
    .filter((p: { data: { decisionId?: string } }) => p.data.decisionId === decisionId);
}

async function state(h: Harness, caseId: string, accountId: string) {
  const c = await h.call('GET', `/v1/cases/${caseId}`, { token: h.tokens.moderator });
  const a = await h.call('GET', `/v1/accounts/${accountId}`, { token: h.tokens.legal });
  const v = await h.call('GET', `/v1/accounts/${accountId}/violations`, { token: h.tokens.legal });
  return { content: c.data.content?.state, account: a.data.status, violations: v.data };
}

/** Removed content and a suspended author, decided by the harness's moderator. */
async function enforced(h: Harness) {
  const { account, caseId } = await reportedContent(h);
  const until = new Date(Date.now() + 10 * DAY).toISOString();
  const decision = await decideOk(h, caseId, {
    actions: [{ type: 'remove_content' }, { type: 'suspend_account', until }],
  });
  return { account, caseId, decision };
}

describeEachStore('appeals', (get) => {
  let second: { id: string; token: string };
  before(async () => {
    const h = get();
    second = await extraToken(h);
    // An endpoint, so that enforcement and reversal events are queued.
    const hook = await h.call('POST', '/v1/webhooks', {
      token: h.tokens.admin,
      body: { url: 'http://127.0.0.1:9/never-called' },
    });
    assert.equal(hook.statusCode, 201, hook.body);
  });

  it('lets the platform file an appeal for the account: 201 with the appeal', async () => {
    const h = get();
    const { account, decision } = await enforced(h);
    const res = await appeal(h, decision.id, 'It was satire.');
    assert.equal(res.statusCode, 201, res.body);
    assert.match(res.data.id, /^apl_/);
    assert.equal(res.data.decisionId, decision.id);
    assert.equal(res.data.accountId, account);
    assert.equal(res.data.text, 'It was satire.');
    assert.equal(res.data.status, 'open');
    assert.equal(res.data.decidedBy, decision.decidedBy);
    assert.equal(res.data.resolvedBy, null);
    for (const role of ['moderator', 'trusted_flagger', 'legal'] as const) {
      const denied = await h.call('POST', `/v1/decisions/${decision.id}/appeals`, {
        token: h.tokens[role],
        body: { text: 'x' },
      });
      assertErrorBody(denied, 403, 'forbidden');
    }
  });

  it('answers 409 for a second appeal against the same decision', async () => {
    const h = get();
    const { decision } = await enforced(h);
    const first = await appeal(h, decision.id);
    assert.equal(first.statusCode, 201);
    const again = await appeal(h, decision.id, 'Please look again.');
    const error = assertErrorBody(again, 409, 'conflict');
    assert.equal((error.details as { appealId: string }).appealId, first.data.id);
  });

  it('accepts exactly one of simultaneous appeals against one decision; the others get 409', async () => {
    const h = get();
    for (let round = 0; round < 5; round++) {
      const { decision } = await enforced(h);
      const results = await Promise.all([1, 2, 3].map((n) => appeal(h, decision.id, `appeal ${n}`)));
      const codes = results.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [201, 409, 409], `round ${round}: statuses ${codes}`);
    }
  });

  it('answers 422 for an appeal against a dismissal and 404 for an unknown decision', async () => {
    const h = get();
    const { caseId } = await reportedContent(h);
    const dismissal = await decideOk(h, caseId, { actions: [{ type: 'dismiss' }], ground: 'terms' });
    const res = await appeal(h, dismissal.id);
    const error = assertErrorBody(res, 422, 'validation_failed');
    assert.equal((error.details as Array<{ code: string }>)[0]!.code, 'nothing_to_appeal');
    assertErrorBody(await appeal(h, 'dec_nosuchdecision'), 404, 'not_found');
  });

  it('answers 422 once the appeal window (183 days) has closed, and accepts within it', async () => {
    const h = get();
    const actor = { id: await tokenId(h, h.tokens.moderator), role: 'moderator' as const };
    const late = await reportedContent(h);
    const old = await decideCase(h.ctx, actor, late.caseId, buildDecision(), { now: Date.now() - 200 * DAY });
    const res = await appeal(h, old.id);
    const error = assertErrorBody(res, 422, 'validation_failed');
    assert.equal((error.details as Array<{ code: string }>)[0]!.code, 'appeal_window_closed');

    const inTime = await reportedContent(h);
    const recent = await decideCase(h.ctx, actor, inTime.caseId, buildDecision(), { now: Date.now() - 170 * DAY });
    assert.equal((await appeal(h, recent.id)).statusCode, 201);
  });

  it('keeps the appeal away from the moderator who decided: 403 to resolve, absent from their list', async () => {
    const h = get();
    const { decision } = await enforced(h);
    const filed = await appeal(h, decision.id);
    const mine = await h.call('GET', '/v1/appeals?status=open', { token: h.tokens.moderator });
    assert.equal(mine.statusCode, 200);
    assert.ok(!mine.data.appeals.some((a: { id: string }) => a.id === filed.data.id));
    const theirs = await h.call('GET', '/v1/appeals?status=open', { token: second.token });
    assert.ok(theirs.data.appeals.some((a: { id: string }) => a.id === filed.data.id));

    const self = await h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
      token: h.tokens.moderator,
      body: { outcome: 'overturned', explanation: 'I think I was right after all.' },
    });
    assertErrorBody(self, 403, 'forbidden');
    const after = await h.call('GET', '/v1/appeals?status=open', { token: second.token });
    assert.ok(
      after.data.appeals.some((a: { id: string }) => a.id === filed.data.id),
      'still open',
    );
  });

  it('reverses everything when another moderator overturns the decision', async () => {
    const h = get();
    const { account, caseId, decision } = await enforced(h);
    const before = await state(h, caseId, account);
    assert.deepEqual([before.content, before.account, before.violations.activeStrikes], ['removed', 'suspended', 1]);
    assert.equal((await queued(h, 'content.removed', decision.id)).length, 1);

    const filed = await appeal(h, decision.id);
    const res = await h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
      token: second.token,
      body: { outcome: 'overturned', explanation: 'The message warned others about the seller.' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.data.status, 'overturned');
    assert.equal(res.data.resolvedBy, second.id);
    assert.ok(res.data.resolvedAt);

    const d = await h.call('GET', `/v1/decisions/${decision.id}`, { token: h.tokens.auditor });
    assert.equal(d.data.status, 'reversed');
    assert.ok(d.data.reversedAt);
    const after = await state(h, caseId, account);
    assert.equal(after.content, 'visible');
    assert.equal(after.account, 'active');
    assert.deepEqual(after.violations.violations, []);
    assert.equal(after.violations.activeStrikes, 0);

    const reversed = await queued(h, 'decision.reversed', decision.id);
    assert.equal(reversed.length, 1, 'the platform is told to undo the enforcement');
    assert.equal(reversed[0].data.accountId, account);
    assert.equal(reversed[0].data.accountStatus, 'active');
    const resolved = await queued(h, 'appeal.resolved', decision.id);
    assert.equal(resolved[0].data.outcome, 'overturned');

    const history = (await h.call('GET', `/v1/cases/${caseId}`, { token: h.tokens.moderator })).data.history;
    assert.deepEqual(history.map((e: { type: string }) => e.type).slice(-2), ['appeal.filed', 'decision.reversed']);

    const twice = await h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
      token: second.token,
      body: { outcome: 'upheld', explanation: 'Changed my mind once more.' },
    });
    assertErrorBody(twice, 409, 'conflict');
    assertErrorBody(await appeal(h, decision.id), 409, 'conflict');
  });

  it('keeps an account banned by another decision when one decision is overturned', async () => {
    const h = get();
    const { account, content } = await seedContent(h);
    const r1 = await reportAs(h, { contentId: content.id });
    const d1 = await decideOk(h, r1.caseId, { actions: [{ type: 'remove_content' }] });
    const r2 = await reportAs(h, { accountId: account }, 'scam_fraud');
    await decideOk(h, r2.caseId, { actions: [{ type: 'ban_account' }], category: 'scam_fraud' });
    const filed = await appeal(h, d1.id);
    const res = await h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
      token: second.token,
      body: { outcome: 'overturned', explanation: 'The message itself was fine.' },
    });
    assert.equal(res.statusCode, 200, res.body);
    const after = await state(h, r1.caseId, account);
    assert.equal(after.content, 'visible');
    assert.equal(after.account, 'banned', 'the ban stands on its own decision');
    assert.deepEqual(
      after.violations.violations.map((v: { category: string }) => v.category),
      ['scam_fraud'],
    );
  });

  it('keeps everything in force when the decision is upheld', async () => {
    const h = get();
    const { account, caseId, decision } = await enforced(h);
    const filed = await appeal(h, decision.id);
    const res = await h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
      token: second.token,
      body: { outcome: 'upheld', explanation: 'The offer is clear and the sale illegal.' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.data.status, 'upheld');
    const d = await h.call('GET', `/v1/decisions/${decision.id}`, { token: h.tokens.auditor });
    assert.equal(d.data.status, 'in_effect');
    assert.equal(d.data.reversedAt, null);
    const after = await state(h, caseId, account);
    assert.equal(after.content, 'removed');
    assert.equal(after.account, 'suspended');
    assert.deepEqual(
      after.violations.violations.map((v: { decisionId: string }) => v.decisionId),
      [decision.id],
    );
    assert.equal((await queued(h, 'decision.reversed', decision.id)).length, 0);
    assert.equal((await queued(h, 'appeal.resolved', decision.id))[0].data.outcome, 'upheld');
    const upheldList = await h.call('GET', '/v1/appeals?status=upheld', { token: second.token });
    assert.ok(upheldList.data.appeals.some((a: { id: string }) => a.id === filed.data.id));
  });

  it('accepts exactly one of simultaneous resolutions of one appeal', async () => {
    const h = get();
    const third = await extraToken(h);
    for (let round = 0; round < 3; round++) {
      const { account, caseId, decision } = await enforced(h);
      const filed = await appeal(h, decision.id);
      const results = await Promise.all([
        h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
          token: second.token,
          body: { outcome: 'overturned', explanation: 'The message warned others.' },
        }),
        h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
          token: third.token,
          body: { outcome: 'upheld', explanation: 'The offer is plain.' },
        }),
      ]);
      const codes = results.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [200, 409], `round ${round}: statuses ${codes}`);
      const winner = results.find((r) => r.statusCode === 200)!.data.status;
      const d = await h.call('GET', `/v1/decisions/${decision.id}`, { token: h.tokens.auditor });
      assert.equal(
        d.data.status,
        winner === 'overturned' ? 'reversed' : 'in_effect',
        'the decision follows the outcome',
      );
      const after = await state(h, caseId, account);
      assert.equal(after.content, winner === 'overturned' ? 'visible' : 'removed');
    }
  });

  it('answers 404 for resolving an unknown appeal and 422 for a bad outcome', async () => {
    const h = get();
    const missing = await h.call('POST', '/v1/appeals/apl_nosuch/resolve', {
      token: second.token,
      body: { outcome: 'upheld', explanation: 'Nothing to see here.' },
    });
    assertErrorBody(missing, 404, 'not_found');
    const { decision } = await enforced(h);
    const filed = await appeal(h, decision.id);
    const bad = await h.call('POST', `/v1/appeals/${filed.data.id}/resolve`, {
      token: second.token,
      body: { outcome: 'maybe', explanation: 'Cannot make up my mind.' },
    });
    assertErrorBody(bad, 422, 'validation_failed');
  });
});

describeEachStore(
  'appeals: a one-day window',
  (get) => {
    it('follows the policy’s appealWindowDays', async () => {
      const h = get();
      const actor = { id: await tokenId(h, h.tokens.moderator), role: 'moderator' as const };
      const old = await reportedContent(h);
      const d = await decideCase(h.ctx, actor, old.caseId, buildDecision(), { now: Date.now() - 2 * DAY });
      assertErrorBody(await appeal(h, d.id), 422, 'validation_failed');
      const fresh = await reportedContent(h);
      const d2 = await decideOk(h, fresh.caseId);
      assert.equal((await appeal(h, d2.id)).statusCode, 201);
    });
  },
  { config: { policyFile: writePolicy({ appealWindowDays: 1 }) } },
);
