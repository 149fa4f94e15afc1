import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import {
  decideOk,
  extraToken,
  fileReport,
  randomAddress,
  reportAs,
  seedAccount,
  seedContent,
  writePolicy,
} from './helpers/notice-action.js';

async function countReports(h: Harness): Promise<number> {
  const db = h.ctx.store.db;
  return Number((await db.selectFrom('reports').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
}

async function caseOf(h: Harness, caseId: string) {
  const res = await h.call('GET', `/v1/cases/${caseId}`, { token: h.tokens.moderator });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

describeEachStore('reports', (get) => {
  it('accepts a public report without a token: 201 with id, caseId, status open and an access key', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const res = await fileReport(h, {
      subject: { contentId: content.id },
      category: 'hate_speech',
      explanation: 'Slurs against a group',
      reporter: { email: 'someone@example.org' },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(Object.keys(res.data).sort(), ['accessKey', 'caseId', 'id', 'status']);
    assert.equal(res.data.status, 'open');
    assert.ok(res.data.accessKey.length >= 16);
    const c = await caseOf(h, res.data.caseId);
    assert.deepEqual(c.subject, { type: 'content', id: content.id });
    assert.equal(c.status, 'open');
    assert.equal(c.category, 'hate_speech');
    assert.equal(c.reports.length, 1);
    assert.equal(c.reports[0].source, 'public');
    assert.equal(c.reports[0].explanation, 'Slurs against a group');
    assert.equal(c.trustedFlagged, false);
    assert.ok(!JSON.stringify(c).includes('someone@example.org'), 'the case view never names the reporter');
  });

  it('accepts reports from the platform and from trusted flaggers, and marks their source', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const platform = await fileReport(
      h,
      { subject: { contentId: content.id }, category: 'spam', reporter: { accountId: 'user-1' } },
      { token: h.tokens.platform },
    );
    assert.equal(platform.statusCode, 201, platform.body);
    const flagger = await fileReport(
      h,
      { subject: { contentId: content.id }, category: 'spam' },
      { token: h.tokens.trusted_flagger },
    );
    assert.equal(flagger.statusCode, 201, flagger.body);
    assert.equal(flagger.data.caseId, platform.data.caseId);
    const c = await caseOf(h, platform.data.caseId);
    assert.deepEqual(c.reports.map((r: { source: string }) => r.source).sort(), ['platform', 'trusted_flagger']);
    assert.equal(c.trustedFlagged, true);
    const weights = Object.fromEntries(c.reports.map((r: { source: string; weight: number }) => [r.source, r.weight]));
    assert.equal(weights.trusted_flagger, 3, 'a trusted flagger weighs the policy’s trustedFlaggerWeight');
    assert.equal(weights.platform, 1);
  });

  it('accepts a report about an account', async () => {
    const h = get();
    const account = await seedAccount(h);
    const res = await fileReport(
      h,
      { subject: { accountId: account.id }, category: 'scam_fraud' },
      { token: h.tokens.platform },
    );
    assert.equal(res.statusCode, 201, res.body);
    const c = await caseOf(h, res.data.caseId);
    assert.deepEqual(c.subject, { type: 'account', id: account.id });
    assert.equal(c.accountId, account.id);
  });

  it('answers 404 for a subject the platform never sent, storing nothing', async () => {
    const h = get();
    const before = await countReports(h);
    const noContent = await fileReport(h, { subject: { contentId: 'no-such-message' }, category: 'spam' });
    assertErrorBody(noContent, 404, 'not_found');
    const noAccount = await fileReport(
      h,
      { subject: { accountId: 'no-such-account' }, category: 'spam' },
      { token: h.tokens.platform },
    );
    assertErrorBody(noAccount, 404, 'not_found');
    assert.equal(await countReports(h), before);
  });

  it('answers 422 for a category outside the taxonomy, naming the field', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const before = await countReports(h);
    const res = await fileReport(h, { subject: { contentId: content.id }, category: 'rudeness' });
    const error = assertErrorBody(res, 422, 'validation_failed');
    assert.ok(
      (error.details as Array<{ path: string }>).some((d) => d.path === '/category'),
      JSON.stringify(error.details),
    );
    assert.equal(await countReports(h), before);
  });

  it('answers 400 for unknown fields, at the top level and inside the subject and reporter', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const before = await countReports(h);
    for (const body of [
      { subject: { contentId: content.id }, category: 'spam', urgent: true },
      { subject: { contentId: content.id, chatId: 'x' }, category: 'spam' },
      { subject: { contentId: content.id }, category: 'spam', reporter: { accountId: 'u', phone: '+4915112345678' } },
    ]) {
      const res = await fileReport(h, body);
      assertErrorBody(res, 400, 'unknown_field');
    }
    assert.equal(await countReports(h), before);
  });

  it('folds every report about one subject into its one open case, counting distinct reporters once', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const subject = { contentId: content.id };
    const a1 = await reportAs(h, subject, 'spam', 'reporter-a');
    const b = await reportAs(h, subject, 'spam', 'reporter-b');
    const a2 = await reportAs(h, subject, 'spam', 'reporter-a');
    const anon = await fileReport(h, { subject, category: 'spam' });
    assert.equal(anon.statusCode, 201);
    const ids = new Set([a1.caseId, b.caseId, a2.caseId, anon.data.caseId]);
    assert.equal(ids.size, 1, 'one case per subject');
    const c = await caseOf(h, a1.caseId);
    assert.equal(c.reportCount, 4);
    assert.equal(c.reporterCount, 3, 'reporter-a counts once');
    assert.equal(c.reports.length, 4);

    const open = await h.ctx.store.db
      .selectFrom('cases')
      .select('id')
      .where('subject_id', '=', content.id)
      .where('status', '=', 'open')
      .execute();
    assert.equal(open.length, 1);
  });

  it('takes the worst category of the reports as the case category', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const first = await reportAs(h, { contentId: content.id }, 'spam');
    await reportAs(h, { contentId: content.id }, 'terrorism');
    await reportAs(h, { contentId: content.id }, 'hate_speech');
    const c = await caseOf(h, first.caseId);
    assert.equal(c.category, 'terrorism');
  });

  it('opens exactly one case when many reports on a new subject arrive at once', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fileReport(
          h,
          { subject: { contentId: content.id }, category: 'spam', reporter: { accountId: `concurrent-${i}` } },
          { token: h.tokens.platform },
        ),
      ),
    );
    for (const r of results) assert.equal(r.statusCode, 201, r.body);
    assert.equal(new Set(results.map((r) => r.data.caseId)).size, 1);
    const c = await caseOf(h, results[0]!.data.caseId);
    assert.equal(c.reportCount, 8);
    assert.equal(c.reporterCount, 8);
  });

  it('opens a new case for a report that arrives after the case was decided', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const first = await reportAs(h, { contentId: content.id });
    await decideOk(h, first.caseId, { actions: [{ type: 'restrict_content' }] });
    const later = await reportAs(h, { contentId: content.id });
    assert.notEqual(later.caseId, first.caseId);
    const old = await caseOf(h, first.caseId);
    assert.equal(old.status, 'closed');
    assert.equal(old.reportCount, 1, 'the closed case keeps only its own reports');
    const fresh = await caseOf(h, later.caseId);
    assert.equal(fresh.status, 'open');
    assert.equal(fresh.reportCount, 1);
  });

  it('shows the reporter the status and outcome with the right access key, and 404 with a wrong one', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const filed = await fileReport(h, { subject: { contentId: content.id }, category: 'illegal_drugs' });
    assert.equal(filed.statusCode, 201);
    const { id, accessKey, caseId } = filed.data;

    const open = await h.call('GET', `/v1/reports/${id}?accessKey=${encodeURIComponent(accessKey)}`);
    assert.equal(open.statusCode, 200, open.body);
    assert.equal(open.data.id, id);
    assert.equal(open.data.status, 'open');
    assert.equal(open.data.outcome, null);
    assert.equal(open.data.category, 'illegal_drugs');
    assert.equal(open.data.resolvedAt, null);

    const wrong = await h.call('GET', `/v1/reports/${id}?accessKey=${'A'.repeat(accessKey.length)}`);
    assertErrorBody(wrong, 404, 'not_found');
    const unknown = await h.call('GET', `/v1/reports/rep_nosuchreport?accessKey=${encodeURIComponent(accessKey)}`);
    assertErrorBody(unknown, 404, 'not_found');
    assert.equal(
      wrong.data.error.message,
      unknown.data.error.message,
      'a wrong key tells nothing more than a wrong id',
    );

    await decideOk(h, caseId, { actions: [{ type: 'remove_content' }] });
    const done = await h.call('GET', `/v1/reports/${id}?accessKey=${encodeURIComponent(accessKey)}`);
    assert.equal(done.statusCode, 200);
    assert.equal(done.data.status, 'resolved');
    assert.equal(done.data.outcome, 'action_taken');
    assert.ok(Date.parse(done.data.resolvedAt) > 0);
  });

  it('tells the reporter no_action when the case is dismissed', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const report = await reportAs(h, { contentId: content.id }, 'spam');
    await decideOk(h, report.caseId, { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms' });
    const res = await h.call('GET', `/v1/reports/${report.id}?accessKey=${encodeURIComponent(report.accessKey)}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.data.status, 'resolved');
    assert.equal(res.data.outcome, 'no_action');
  });

  it('lowers the weight of a reporter whose reports keep being dismissed', async () => {
    const h = get();
    const serial = 'serial-reporter';
    for (let i = 0; i < 3; i++) {
      const { content } = await seedContent(h);
      const r = await reportAs(h, { contentId: content.id }, 'spam', serial);
      await decideOk(h, r.caseId, { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms' });
    }
    const { content } = await seedContent(h);
    const next = await reportAs(h, { contentId: content.id }, 'spam', serial);
    const honest = await reportAs(h, { contentId: content.id }, 'spam', 'honest-reporter');
    assert.equal(next.caseId, honest.caseId);
    const c = await caseOf(h, next.caseId);
    const weight = (reportId: string) => c.reports.find((r: { id: string }) => r.id === reportId).weight;
    assert.equal(weight(honest.id), 1);
    assert.ok(weight(next.id) < 0.5, `weight after three dismissals: ${weight(next.id)}`);
    assert.ok(weight(next.id) >= 0.1, 'never below the policy floor');

    // A mass reporter's report raises the case less than an honest one's.
    const { content: other } = await seedContent(h);
    const alone = await reportAs(h, { contentId: other.id }, 'spam', serial);
    const { content: third } = await seedContent(h);
    const fresh = await reportAs(h, { contentId: third.id }, 'spam', 'another-honest-reporter');
    const lowCase = await caseOf(h, alone.caseId);
    const freshCase = await caseOf(h, fresh.caseId);
    assert.ok(lowCase.priority < freshCase.priority, `${lowCase.priority} < ${freshCase.priority}`);
  });

  it('restores weight for a reporter whose reports lead to action', async () => {
    const h = get();
    const reporter = 'good-reporter';
    const { content } = await seedContent(h);
    const r = await reportAs(h, { contentId: content.id }, 'illegal_drugs', reporter);
    await decideOk(h, r.caseId);
    const { content: next } = await seedContent(h);
    const again = await reportAs(h, { contentId: next.id }, 'illegal_drugs', reporter);
    const c = await caseOf(h, again.caseId);
    assert.equal(c.reports[0].weight, 1);
  });

  it('counts a second trusted flagger report on the same case once', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const other = await extraToken(h, 'trusted_flagger');
    const a = await fileReport(h, { subject: { contentId: content.id }, category: 'weapons' }, { token: other.token });
    const b = await fileReport(h, { subject: { contentId: content.id }, category: 'weapons' }, { token: other.token });
    assert.equal(a.statusCode, 201);
    assert.equal(b.data.caseId, a.data.caseId);
    const c = await caseOf(h, a.data.caseId);
    assert.equal(c.reportCount, 2);
    assert.equal(c.reporterCount, 1);
  });
});

const tinyLimits = writePolicy({ reports: { publicPerAddressPerHour: 3, publicPerSubjectPerHour: 4 } });

describeEachStore(
  'reports: public rate limits',
  (get) => {
    it('limits public reports per client address (429 in the error shape), not other addresses', async () => {
      const h = get();
      const address = randomAddress();
      for (let i = 0; i < 3; i++) {
        const { content } = await seedContent(h);
        const res = await fileReport(
          h,
          { subject: { contentId: content.id }, category: 'spam' },
          { remoteAddress: address },
        );
        assert.equal(res.statusCode, 201, res.body);
      }
      const { content } = await seedContent(h);
      const before = await countReports(h);
      const limited = await fileReport(
        h,
        { subject: { contentId: content.id }, category: 'spam' },
        { remoteAddress: address },
      );
      assertErrorBody(limited, 429, 'rate_limited');
      assert.equal(await countReports(h), before, 'a refused report is not stored');

      const elsewhere = await fileReport(
        h,
        { subject: { contentId: content.id }, category: 'spam' },
        { remoteAddress: randomAddress() },
      );
      assert.equal(elsewhere.statusCode, 201, 'another address is not limited');
      const platform = await fileReport(
        h,
        { subject: { contentId: content.id }, category: 'spam', reporter: { accountId: 'in-app-user' } },
        { token: h.tokens.platform, remoteAddress: address },
      );
      assert.equal(platform.statusCode, 201, 'the platform’s reports are not public reports');
    });

    it('limits public reports per subject across addresses, so a mob cannot flood one account', async () => {
      const h = get();
      const account = await seedAccount(h);
      const subject = { accountId: account.id };
      for (let i = 0; i < 4; i++) {
        const res = await fileReport(h, { subject, category: 'hate_speech' }, { remoteAddress: randomAddress() });
        assert.equal(res.statusCode, 201, res.body);
      }
      const mob = await fileReport(h, { subject, category: 'hate_speech' }, { remoteAddress: randomAddress() });
      assertErrorBody(mob, 429, 'rate_limited');

      const newcomer = randomAddress();
      const { content } = await seedContent(h);
      const unrelated = await fileReport(
        h,
        { subject: { contentId: content.id }, category: 'spam' },
        { remoteAddress: newcomer },
      );
      assert.equal(unrelated.statusCode, 201, 'other subjects stay reportable');
      const flagger = await fileReport(h, { subject, category: 'hate_speech' }, { token: h.tokens.trusted_flagger });
      assert.equal(flagger.statusCode, 201, 'trusted flaggers are not held back by the public limit');
      const c = await caseOf(h, flagger.data.caseId);
      assert.equal(c.reportCount, 5);
    });
  },
  { config: { policyFile: tinyLimits } },
);
