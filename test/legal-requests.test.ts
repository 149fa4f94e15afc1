import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeEachStore } from './helpers/harness.js';
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

describeEachStore('legal requests: file, check, four eyes, disclose', (get) => {
  let violator: Violator;
  let legal2: string;
  before(async () => {
    const h = get();
    violator = await seedViolator(h, { sessions: 6, days: 60 });
    legal2 = await legalToken(h);
  });

  it('discloses exactly the phone number and the IP addresses inside the approved period, signed and encrypted to the authority', async () => {
    const h = get();
    const from = Date.now() - 30 * DAY;
    const filed = await fileOrder(
      h,
      buildOrder([{ accountId: violator.accountId }], {
        period: { from: new Date(from).toISOString(), to: new Date().toISOString() },
      }),
    );
    assert.equal(filed.statusCode, 201, filed.body);
    assert.equal(filed.data.status, 'in_review');
    assert.ok(filed.data.dueAt);
    assert.ok(
      filed.data.checks.every((c: { result: string }) => c.result === 'pass'),
      filed.body,
    );
    assert.equal(filed.data.checks[0].detail, undefined, 'an authority sees codes, not details');

    const first = await review(
      h,
      filed.data.id,
      { decision: 'approve', note: 'checked the court order' },
      h.tokens.legal,
    );
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.data.status, 'in_review');
    const again = await review(h, filed.data.id, { decision: 'approve' }, h.tokens.legal);
    assert.equal(again.statusCode, 409, 'the same member twice');
    const second = await review(h, filed.data.id, { decision: 'approve' }, legal2);
    assert.equal(second.statusCode, 200, second.body);
    assert.equal(second.data.status, 'disclosed');

    const pkg = await h.call('GET', `/v1/legal-requests/${filed.data.id}/package`, { token: h.tokens.authority });
    assert.equal(pkg.statusCode, 200, pkg.body);
    const opened = await openPackage(h, pkg.data.package);
    assert.equal(opened.jweHeader.alg, 'ECDH-ES');
    assert.equal(opened.jweHeader.enc, 'A256GCM');
    assert.equal(opened.jwsHeader.alg, 'EdDSA');
    const expected = violator.sessions.filter((s) => Date.parse(s.at) >= from);
    assert.ok(expected.length > 0 && expected.length < violator.sessions.length, 'the period cuts the sessions');
    assert.deepEqual(opened.payload.targets, [
      { accountId: violator.accountId, phoneNumber: violator.phone, ipAddresses: expected },
    ]);
    assert.equal(opened.payload.requestId, filed.data.id);
    assert.equal(opened.payload.policyVersion, h.ctx.disclosure.version);

    const view = await h.call('GET', `/v1/legal-requests/${filed.data.id}`, { token: h.tokens.legal });
    assert.equal(view.data.reviews.length, 2);
    assert.equal(view.data.reviews[0].note, 'checked the court order');
    const own = await h.call('GET', `/v1/legal-requests/${filed.data.id}`, { token: h.tokens.authority });
    assert.equal(own.data.reviews, undefined, 'review notes stay internal');
    assert.ok(!own.body.includes('checked the court order'));
  });

  it('rejects an order whose only target has no confirmed violation', async () => {
    const h = get();
    const clean = await seedViolator(h, { violation: false });
    const filed = await fileOrder(h, buildOrder([{ accountId: clean.accountId }]));
    assert.equal(filed.statusCode, 201, filed.body);
    assert.equal(filed.data.status, 'rejected');
    assert.deepEqual(filed.data.targets[0].reasons, ['no_confirmed_violation']);
  });

  it('refuses to disclose anything but IP addresses and phone numbers (422, nothing stored)', async () => {
    const h = get();
    for (const data of [['message_content'], ['contacts'], ['ip_addresses', 'location']]) {
      const res = await fileOrder(h, buildOrder([{ accountId: violator.accountId }], { data }));
      assert.equal(res.statusCode, 422, res.body);
      assert.ok(res.data.error.details.some((d: { code: string }) => d.code === 'data_category_not_allowed'));
    }
  });
});

describeEachStore('legal requests: the queue and refused attempts', (get) => {
  /** Audit entries of one action written after `seq`. */
  async function auditedSince(seq: number, action: string) {
    const rows = await get()
      .ctx.store.db.selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', seq)
      .where('action', '=', action)
      .execute();
    return rows.map((r) => ({ ...r, details: JSON.parse(r.details) }));
  }
  async function head() {
    const row = await get().ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  it('lists open orders nearest deadline first: an emergency filed later comes before a production order', async () => {
    const h = get();
    const v = await seedViolator(h);
    const production = await fileOrder(h, buildOrder([{ accountId: v.accountId }]));
    const emergency = await fileOrder(
      h,
      buildOrder([{ accountId: v.accountId }], {
        type: 'emergency',
        emergencyJustification: 'A bomb threat against a school today.',
      }),
    );
    assert.equal(production.data.status, 'in_review');
    assert.equal(emergency.data.status, 'in_review');
    const queue = await h.call('GET', '/v1/legal-requests', { token: h.tokens.legal });
    assert.equal(queue.statusCode, 200, queue.body);
    const ids = queue.data.requests.map((r: { id: string }) => r.id);
    assert.ok(ids.indexOf(emergency.data.id) < ids.indexOf(production.data.id), 'nearest deadline first');
    const dues = queue.data.requests.map((r: { dueAt: string }) => Date.parse(r.dueAt));
    assert.deepEqual(
      dues,
      [...dues].sort((a, b) => a - b),
    );
  });

  it('audits refused attempts: a forged token, an unbounded order, a probe of an unknown order, a signing key as encryption key', async () => {
    const h = get();
    const v = await seedViolator(h);
    const before = await head();
    const forged = await h.call('POST', '/v1/legal-requests', {
      token: `cus_${'A'.repeat(43)}`,
      body: buildOrder([{ accountId: v.accountId }]),
    });
    assert.equal(forged.statusCode, 401);
    const huge = await fileOrder(h, buildOrder(Array.from({ length: 10_000 }, (_, i) => ({ accountId: `acc-${i}` }))));
    assert.equal(huge.statusCode, 422);
    const probe = await h.call('GET', '/v1/legal-requests/lr_doesnotexist', { token: h.tokens.authority });
    assert.equal(probe.statusCode, 404);
    const refused = await auditedSince(before, 'legal_request.refused');
    assert.deepEqual(
      refused.map((r) => [r.subject_id, r.details.status, r.details.code]),
      [
        ['POST /v1/legal-requests', 401, 'invalid_token'],
        ['POST /v1/legal-requests', 422, 'validation_failed'],
        ['GET /v1/legal-requests/:id', 404, 'not_found'],
      ],
    );
    assert.ok(refused[1]!.details.problems.some((p: { code: string }) => p.code === 'too_many_targets'));
    assert.ok(!JSON.stringify(refused).includes('acc-1'), 'the values refused are not copied into the log');

    const signingKey = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
    const bad = await h.call('POST', '/v1/authorities', {
      token: h.tokens.admin,
      body: {
        name: 'Bad key police',
        country: 'DE',
        kind: 'police',
        contactEmail: 'x@example.org',
        publicJwk: signingKey,
      },
    });
    assert.equal(bad.statusCode, 422, bad.body);
    const authorityRefusals = await auditedSince(before, 'authority.refused');
    assert.equal(authorityRefusals.length, 1);
    assert.deepEqual(authorityRefusals[0]!.details.problems, [{ path: '/publicJwk', code: 'invalid_jwk' }]);
  });
});
