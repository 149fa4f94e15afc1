import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { it } from 'node:test';
import { decideCase } from '../src/decisions/service.js';
import { DEFAULT_POLICY_FILE } from '../src/policy/policy.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import {
  allCases,
  buildDecision,
  decide,
  decideOk,
  extraToken,
  fileReport,
  reportAs,
  reportedContent,
  seedAccount,
  seedContent,
  tokenId,
} from './helpers/notice-action.js';

const DAY = 86_400_000;
const YMD = /^\d{4}-\d{2}-\d{2}$/;

async function caseView(h: Harness, caseId: string) {
  const res = await h.call('GET', `/v1/cases/${caseId}`, { token: h.tokens.moderator });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

async function accountView(h: Harness, accountId: string) {
  const res = await h.call('GET', `/v1/accounts/${accountId}`, { token: h.tokens.legal });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

async function violations(h: Harness, accountId: string, token = h.tokens.moderator) {
  const res = await h.call('GET', `/v1/accounts/${accountId}/violations`, { token });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

async function statementOf(h: Harness, decisionId: string) {
  const res = await h.call('GET', `/v1/decisions/${decisionId}/statement`, { token: h.tokens.auditor });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

/** A case whose subject is an account, opened by a platform report. */
async function reportedAccount(h: Harness, category: Parameters<typeof reportAs>[2] = 'scam_fraud') {
  const account = await seedAccount(h);
  const report = await reportAs(h, { accountId: account.id }, category);
  return { account: account.id, caseId: report.caseId };
}

describeEachStore('decisions and enforcement', (get) => {
  it('removes content and suspends its author until a date; records a confirmed violation', async () => {
    const h = get();
    const { account, content, caseId } = await reportedContent(h);
    const until = new Date(Date.now() + 7 * DAY).toISOString();
    const res = await decide(h, caseId, {
      actions: [{ type: 'remove_content' }, { type: 'suspend_account', until }],
      category: 'illegal_drugs',
      ground: 'illegal',
    });
    assert.equal(res.statusCode, 201, res.body);
    const d = res.data;
    assert.match(d.id, /^dec_/);
    assert.equal(d.caseId, caseId);
    assert.deepEqual(d.subject, { type: 'content', id: content.id });
    assert.equal(d.accountId, account);
    assert.equal(d.status, 'in_effect');
    assert.equal(d.decidedBy, await tokenId(h, h.tokens.moderator));
    assert.equal(d.automation, 'none');

    const c = await caseView(h, caseId);
    assert.equal(c.status, 'closed');
    assert.equal(c.decisionId, d.id);
    assert.equal(c.content.state, 'removed');
    assert.ok(c.closedAt);

    const a = await accountView(h, account);
    assert.equal(a.status, 'suspended');
    assert.equal(Date.parse(a.suspendedUntil), Date.parse(until));

    const v = await violations(h, account);
    assert.equal(v.accountId, account);
    assert.equal(v.activeStrikes, 1);
    assert.equal(v.violations.length, 1);
    assert.equal(v.violations[0].decisionId, d.id);
    assert.equal(v.violations[0].category, 'illegal_drugs');
    assert.equal(v.violations[0].ground, 'illegal');
    const legalView = await violations(h, account, h.tokens.legal);
    assert.deepEqual(legalView, v, 'the legal team reads the same record');
  });

  it('restricts content without removing it', async () => {
    const h = get();
    const { account, caseId } = await reportedContent(h);
    await decideOk(h, caseId, { actions: [{ type: 'restrict_content' }], ground: 'terms' });
    const c = await caseView(h, caseId);
    assert.equal(c.content.state, 'restricted');
    assert.equal((await accountView(h, account)).status, 'active');
    assert.equal((await violations(h, account)).violations[0].ground, 'terms');
  });

  it('bans an account, and warns one without changing its status', async () => {
    const h = get();
    const banned = await reportedAccount(h);
    await decideOk(h, banned.caseId, { actions: [{ type: 'ban_account' }], category: 'scam_fraud' });
    const a = await accountView(h, banned.account);
    assert.equal(a.status, 'banned');
    assert.equal(a.suspendedUntil, null);

    const warned = await reportedAccount(h);
    const d = await decideOk(h, warned.caseId, {
      actions: [{ type: 'warn' }],
      category: 'spam',
      ground: 'terms',
    });
    assert.equal((await accountView(h, warned.account)).status, 'active');
    const v = await violations(h, warned.account);
    assert.deepEqual(
      v.violations.map((x: { decisionId: string; category: string }) => [x.decisionId, x.category]),
      [[d.id, 'spam']],
    );
  });

  it('dismisses: nothing is enforced, no violation, no statement of reasons (404)', async () => {
    const h = get();
    const { account, caseId, reportId, accessKey } = await reportedContent(h);
    const d = await decideOk(h, caseId, { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms' });
    const c = await caseView(h, caseId);
    assert.equal(c.status, 'closed');
    assert.equal(c.content.state, 'visible');
    assert.equal((await accountView(h, account)).status, 'active');
    const v = await violations(h, account);
    assert.deepEqual(v.violations, []);
    assert.equal(v.activeStrikes, 0);
    const statement = await h.call('GET', `/v1/decisions/${d.id}/statement`, { token: h.tokens.moderator });
    assertErrorBody(statement, 404, 'not_found');
    const decision = await h.call('GET', `/v1/decisions/${d.id}`, { token: h.tokens.auditor });
    assert.equal(decision.statusCode, 200, 'the dismissal itself is on record');
    assert.deepEqual(decision.data.actions, [{ type: 'dismiss' }]);
    const report = await h.call('GET', `/v1/reports/${reportId}?accessKey=${encodeURIComponent(accessKey)}`);
    assert.equal(report.data.outcome, 'no_action');
  });

  it('answers 409 for a second decision on a closed case, and changes nothing', async () => {
    const h = get();
    const { account, caseId } = await reportedContent(h);
    const first = await decideOk(h, caseId, { actions: [{ type: 'restrict_content' }] });
    const second = await decide(h, caseId, { actions: [{ type: 'ban_account' }] });
    assertErrorBody(second, 409, 'conflict');
    assert.equal((await accountView(h, account)).status, 'active');
    assert.equal((await caseView(h, caseId)).decisionId, first.id);
    assert.equal((await violations(h, account)).violations.length, 1);
  });

  it('answers 409 when another moderator holds the claim; the holder decides', async () => {
    const h = get();
    const { caseId } = await reportedContent(h);
    const other = await extraToken(h);
    const claim = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: other.token });
    assert.equal(claim.statusCode, 200);
    const blocked = await decide(h, caseId);
    assertErrorBody(blocked, 409, 'conflict');
    assert.equal((await caseView(h, caseId)).status, 'open');
    const ok = await decide(h, caseId, {}, other.token);
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.data.decidedBy, other.id);
  });

  it('answers 422 for action lists that make no sense, naming each problem, and changes nothing', async () => {
    const h = get();
    const { account, caseId } = await reportedContent(h);
    const onAccount = await reportedAccount(h);
    const future = new Date(Date.now() + DAY).toISOString();
    const past = new Date(Date.now() - DAY).toISOString();
    const cases: Array<[string, Parameters<typeof decide>[2], string, string]> = [
      [caseId, { actions: [{ type: 'dismiss' }, { type: 'remove_content' }] }, '/actions', 'dismiss_with_actions'],
      [onAccount.caseId, { actions: [{ type: 'remove_content' }] }, '/actions/0/type', 'not_applicable'],
      [onAccount.caseId, { actions: [{ type: 'restrict_content' }] }, '/actions/0/type', 'not_applicable'],
      [caseId, { actions: [{ type: 'warn', until: future }] }, '/actions/0/until', 'not_allowed'],
      [caseId, { actions: [{ type: 'suspend_account', until: past }] }, '/actions/0/until', 'in_the_past'],
      [caseId, { actions: [{ type: 'ban_account' }, { type: 'suspend_account' }] }, '/actions', 'conflicting_actions'],
      [caseId, { actions: [{ type: 'warn' }, { type: 'warn' }] }, '/actions', 'duplicate_action'],
      [caseId, { category: 'rudeness' as never }, '/category', ''],
    ];
    for (const [id, decision, path, code] of cases) {
      const res = await decide(h, id, decision);
      const error = assertErrorBody(res, 422, 'validation_failed');
      const details = error.details as Array<{ path: string; code: string }>;
      assert.ok(
        details.some((d) => d.path === path && (code === '' || d.code === code)),
        `${JSON.stringify(decision)} → ${JSON.stringify(details)}`,
      );
    }
    const c = await caseView(h, caseId);
    assert.equal(c.status, 'open');
    assert.equal(c.content.state, 'visible');
    assert.equal((await accountView(h, account)).status, 'active');
    assert.deepEqual((await violations(h, account)).violations, []);
  });

  it('answers 400 for an unknown field, 403 for other roles and 404 for an unknown case', async () => {
    const h = get();
    const { caseId } = await reportedContent(h);
    const extra = await h.call('POST', `/v1/cases/${caseId}/decisions`, {
      token: h.tokens.moderator,
      body: { ...buildDecision(), severity: 'high' },
    });
    assertErrorBody(extra, 400, 'unknown_field');
    const missing = await decide(h, 'case_doesnotexist');
    assertErrorBody(missing, 404, 'not_found');
    const roles = await decide(h, caseId, {}, h.tokens.legal);
    assertErrorBody(roles, 403, 'forbidden');
  });

  it('decides many cases in one call: each case gets its own status', async () => {
    const h = get();
    const a = await reportedContent(h);
    const b = await reportedContent(h);
    const closed = await reportedContent(h);
    await decideOk(h, closed.caseId, { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms' });
    const claimedByOther = await reportedContent(h);
    const other = await extraToken(h);
    await h.call('POST', `/v1/cases/${claimedByOther.caseId}/claim`, { token: other.token });

    const res = await h.call('POST', '/v1/cases/bulk-decisions', {
      token: h.tokens.moderator,
      body: {
        caseIds: [a.caseId, closed.caseId, b.caseId, 'case_nosuchcase', claimedByOther.caseId],
        decision: buildDecision({ actions: [{ type: 'remove_content' }], category: 'spam', ground: 'terms' }),
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const byCase = Object.fromEntries(
      res.data.results.map((r: { caseId: string; status: number }) => [r.caseId, r.status]),
    );
    assert.deepEqual(byCase, {
      [a.caseId]: 201,
      [closed.caseId]: 409,
      [b.caseId]: 201,
      case_nosuchcase: 404,
      [claimedByOther.caseId]: 409,
    });
    const failed = res.data.results.find((r: { caseId: string }) => r.caseId === closed.caseId);
    assert.equal(failed.error.code, 'conflict');
    for (const ok of [a, b]) {
      const result = res.data.results.find((r: { caseId: string }) => r.caseId === ok.caseId);
      const c = await caseView(h, ok.caseId);
      assert.equal(c.decisionId, result.decisionId);
      assert.equal(c.content.state, 'removed');
    }
    assert.equal((await caseView(h, closed.caseId)).content.state, 'visible', 'the closed case is untouched');
    assert.equal((await caseView(h, claimedByOther.caseId)).status, 'open');
  });

  it('proposes a suspension once an account has three active strikes', async () => {
    const h = get();
    const account = await seedAccount(h);
    const accountCase = async () =>
      (await allCases(h)).find((c) => c.subject.type === 'account' && c.subject.id === account.id);
    for (let i = 0; i < 3; i++) {
      assert.equal(await accountCase(), undefined, `no proposal after ${i} strike(s)`);
      const { content } = await seedContent(h, { accountId: account.id });
      const r = await reportAs(h, { contentId: content.id }, 'hate_speech');
      await decideOk(h, r.caseId, { actions: [{ type: 'remove_content' }], category: 'hate_speech' });
    }
    const proposal = await accountCase();
    assert.ok(proposal, 'an open case on the account');
    assert.equal(proposal.status, 'open');
    assert.equal(proposal.proposedAction, 'suspend_account');
    assert.equal((await violations(h, account.id)).activeStrikes, 3);
    const detail = await caseView(h, proposal.id);
    assert.ok(detail.history.some((e: { type: string }) => e.type === 'strikes.threshold'));
    assert.equal((await accountView(h, account.id)).status, 'active', 'proposed, not enforced');
  });

  it('proposes a ban at five active strikes', async () => {
    const h = get();
    const account = await seedAccount(h);
    for (let i = 0; i < 5; i++) {
      const { content } = await seedContent(h, { accountId: account.id });
      const r = await reportAs(h, { contentId: content.id }, 'spam');
      await decideOk(h, r.caseId, { actions: [{ type: 'remove_content' }], category: 'spam', ground: 'terms' });
    }
    const proposals = (await allCases(h)).filter((c) => c.subject.type === 'account' && c.subject.id === account.id);
    assert.equal(proposals.length, 1, 'one open case on the account, updated');
    assert.equal(proposals[0].proposedAction, 'ban_account');
  });

  it('lets strikes expire: old violations stay on record but do not count towards a proposal', async () => {
    const h = get();
    const actor = { id: await tokenId(h, h.tokens.moderator), role: 'moderator' as const };
    const account = await seedAccount(h);
    for (let i = 0; i < 2; i++) {
      const { content } = await seedContent(h, { accountId: account.id });
      const r = await reportAs(h, { contentId: content.id }, 'spam');
      await decideCase(h.ctx, actor, r.caseId, buildDecision({ category: 'spam', ground: 'terms' }), {
        now: Date.now() - 200 * DAY,
      });
    }
    const { content } = await seedContent(h, { accountId: account.id });
    const r = await reportAs(h, { contentId: content.id }, 'spam');
    await decideOk(h, r.caseId, { category: 'spam', ground: 'terms' });
    const v = await violations(h, account.id);
    assert.equal(v.violations.length, 3, 'confirmed violations stay on record');
    assert.equal(v.activeStrikes, 1, 'strikes expire after the policy’s 180 days');
    const proposal = (await allCases(h)).find((c) => c.subject.type === 'account' && c.subject.id === account.id);
    assert.equal(proposal, undefined, 'one active strike proposes nothing');
  });

  it('ends a suspension at its end date: the account is active again', async () => {
    const h = get();
    const actor = { id: await tokenId(h, h.tokens.moderator), role: 'moderator' as const };
    const { account, caseId } = await reportedContent(h);
    const until = new Date(Date.now() - 5 * DAY).toISOString();
    await decideCase(
      h.ctx,
      actor,
      caseId,
      buildDecision({ actions: [{ type: 'suspend_account', until }], category: 'spam', ground: 'terms' }),
      { now: Date.now() - 10 * DAY },
    );
    const a = await accountView(h, account);
    assert.equal(a.status, 'active', `suspended until ${a.suspendedUntil}, which has passed`);
  });

  it('writes a DSA statement of reasons with the Transparency Database fields and values', async () => {
    const h = get();
    const { content, caseId } = await reportedContent(h, { content: { language: 'de' } });
    const d = await decideOk(h, caseId, {
      actions: [{ type: 'remove_content' }],
      category: 'illegal_drugs',
      ground: 'illegal',
      legalGround: '§ 29 BtMG',
    });
    const res = await statementOf(h, d.id);
    assert.equal(res.decisionId, d.id);
    const s = res.statement;
    assert.equal(s.decision_ground, 'DECISION_GROUND_ILLEGAL_CONTENT');
    assert.equal(s.category, 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS');
    assert.deepEqual(s.decision_visibility, ['DECISION_VISIBILITY_CONTENT_REMOVED']);
    assert.equal(s.decision_account, undefined, 'no account restriction was decided');
    assert.deepEqual(s.content_type, ['CONTENT_TYPE_TEXT']);
    assert.equal(s.content_language, 'DE');
    assert.equal(s.automated_detection, 'No');
    assert.equal(s.automated_decision, 'AUTOMATED_DECISION_NOT_AUTOMATED');
    assert.equal(s.source_type, 'SOURCE_ARTICLE_16');
    assert.match(s.content_date, YMD);
    assert.equal(s.content_date, content.createdAt.slice(0, 10));
    assert.match(s.application_date, YMD);
    assert.equal(s.application_date, d.createdAt.slice(0, 10));
    assert.match(s.puid, /^[A-Za-z0-9_-]{1,500}$/);
    assert.equal(s.illegal_content_legal_ground, '§ 29 BtMG');
    assert.equal(s.illegal_content_explanation, d.explanation);
    assert.equal(s.decision_facts, d.explanation);
    assert.ok(Array.isArray(s.territorial_scope) && s.territorial_scope.includes('DE'));
    for (const code of s.territorial_scope) assert.match(code, /^[A-Z]{2}$/);
    assert.equal(s.incompatible_content_ground, undefined, 'the illegal ground carries only its own fields');
  });

  it('names the terms of service ground, and the account restriction, with their DSA values', async () => {
    const h = get();
    const until = new Date(Date.now() + 30 * DAY).toISOString();
    const { caseId } = await reportedContent(h, { content: { kind: 'image', text: undefined, mediaRef: 'media:1' } });
    const suspended = await decideOk(h, caseId, {
      actions: [{ type: 'restrict_content' }, { type: 'suspend_account', until }],
      category: 'hate_speech',
      ground: 'terms',
    });
    const s = (await statementOf(h, suspended.id)).statement;
    assert.equal(s.decision_ground, 'DECISION_GROUND_INCOMPATIBLE_CONTENT');
    assert.equal(s.category, 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH');
    assert.deepEqual(s.content_type, ['CONTENT_TYPE_IMAGE']);
    assert.deepEqual(s.decision_visibility, ['DECISION_VISIBILITY_CONTENT_LABELLED']);
    assert.equal(s.decision_account, 'DECISION_ACCOUNT_SUSPENDED');
    assert.equal(s.end_date_account_restriction, until.slice(0, 10));
    assert.ok(s.incompatible_content_ground.length > 0);
    assert.equal(s.incompatible_content_explanation, suspended.explanation);
    assert.ok(['Yes', 'No'].includes(s.incompatible_content_illegal));
    assert.equal(s.illegal_content_legal_ground, undefined);

    const banned = await reportedAccount(h, 'csam');
    // A CSAM case is in the restricted queue: an admin decides it.
    const b = await decideOk(
      h,
      banned.caseId,
      { actions: [{ type: 'ban_account' }], category: 'csam' },
      h.tokens.admin,
    );
    const sb = (await statementOf(h, b.id)).statement;
    assert.equal(sb.decision_account, 'DECISION_ACCOUNT_TERMINATED');
    assert.equal(sb.category, 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS');
  });

  it('gives CONTENT_TYPE_OTHER its required content_type_other text (decision on an account)', async () => {
    const h = get();
    const { caseId } = await reportedAccount(h);
    const d = await decideOk(h, caseId, { actions: [{ type: 'warn' }], category: 'scam_fraud', ground: 'terms' });
    const s = (await statementOf(h, d.id)).statement;
    assert.deepEqual(s.decision_visibility, ['DECISION_VISIBILITY_OTHER']);
    assert.ok(s.decision_visibility_other?.length > 0, 'DECISION_VISIBILITY_OTHER needs decision_visibility_other');
    if (s.content_type.includes('CONTENT_TYPE_OTHER')) {
      assert.equal(typeof s.content_type_other, 'string', 'the Transparency Database requires content_type_other');
      assert.ok(s.content_type_other.length > 0 && s.content_type_other.length <= 500);
    }
  });

  it('keeps statement texts within the Transparency Database limits', async () => {
    const h = get();
    const long = 'The offer names prices and quantities. '.repeat(200).slice(0, 5000);
    const illegal = await reportedContent(h);
    const d1 = await decideOk(h, illegal.caseId, { explanation: long, ground: 'illegal' });
    const s1 = (await statementOf(h, d1.id)).statement;
    assert.ok(s1.decision_facts.length <= 5000);
    assert.ok(
      s1.illegal_content_explanation.length <= 2000,
      `illegal_content_explanation: ${s1.illegal_content_explanation.length}`,
    );
    assert.ok(s1.illegal_content_legal_ground.length <= 500);

    const terms = await reportedContent(h);
    const d2 = await decideOk(h, terms.caseId, { explanation: long, ground: 'terms', category: 'spam' });
    const s2 = (await statementOf(h, d2.id)).statement;
    assert.ok(
      s2.incompatible_content_explanation.length <= 2000,
      `incompatible_content_explanation: ${s2.incompatible_content_explanation.length}`,
    );
    assert.ok(s2.incompatible_content_ground.length <= 500);
  });

  it('names a trusted flagger as the source, and never the reporter', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const email = 'whistleblower@example.org';
    const reporterAccount = 'reporter-acc-7731';
    const flagged = await fileReport(
      h,
      { subject: { contentId: content.id }, category: 'weapons' },
      { token: h.tokens.trusted_flagger },
    );
    await fileReport(h, { subject: { contentId: content.id }, category: 'weapons', reporter: { email } });
    await fileReport(
      h,
      { subject: { contentId: content.id }, category: 'weapons', reporter: { accountId: reporterAccount } },
      { token: h.tokens.platform },
    );
    const d = await decideOk(h, flagged.data.caseId, { category: 'weapons' });
    const res = await statementOf(h, d.id);
    assert.equal(res.statement.source_type, 'SOURCE_TRUSTED_FLAGGER');
    const text = JSON.stringify(res);
    assert.ok(!text.includes(email), 'the statement never names the reporter’s e-mail');
    assert.ok(!text.includes(reporterAccount), 'nor the reporter’s account');
    assert.ok(!text.includes(await tokenId(h, h.tokens.trusted_flagger)), 'nor the flagger’s token');
    const decisionText = JSON.stringify(
      (await h.call('GET', `/v1/decisions/${d.id}`, { token: h.tokens.platform })).data,
    );
    assert.ok(!decisionText.includes(email) && !decisionText.includes(reporterAccount));
  });

  it('lets moderators, auditors and the platform read statements; not the legal team', async () => {
    const h = get();
    const { caseId } = await reportedContent(h);
    const d = await decideOk(h, caseId);
    for (const role of ['moderator', 'auditor', 'platform'] as const) {
      const res = await h.call('GET', `/v1/decisions/${d.id}/statement`, { token: h.tokens[role] });
      assert.equal(res.statusCode, 200, `${role}: ${res.body}`);
    }
    const legal = await h.call('GET', `/v1/decisions/${d.id}/statement`, { token: h.tokens.legal });
    assertErrorBody(legal, 403, 'forbidden');
    const unknown = await h.call('GET', '/v1/decisions/dec_nosuch/statement', { token: h.tokens.auditor });
    assertErrorBody(unknown, 404, 'not_found');
  });

  it('records the policy version in force with every decision', async () => {
    const h = get();
    const expected = `sha256:${crypto.createHash('sha256').update(fs.readFileSync(DEFAULT_POLICY_FILE)).digest('hex')}`;
    assert.equal(h.ctx.policy.version, expected);
    const { caseId } = await reportedContent(h);
    const d = await decideOk(h, caseId);
    assert.equal(d.policyVersion, expected);
    const dismissed = await reportedContent(h);
    const d2 = await decideOk(h, dismissed.caseId, { actions: [{ type: 'dismiss' }], ground: 'terms' });
    assert.equal(d2.policyVersion, expected, 'a dismissal too');
    assert.equal((await statementOf(h, d.id)).policyVersion, expected);
    const row = await h.ctx.store.db
      .selectFrom('decisions')
      .select('policy_version')
      .where('id', '=', d.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.policy_version, expected);
    const history = (await caseView(h, caseId)).history;
    const made = history.find((e: { type: string }) => e.type === 'decision.made');
    assert.equal(made.payload.policyVersion, expected);
  });

  it('keeps the moderation history in order: report received, claimed, decided', async () => {
    const h = get();
    const { caseId } = await reportedContent(h);
    await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    const d = await decideOk(h, caseId);
    const history = (await caseView(h, caseId)).history;
    const types = history.map((e: { type: string }) => e.type);
    assert.deepEqual(types, ['case.opened', 'report.received', 'case.claimed', 'decision.made']);
    const me = await tokenId(h, h.tokens.moderator);
    assert.equal(history[2].actor.id, me);
    assert.equal(history[3].actor.id, me);
    assert.equal(history[3].payload.decisionId, d.id);
    assert.equal(history[1].actor.role, 'platform');
    for (let i = 1; i < history.length; i++) assert.ok(history[i - 1].at <= history[i].at);
  });

  it('accepts exactly one of several simultaneous decisions on one case', async () => {
    const h = get();
    const others = await Promise.all([extraToken(h), extraToken(h), extraToken(h)]);
    const { account, caseId } = await reportedContent(h);
    const results = await Promise.all(others.map((o) => decide(h, caseId, {}, o.token)));
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [201, 409, 409], `statuses: ${codes}`);
    const decisions = await h.ctx.store.db.selectFrom('decisions').select('id').where('case_id', '=', caseId).execute();
    assert.equal(decisions.length, 1, 'one decision per case');
    assert.equal((await violations(h, account)).violations.length, 1, 'one violation, one strike');
  });
});
