import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, authorityKeyPair, describeEachStore } from './helpers/harness.js';
import { addAuthority, issueToken } from './helpers/identity.js';
import {
  buildOrder,
  fileOrder,
  legalToken,
  openPackage,
  review,
  seedViolator,
  type Violator,
} from './helpers/legal.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** The order as the legal team sees it. */
async function legalView(h: Harness, id: string) {
  const res = await h.call('GET', `/v1/legal-requests/${id}`, { token: h.tokens.legal });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

async function fetchPackage(h: Harness, id: string, token = h.tokens.authority) {
  return h.call('GET', `/v1/legal-requests/${id}/package`, { token });
}

/** Packages stored for an order and `legal_request.disclose` audit entries about it. */
async function disclosureRecords(h: Harness, id: string) {
  const db = h.ctx.store.db;
  const packages = await db
    .selectFrom('disclosure_packages')
    .select('request_id')
    .where('request_id', '=', id)
    .execute();
  const audits = await db
    .selectFrom('audit_log')
    .select('seq')
    .where('action', '=', 'legal_request.disclose')
    .where('subject_id', '=', id)
    .execute();
  return { packages: packages.length, audits: audits.length };
}

/** Files an order and checks it went to review. */
async function fileInReview(h: Harness, body: unknown, token = h.tokens.authority): Promise<string> {
  const filed = await fileOrder(h, body, token);
  assert.equal(filed.statusCode, 201, filed.body);
  assert.equal(filed.data.status, 'in_review', filed.body);
  return filed.data.id;
}

async function approve(h: Harness, id: string, token: string, expectedStatus: string) {
  const res = await review(h, id, { decision: 'approve' }, token);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.data.status, expectedStatus, res.body);
  return res;
}

describeEachStore('legal review: reject and narrow (four eyes)', (get) => {
  let v1: Violator;
  let v2: Violator;
  let legal2: string;
  let legal3: string;
  before(async () => {
    const h = get();
    v1 = await seedViolator(h, { sessions: 6, days: 60 });
    v2 = await seedViolator(h, { sessions: 4, days: 40 });
    legal2 = await legalToken(h);
    legal3 = await legalToken(h);
  });

  it('ends the order when the first member rejects: the authority sees the reasons, not the note, and gets no package', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: v1.accountId }]));
    const rejected = await review(
      h,
      id,
      { decision: 'reject', reasons: ['The court order does not name this account.'], note: 'called the court' },
      h.tokens.legal,
    );
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.data.status, 'rejected');
    assert.ok(rejected.data.decidedAt);

    const own = await h.call('GET', `/v1/legal-requests/${id}`, { token: h.tokens.authority });
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.data.status, 'rejected');
    assert.deepEqual(own.data.reasons, ['The court order does not name this account.']);
    assert.equal(own.data.packageAvailable, false);
    assert.ok(!own.body.includes('called the court'), 'the internal note stays with the legal team');

    assertErrorBody(await fetchPackage(h, id), 409, 'conflict');
    const late = await review(h, id, { decision: 'approve' }, legal2);
    assertErrorBody(late, 409, 'conflict');
    assert.equal((await legalView(h, id)).status, 'rejected', 'a later approval does not revive it');
    assert.deepEqual(await disclosureRecords(h, id), { packages: 0, audits: 0 });
  });

  it('ends the order when the second member rejects after an approval', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: v1.accountId }]));
    await approve(h, id, h.tokens.legal, 'in_review');
    const rejected = await review(h, id, { decision: 'reject', reasons: ['Disproportionate.'] }, legal2);
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.data.status, 'rejected');
    assertErrorBody(await review(h, id, { decision: 'approve' }, legal3), 409, 'conflict');
    assertErrorBody(await fetchPackage(h, id), 409, 'conflict');
    const own = await h.call('GET', `/v1/legal-requests/${id}`, { token: h.tokens.authority });
    assert.deepEqual(own.data.reasons, ['Disproportionate.']);
    assert.deepEqual(await disclosureRecords(h, id), { packages: 0, audits: 0 });
  });

  it('refuses a reject or a narrow without reasons (422) and leaves the order as it was', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: v1.accountId }]));
    assertErrorBody(await review(h, id, { decision: 'reject' }, h.tokens.legal), 422, 'validation_failed');
    assertErrorBody(
      await review(h, id, { decision: 'narrow', narrowTo: { data: ['phone_number'] } }, h.tokens.legal),
      422,
      'validation_failed',
    );
    const view = await legalView(h, id);
    assert.equal(view.status, 'in_review');
    assert.equal(view.reviews.length, 0);
  });

  it('restarts approvals after narrowing the targets: an earlier approval no longer counts, and its author may approve again', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: v1.accountId }, { accountId: v2.accountId }]));
    await approve(h, id, h.tokens.legal, 'in_review');
    const narrowed = await review(
      h,
      id,
      { decision: 'narrow', reasons: ['Only the second account is tied to the sales.'], narrowTo: { targets: [1] } },
      legal2,
    );
    assert.equal(narrowed.statusCode, 200, narrowed.body);
    assert.equal(narrowed.data.status, 'in_review');
    assert.equal(narrowed.data.round, 2);
    assert.deepEqual(
      narrowed.data.targets.map((t: { position: number; status: string }) => [t.position, t.status]),
      [
        [0, 'removed'],
        [1, 'included'],
      ],
    );

    // Had the round-1 approval still counted, this one would complete the order.
    await approve(h, id, legal3, 'in_review');
    assert.deepEqual(await disclosureRecords(h, id), { packages: 0, audits: 0 });
    assertErrorBody(await fetchPackage(h, id), 409, 'conflict');
    // The member who approved the wider order may approve the narrowed one.
    await approve(h, id, h.tokens.legal, 'disclosed');

    const pkg = await fetchPackage(h, id);
    assert.equal(pkg.statusCode, 200, pkg.body);
    const { payload } = await openPackage(h, pkg.data.package);
    assert.deepEqual(
      payload.targets.map((t: { accountId: string }) => t.accountId),
      [v2.accountId],
    );
    const reads = await h.ctx.store.db
      .selectFrom('audit_log')
      .select(['subject_id', 'details'])
      .where('action', '=', 'personal_data.read')
      .execute();
    const forOrder = reads.filter((r) => JSON.parse(r.details).purpose === `legal_request:${id}`);
    assert.deepEqual(
      forOrder.map((r) => r.subject_id),
      [v2.accountId],
      'the removed target is never read',
    );
  });

  it('discloses only the sessions inside a narrowed period', async () => {
    const h = get();
    const now = Date.now();
    const id = await fileInReview(
      h,
      buildOrder([{ accountId: v1.accountId }], {
        period: { from: new Date(now - 60 * DAY).toISOString(), to: new Date(now).toISOString() },
      }),
    );
    const from = now - 40 * DAY;
    const to = now - 10 * DAY;
    const narrowed = await review(
      h,
      id,
      {
        decision: 'narrow',
        reasons: ['The offence window is shorter.'],
        narrowTo: { period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } },
      },
      h.tokens.legal,
    );
    assert.equal(narrowed.statusCode, 200, narrowed.body);
    assert.deepEqual(narrowed.data.period, { from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    await approve(h, id, h.tokens.legal, 'in_review');
    await approve(h, id, legal2, 'disclosed');

    const { payload } = await openPackage(h, (await fetchPackage(h, id)).data.package);
    const expected = v1.sessions.filter((s) => Date.parse(s.at) >= from && Date.parse(s.at) < to);
    assert.ok(expected.length > 0 && expected.length < v1.sessions.length, 'the narrowed period cuts the sessions');
    assert.deepEqual(payload.targets, [{ accountId: v1.accountId, phoneNumber: v1.phone, ipAddresses: expected }]);
  });

  it('discloses only the narrowed data category: phone number without IP addresses, or IP addresses without the phone number', async () => {
    const h = get();
    const phoneOnly = await fileInReview(h, buildOrder([{ accountId: v1.accountId }]));
    const n1 = await review(
      h,
      phoneOnly,
      { decision: 'narrow', reasons: ['The number suffices.'], narrowTo: { data: ['phone_number'] } },
      h.tokens.legal,
    );
    assert.equal(n1.statusCode, 200, n1.body);
    assert.deepEqual(n1.data.data, ['phone_number']);
    await approve(h, phoneOnly, legal2, 'in_review');
    await approve(h, phoneOnly, legal3, 'disclosed');
    const first = await openPackage(h, (await fetchPackage(h, phoneOnly)).data.package);
    assert.deepEqual(first.payload.targets, [{ accountId: v1.accountId, phoneNumber: v1.phone }]);
    assert.ok(!('ipAddresses' in first.payload.targets[0]));

    const ipOnly = await fileInReview(h, buildOrder([{ accountId: v2.accountId }]));
    const n2 = await review(
      h,
      ipOnly,
      { decision: 'narrow', reasons: ['The number is known.'], narrowTo: { data: ['ip_addresses'] } },
      legal3,
    );
    assert.equal(n2.statusCode, 200, n2.body);
    await approve(h, ipOnly, h.tokens.legal, 'in_review');
    await approve(h, ipOnly, legal2, 'disclosed');
    const second = await openPackage(h, (await fetchPackage(h, ipOnly)).data.package);
    assert.equal(second.payload.targets.length, 1);
    assert.ok(!('phoneNumber' in second.payload.targets[0]), JSON.stringify(second.payload));
    assert.ok(!JSON.stringify(second.payload).includes(v2.phone));
    assert.ok(second.payload.targets[0].ipAddresses.length > 0);
  });

  it('refuses (422) a narrowing that widens the order or changes nothing, without starting a new round', async () => {
    const h = get();
    const now = Date.now();
    const period = { from: new Date(now - 30 * DAY).toISOString(), to: new Date(now).toISOString() };
    const id = await fileInReview(
      h,
      buildOrder([{ accountId: v1.accountId }, { accountId: v2.accountId }], { data: ['phone_number'], period }),
    );
    await approve(h, id, h.tokens.legal, 'in_review');
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['earlier start', { period: { from: new Date(now - 31 * DAY).toISOString(), to: period.to } }, 'widens'],
      ['later end', { period: { from: period.from, to: new Date(now + DAY).toISOString() } }, 'widens'],
      ['a category not asked for', { data: ['phone_number', 'ip_addresses'] }, 'widens'],
      ['a target not in the order', { targets: [0, 2] }, 'not_included'],
      ['no target', { targets: [] }, 'empty'],
      ['the same targets', { targets: [1, 0] }, 'not_narrower'],
      ['the same period', { period }, 'not_narrower'],
      ['the same data', { data: ['phone_number'] }, 'not_narrower'],
      ['nothing', {}, 'not_narrower'],
    ];
    for (const [what, narrowTo, code] of cases) {
      const res = await review(h, id, { decision: 'narrow', reasons: ['narrower'], narrowTo }, legal2);
      const error = assertErrorBody(res, 422, 'validation_failed');
      assert.ok(
        (error.details as Array<{ code: string }>).some((d) => d.code === code),
        `${what}: expected ${code}, got ${res.body}`,
      );
    }
    const view = await legalView(h, id);
    assert.equal(view.round, 1);
    assert.deepEqual(view.period, period);
    assert.deepEqual(view.data, ['phone_number']);
    assert.equal(view.targets.filter((t: { status: string }) => t.status === 'included').length, 2);
    // The round-1 approval still stands: one more completes the order.
    await approve(h, id, legal2, 'disclosed');
  });
});

describeEachStore('legal review: emergency orders and extra review', (get) => {
  let violator: Violator;
  let legal2: string;
  before(async () => {
    const h = get();
    violator = await seedViolator(h, { sessions: 3, days: 20 });
    legal2 = await legalToken(h);
  });

  const emergency = (accountId: string) =>
    buildOrder([{ accountId }], {
      type: 'emergency',
      emergencyJustification: 'A kidnapped child; the suspect is negotiating a ransom through the platform.',
    });

  it('gives an emergency order 8 hours and a production order 10 days', async () => {
    const h = get();
    const urgent = await fileOrder(h, emergency(violator.accountId));
    assert.equal(urgent.statusCode, 201, urgent.body);
    assert.equal(Date.parse(urgent.data.dueAt) - Date.parse(urgent.data.receivedAt), 8 * HOUR);
    const ordinary = await fileOrder(h, buildOrder([{ accountId: violator.accountId }]));
    assert.equal(ordinary.statusCode, 201, ordinary.body);
    assert.equal(Date.parse(ordinary.data.dueAt) - Date.parse(ordinary.data.receivedAt), 10 * 24 * HOUR);
  });

  it('discloses an emergency order on one senior approval, owing a second that a different member then gives', async () => {
    const h = get();
    const id = await fileInReview(h, emergency(violator.accountId));
    const alone = await approve(h, id, h.tokens.legal_senior, 'disclosed');
    assert.equal(alone.data.secondApprovalOwed, true);
    const pkg = await fetchPackage(h, id);
    assert.equal(pkg.statusCode, 200, pkg.body);
    const { payload } = await openPackage(h, pkg.data.package);
    assert.equal(payload.targets[0].phoneNumber, violator.phone);

    assertErrorBody(await review(h, id, { decision: 'approve' }, h.tokens.legal_senior), 409, 'conflict');
    const second = await approve(h, id, h.tokens.legal, 'disclosed');
    assert.equal(second.data.secondApprovalOwed, false);
    assert.ok(
      second.data.history.some(
        (e: { type: string; actorRole: string }) => e.type === 'emergency.second_approval' && e.actorRole === 'legal',
      ),
      JSON.stringify(second.data.history),
    );
    assert.deepEqual(
      second.data.reviews.map((r: { reviewerRole: string; decision: string }) => [r.reviewerRole, r.decision]),
      [
        ['legal_senior', 'approve'],
        ['legal', 'approve'],
      ],
    );
    // Nothing is owed any more: a third review has nothing to act on.
    assertErrorBody(await review(h, id, { decision: 'approve' }, legal2), 409, 'conflict');
    assert.deepEqual(await disclosureRecords(h, id), { packages: 1, audits: 1 });
  });

  it('keeps an emergency order in review when a plain legal member approves alone', async () => {
    const h = get();
    const id = await fileInReview(h, emergency(violator.accountId));
    const first = await approve(h, id, h.tokens.legal, 'in_review');
    assert.equal(first.data.secondApprovalOwed, false);
    assertErrorBody(await fetchPackage(h, id), 409, 'conflict');
    assert.deepEqual(await disclosureRecords(h, id), { packages: 0, audits: 0 });
    // Two ordinary approvals still disclose it, with nothing owed.
    const second = await approve(h, id, legal2, 'disclosed');
    assert.equal(second.data.secondApprovalOwed, false);
  });

  it('does not let a senior approve a production order alone', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: violator.accountId }]));
    await approve(h, id, h.tokens.legal_senior, 'in_review');
    assertErrorBody(await fetchPackage(h, id), 409, 'conflict');
  });

  it('needs a senior among the two approvers of an order from an extra-review country', async () => {
    const h = get();
    const key = await authorityKeyPair();
    const authorityId = await addAuthority(h, { country: 'TR', kind: 'police', publicJwk: key.publicJwk });
    const token = (await issueToken(h, 'authority', { authorityId })).token;
    const target = await seedViolator(h, { country: 'TR', sessions: 2, days: 10 });
    const filed = await fileOrder(
      h,
      buildOrder([{ accountId: target.accountId }], {
        issuingAuthority: { name: 'Istanbul Police', country: 'TR' },
      }),
      token,
    );
    assert.equal(filed.statusCode, 201, filed.body);
    assert.equal(filed.data.status, 'in_review', filed.body);
    assert.ok(
      filed.data.checks.some((c: { code: string | null }) => c.code === 'country_extra_review'),
      filed.body,
    );
    const id = filed.data.id;
    assert.equal((await legalView(h, id)).extraReview, true);

    await approve(h, id, h.tokens.legal, 'in_review');
    const plain = await review(h, id, { decision: 'approve' }, legal2);
    const error = assertErrorBody(plain, 409, 'conflict');
    assert.deepEqual(error.details, { reason: 'senior_approval_required' });
    const view = await legalView(h, id);
    assert.equal(view.status, 'in_review');
    assert.equal(view.reviews.length, 1, 'the refused approval is not recorded');
    assertErrorBody(await fetchPackage(h, id, token), 409, 'conflict');

    await approve(h, id, h.tokens.legal_senior, 'disclosed');
    const pkg = await fetchPackage(h, id, token);
    assert.equal(pkg.statusCode, 200, pkg.body);
    const { payload } = await openPackage(h, pkg.data.package, key.privateKey);
    assert.equal(payload.targets[0].accountId, target.accountId);
    await assert.rejects(openPackage(h, pkg.data.package), 'sealed for the TR authority, not for another');
  });
});

describeEachStore('legal review: racing approvals', (get) => {
  let violator: Violator;
  let members: string[];
  before(async () => {
    const h = get();
    violator = await seedViolator(h, { sessions: 3, days: 20 });
    members = [await legalToken(h), await legalToken(h), await legalToken(h)];
  });

  it('produces exactly one package when the second and a third approval arrive together', async () => {
    const h = get();
    for (let round = 0; round < 5; round++) {
      const id = await fileInReview(h, buildOrder([{ accountId: violator.accountId }]));
      await approve(h, id, members[0]!, 'in_review');
      const results = await Promise.all([
        review(h, id, { decision: 'approve' }, members[1]!),
        review(h, id, { decision: 'approve' }, members[2]!),
      ]);
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409], results.map((r) => r.body).join('\n'));
      assert.deepEqual(await disclosureRecords(h, id), { packages: 1, audits: 1 }, `round ${round}`);
      const view = await legalView(h, id);
      assert.equal(view.status, 'disclosed');
      assert.equal(view.reviews.filter((r: { decision: string }) => r.decision === 'approve').length, 2);
      assert.equal(view.history.filter((e: { type: string }) => e.type === 'disclosed').length, 1);
    }
  });

  it('produces exactly one package when three members approve a fresh order at once', async () => {
    const h = get();
    for (let round = 0; round < 4; round++) {
      const id = await fileInReview(h, buildOrder([{ accountId: violator.accountId }]));
      const results = await Promise.all(members.map((m) => review(h, id, { decision: 'approve' }, m)));
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 200, 409], results.map((r) => r.body).join('\n'));
      assert.deepEqual(await disclosureRecords(h, id), { packages: 1, audits: 1 }, `round ${round}`);
      const pkg = await fetchPackage(h, id);
      assert.equal(pkg.statusCode, 200, pkg.body);
      await openPackage(h, pkg.data.package);
    }
  });
});

describeEachStore('legal review: withdrawal by the authority', (get) => {
  let violator: Violator;
  let legal2: string;
  before(async () => {
    const h = get();
    violator = await seedViolator(h, { sessions: 3, days: 20 });
    legal2 = await legalToken(h);
  });

  const withdraw = (h: Harness, id: string, token = h.tokens.authority) =>
    h.call('POST', `/v1/legal-requests/${id}/withdraw`, { token });

  it('withdraws an order still in review: no review and no package after', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: violator.accountId }]));
    await approve(h, id, h.tokens.legal, 'in_review');
    const res = await withdraw(h, id);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.data.status, 'withdrawn');
    assertErrorBody(await review(h, id, { decision: 'approve' }, legal2), 409, 'conflict');
    assertErrorBody(await review(h, id, { decision: 'reject', reasons: ['x'] }, legal2), 409, 'conflict');
    assertErrorBody(await fetchPackage(h, id), 409, 'conflict');
    assertErrorBody(await withdraw(h, id), 409, 'conflict');
    assert.deepEqual(await disclosureRecords(h, id), { packages: 0, audits: 0 });
  });

  it('cannot withdraw an order once it is disclosed: the package stays available', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: violator.accountId }]));
    await approve(h, id, h.tokens.legal, 'in_review');
    await approve(h, id, legal2, 'disclosed');
    assertErrorBody(await withdraw(h, id), 409, 'conflict');
    assert.equal((await legalView(h, id)).status, 'disclosed');
    assert.equal((await fetchPackage(h, id)).statusCode, 200);
  });

  it('answers 404 to another authority withdrawing (or reading) an order that is not its own, and changes nothing', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: violator.accountId }]));
    const other = await addAuthority(h, { country: 'DE', kind: 'police' });
    const token = (await issueToken(h, 'authority', { authorityId: other })).token;
    assertErrorBody(await withdraw(h, id, token), 404, 'not_found');
    assertErrorBody(await h.call('GET', `/v1/legal-requests/${id}`, { token }), 404, 'not_found');
    assert.equal((await legalView(h, id)).status, 'in_review');
    await approve(h, id, h.tokens.legal, 'in_review');
    await approve(h, id, legal2, 'disclosed');
    assertErrorBody(await fetchPackage(h, id, token), 404, 'not_found');
  });
});
