import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Actor } from '../src/audit/actor.js';
import { basePriority, priorityAt, rank } from '../src/cases/priority.js';
import { claimCase } from '../src/cases/service.js';
import { fileReport as fileReportService } from '../src/reports/service.js';
import type { CategoryCode } from '../src/policy/policy.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { allCases, decideOk, extraToken, fileReport, reportAs, seedContent, tokenId } from './helpers/notice-action.js';

const HOUR = 3_600_000;
const PLATFORM_ACTOR: Actor = { id: 'tok_platform_test', role: 'platform' };

/** Content reported once by the platform on behalf of a fresh user; the case id. */
async function caseFor(
  h: Harness,
  category: CategoryCode,
  content: Parameters<typeof seedContent>[1] = {},
  token = h.tokens.platform,
): Promise<string> {
  const { content: c } = await seedContent(h, content);
  const res = await fileReport(
    h,
    {
      subject: { contentId: c.id },
      category,
      ...(token === h.tokens.platform ? { reporter: { accountId: `u-${c.id}` } } : {}),
    },
    { token },
  );
  assert.equal(res.statusCode, 201, res.body);
  return res.data.caseId;
}

/** A case filed through the service at time `now` (for ageing and for identical ranks). */
async function caseAt(h: Harness, category: CategoryCode, now: number, content = {}): Promise<string> {
  const { content: c } = await seedContent(h, content);
  const receipt = await fileReportService(
    h.ctx,
    PLATFORM_ACTOR,
    { subject: { contentId: c.id }, category, reporter: { accountId: `u-${c.id}` } },
    '127.0.0.1',
    now,
  );
  return receipt.caseId;
}

/** Positions of the given cases in the full open queue (highest priority first), as an admin sees it. */
async function positions(h: Harness, ids: string[]): Promise<number[]> {
  const queue = await allCases(h, 'status=open', h.tokens.admin);
  return ids.map((id) => {
    const i = queue.findIndex((c) => c.id === id);
    assert.ok(i >= 0, `case ${id} is in the open queue`);
    return i;
  });
}

function assertDescending(cases: Array<{ priority: number }>): void {
  for (let i = 1; i < cases.length; i++) {
    assert.ok(cases[i - 1]!.priority >= cases[i]!.priority, `queue not ordered at ${i}`);
  }
}

describeEachStore('the moderation queue', (get) => {
  it('puts CSAM and terrorism above violent threats, and those above spam', async () => {
    const h = get();
    const spam = await caseFor(h, 'spam');
    const threat = await caseFor(h, 'violent_threat');
    const terror = await caseFor(h, 'terrorism');
    const csam = await caseFor(h, 'csam');
    const [pCsam, pTerror, pThreat, pSpam] = await positions(h, [csam, terror, threat, spam]);
    assert.ok(pCsam! < pTerror!, 'csam before terrorism');
    assert.ok(pTerror! < pThreat!, 'terrorism before violent threats');
    assert.ok(pThreat! < pSpam!, 'violent threats before spam');
    assertDescending(await allCases(h, 'status=open', h.tokens.admin));
  });

  it('raises a case reported by a trusted flagger above the same report from a user', async () => {
    const h = get();
    const user = await caseFor(h, 'hate_speech');
    const flagged = await caseFor(h, 'hate_speech', {}, h.tokens.trusted_flagger);
    const [pFlagged, pUser] = await positions(h, [flagged, user]);
    assert.ok(pFlagged! < pUser!);
    const queue = await allCases(h);
    const f = queue.find((c) => c.id === flagged);
    const u = queue.find((c) => c.id === user);
    assert.equal(f.trustedFlagged, true);
    assert.ok(f.priority - u.priority >= 15, `${f.priority} vs ${u.priority}`);
  });

  it('raises content posted publicly above the same content in a private chat', async () => {
    const h = get();
    const privateCase = await caseFor(h, 'scam_fraud', { public: false });
    const publicCase = await caseFor(h, 'scam_fraud', { public: true });
    const [pPublic, pPrivate] = await positions(h, [publicCase, privateCase]);
    assert.ok(pPublic! < pPrivate!);
    const queue = await allCases(h);
    assert.equal(queue.find((c) => c.id === publicCase).public, true);
  });

  it('raises a case with more distinct reporters, but one reporter repeating adds nothing', async () => {
    const h = get();
    const { content: crowded } = await seedContent(h);
    for (const reporter of ['r1', 'r2', 'r3']) await reportAs(h, { contentId: crowded.id }, 'weapons', reporter);
    const { content: repeated } = await seedContent(h);
    for (let i = 0; i < 3; i++) await reportAs(h, { contentId: repeated.id }, 'weapons', 'same-reporter');
    const { content: single } = await seedContent(h);
    await reportAs(h, { contentId: single.id }, 'weapons', 'lonely');
    const queue = await allCases(h);
    const of = (id: string) => queue.find((c) => c.subject.id === id);
    assert.ok(of(crowded.id).priority > of(single.id).priority);
    assert.equal(of(repeated.id).reporterCount, 1);
    assert.equal(of(repeated.id).reportCount, 3);
    assert.ok(
      Math.abs(of(repeated.id).priority - of(single.id).priority) < 0.5,
      'the same reporter three times weighs as once',
    );
  });

  it('lets waiting cases rise: a spam case 100 hours old outranks a fresh terrorism case', async () => {
    const h = get();
    const now = Date.now();
    const oldSpam = await caseAt(h, 'spam', now - 100 * HOUR);
    const freshSpam = await caseAt(h, 'spam', now);
    const freshTerror = await caseFor(h, 'terrorism');
    const [pOld, pTerror, pFresh] = await positions(h, [oldSpam, freshTerror, freshSpam]);
    assert.ok(pOld! < pTerror!, 'the old spam case has waited long enough to come first');
    assert.ok(pTerror! < pFresh!);
    const queue = await allCases(h);
    const diff = queue.find((c) => c.id === oldSpam).priority - queue.find((c) => c.id === freshSpam).priority;
    assert.ok(Math.abs(diff - 100) < 0.5, `one point per hour waited, got ${diff}`);
  });

  it('computes priority from the case, and ageing never reorders two cases', () => {
    const inputs = { severity: 5, reporterWeight: 1, trustedCount: 0, isPublic: false, proposed: false };
    const t0 = Date.UTC(2026, 0, 1);
    const r = rank(inputs, t0);
    assert.equal(priorityAt(r, t0), Math.round(basePriority(inputs) * 10) / 10);
    assert.equal(priorityAt(r, t0 + 5 * HOUR) - priorityAt(r, t0), 5);
    assert.ok(basePriority({ ...inputs, severity: 10 }) > basePriority({ ...inputs, severity: 9 }));
    assert.ok(basePriority({ ...inputs, trustedCount: 1 }) > basePriority(inputs));
    assert.ok(basePriority({ ...inputs, isPublic: true }) > basePriority(inputs));
    assert.ok(basePriority({ ...inputs, reporterWeight: 3 }) > basePriority(inputs));
    const other = rank({ ...inputs, severity: 6 }, t0 + HOUR);
    for (const now of [t0 + HOUR, t0 + 100 * HOUR]) {
      assert.equal(Math.sign(priorityAt(other, now) - priorityAt(r, now)), Math.sign(other - r));
    }
  });

  it('filters by status, category, queue and language', async () => {
    // An admin sees every queue, the restricted one included.
    const h = get();
    const csam = await caseFor(h, 'csam', { language: 'uk' });
    const spamUk = await caseFor(h, 'spam', { language: 'uk' });
    const spamPt = await caseFor(h, 'spam', { language: 'pt' });
    const closed = await caseFor(h, 'spam', { language: 'pt' });
    await decideOk(h, closed, { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms' });

    const open = await allCases(h, 'status=open', h.tokens.admin);
    assert.ok(open.every((c) => c.status === 'open'));
    assert.ok(!open.some((c) => c.id === closed));
    const closedList = await allCases(h, 'status=closed', h.tokens.admin);
    assert.ok(closedList.every((c) => c.status === 'closed'));
    assert.ok(closedList.some((c) => c.id === closed && c.decisionId));

    const byCategory = await allCases(h, 'status=open&category=csam', h.tokens.admin);
    assert.ok(byCategory.length >= 1 && byCategory.every((c) => c.category === 'csam'));
    assert.ok(byCategory.some((c) => c.id === csam));

    const restricted = await allCases(h, 'status=open&queue=restricted', h.tokens.admin);
    assert.ok(
      restricted.some((c) => c.id === csam),
      'CSAM goes to the restricted queue',
    );
    assert.ok(restricted.every((c) => c.queue === 'restricted'));
    const main = await allCases(h, 'status=open&queue=main', h.tokens.admin);
    assert.ok(!main.some((c) => c.id === csam));
    assert.ok(main.some((c) => c.id === spamUk));

    const uk = await allCases(h, 'status=open&language=uk', h.tokens.admin);
    assert.deepEqual(uk.map((c) => c.id).sort(), [csam, spamUk].sort());
    const pt = await allCases(h, 'status=open&language=pt', h.tokens.admin);
    assert.deepEqual(
      pt.map((c) => c.id),
      [spamPt],
    );
    const ptClosed = await allCases(h, 'status=closed&language=pt', h.tokens.admin);
    assert.deepEqual(
      ptClosed.map((c) => c.id),
      [closed],
    );
  });

  it('rejects an unknown category filter and a forged cursor with 422', async () => {
    const h = get();
    const badCategory = await h.call('GET', '/v1/cases?category=rudeness', { token: h.tokens.moderator });
    assertErrorBody(badCategory, 422, 'validation_failed');
    const badCursor = await h.call('GET', '/v1/cases?cursor=bm90LWEtY3Vyc29y', { token: h.tokens.moderator });
    assertErrorBody(badCursor, 422, 'validation_failed');
  });

  it('pages through the queue with the cursor, returning every case exactly once, in order', async () => {
    const h = get();
    const made = new Set<string>();
    const categories: CategoryCode[] = ['spam', 'terrorism', 'hate_speech', 'weapons', 'spam', 'csam', 'self_harm'];
    for (const category of categories) made.add(await caseFor(h, category, { language: 'eo' }));
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/cases?language=eo&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await h.call('GET', url, { token: h.tokens.admin });
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.data.cases.length <= 3);
      seen.push(...res.data.cases);
      cursor = res.data.next;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.equal(seen.length, made.size);
    assert.deepEqual(new Set(seen.map((c) => c.id)), made);
    assertDescending(seen);
  });

  it('pages correctly through cases of identical priority', async () => {
    const h = get();
    const now = Date.now();
    const made = new Set<string>();
    for (let i = 0; i < 5; i++) made.add(await caseAt(h, 'spam', now, { language: 'ia' }));
    const ranks = await h.ctx.store.db.selectFrom('cases').select('rank').where('language', '=', 'ia').execute();
    assert.equal(new Set(ranks.map((r) => Number(r.rank))).size, 1, 'the five cases tie');
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const url: string = `/v1/cases?language=ia&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await h.call('GET', url, { token: h.tokens.moderator });
      seen.push(...res.data.cases.map((c: { id: string }) => c.id));
      cursor = res.data.next;
      if (!cursor) break;
    }
    assert.equal(seen.length, 5);
    assert.deepEqual(new Set(seen), made);
  });
});

describeEachStore('claims', (get) => {
  it('gives one moderator an exclusive claim: a second moderator gets 409, the holder may reclaim', async () => {
    const h = get();
    const caseId = await caseFor(h, 'spam');
    const other = await extraToken(h);
    const me = await tokenId(h, h.tokens.moderator);

    const claimed = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    assert.equal(claimed.statusCode, 200, claimed.body);
    assert.equal(claimed.data.claim.by, me);
    const until = Date.parse(claimed.data.claim.until);
    assert.ok(Math.abs(until - (Date.now() + 15 * 60_000)) < 60_000, 'the claim lasts the policy’s 15 minutes');

    const second = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: other.token });
    const error = assertErrorBody(second, 409, 'conflict');
    assert.equal((error.details as { reason: string }).reason, 'already_claimed');

    const again = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    assert.equal(again.statusCode, 200, 'the holder may claim again');
    assert.equal(again.data.claim.by, me);

    const view = await h.call('GET', `/v1/cases/${caseId}`, { token: other.token });
    assert.equal(view.data.claim.by, me, 'the queue shows who holds the claim');
  });

  it('lets another moderator claim once the claim has expired', async () => {
    const h = get();
    const caseId = await caseFor(h, 'spam');
    const other = await extraToken(h);
    const claimed = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    assert.equal(claimed.statusCode, 200);
    const actor: Actor = { id: other.id, role: 'moderator' };
    await assert.rejects(claimCase(h.ctx, actor, caseId, Date.now() + 14 * 60_000), /claimed/);
    const taken = await claimCase(h.ctx, actor, caseId, Date.now() + 16 * 60_000);
    assert.equal(taken.claim?.by, other.id);
    const mine = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    assertErrorBody(mine, 409, 'conflict');
  });

  it('releases a claim: only the holder may, and then anyone can claim', async () => {
    const h = get();
    const caseId = await caseFor(h, 'spam');
    const other = await extraToken(h);
    await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    const stolen = await h.call('POST', `/v1/cases/${caseId}/release`, { token: other.token });
    assertErrorBody(stolen, 409, 'conflict');
    const released = await h.call('POST', `/v1/cases/${caseId}/release`, { token: h.tokens.moderator });
    assert.equal(released.statusCode, 200, released.body);
    assert.equal(released.data.claim, null);
    const taken = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: other.token });
    assert.equal(taken.statusCode, 200);
    assert.equal(taken.data.claim.by, other.id);
  });

  it('answers 404 for an unknown case and 409 for claiming a closed one', async () => {
    const h = get();
    const missing = await h.call('POST', '/v1/cases/case_nosuchcase/claim', { token: h.tokens.moderator });
    assertErrorBody(missing, 404, 'not_found');
    const caseId = await caseFor(h, 'spam');
    await decideOk(h, caseId, { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms' });
    const closed = await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    assertErrorBody(closed, 409, 'conflict');
  });

  it('grants exactly one of several simultaneous claims by different moderators', async () => {
    const h = get();
    const others = await Promise.all([extraToken(h), extraToken(h), extraToken(h), extraToken(h)]);
    for (let round = 0; round < 5; round++) {
      const caseId = await caseFor(h, 'spam');
      const results = await Promise.all(
        others.map((o) => h.call('POST', `/v1/cases/${caseId}/claim`, { token: o.token })),
      );
      const codes = results.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [200, 409, 409, 409], `round ${round}: ${codes}`);
      const view = await h.call('GET', `/v1/cases/${caseId}`, { token: h.tokens.moderator });
      const winner = results.find((r) => r.statusCode === 200)!;
      assert.equal(view.data.claim.by, winner.data.claim.by, 'the stored claim is the one that was granted');
    }
  });

  it('records the claim in the case history', async () => {
    const h = get();
    const caseId = await caseFor(h, 'spam');
    await h.call('POST', `/v1/cases/${caseId}/claim`, { token: h.tokens.moderator });
    await h.call('POST', `/v1/cases/${caseId}/release`, { token: h.tokens.moderator });
    const view = await h.call('GET', `/v1/cases/${caseId}`, { token: h.tokens.moderator });
    const types = view.data.history.map((e: { type: string }) => e.type);
    assert.deepEqual(types.slice(-2), ['case.claimed', 'case.released']);
  });
});
