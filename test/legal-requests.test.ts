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
