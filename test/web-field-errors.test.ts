import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldId, fieldSentence, placeProblems, pointerTokens, toPointer } from '../web/src/lib/field-errors.ts';
import { emptyOrderForm, orderBody, orderFieldPointers } from '../web/src/lib/order-form.ts';
import { type Harness, describeEachStore } from './helpers/harness.js';

describe('422 problems placed on form fields (web/src/lib/field-errors.ts)', () => {
  it('reads and writes JSON pointers with their escapes', () => {
    assert.deepEqual(pointerTokens('/targets/0/phone'), ['targets', '0', 'phone']);
    assert.deepEqual(pointerTokens('/a~1b/c~0d'), ['a/b', 'c~d']);
    assert.deepEqual(pointerTokens('/'), []);
    assert.equal(toPointer(['a/b', 'c~d', 3]), '/a~1b/c~0d/3');
  });

  it('puts a problem on the field its pointer names, in words', () => {
    const placed = placeProblems(
      [
        { path: '/courtOrder/issuedAt', code: 'invalid_format', message: 'is not an RFC 3339 date-time' },
        { path: '/caseReference', code: 'missing_field', message: 'is required' },
        { path: '/targets/1/phone', code: 'invalid_phone', message: 'not a valid international phone number' },
      ],
      ['/courtOrder/issuedAt', '/caseReference', '/targets/1/phone'],
    );
    assert.deepEqual(placed.byField, {
      '/courtOrder/issuedAt': ['This field is not an RFC 3339 date-time.'],
      '/caseReference': ['Required.'],
      '/targets/1/phone': ['Not a valid international phone number.'],
    });
    assert.deepEqual(placed.unplaced, []);
  });

  it('falls back to the nearest ancestor the form shows, naming the part', () => {
    const placed = placeProblems(
      [
        { path: '/data/1', code: 'data_category_not_allowed', message: '"content" cannot be disclosed' },
        { path: '/narrowTo/period/to', code: 'widens', message: 'must not end after the order' },
      ],
      ['/data', '/narrowTo'],
    );
    assert.deepEqual(placed.byField['/data'], ['Item 2: "content" cannot be disclosed.']);
    assert.deepEqual(placed.byField['/narrowTo'], ['Period to: This field must not end after the order.']);
  });

  it('keeps problems no field is about (or that are not about the body) for the top of the form', () => {
    const placed = placeProblems(
      [
        { path: '/', code: 'invalid', message: 'the body is odd' },
        { path: '/querystring/limit', code: 'invalid_maximum', message: 'must be <= 200' },
      ],
      ['/limit'],
    );
    assert.deepEqual(placed.byField, {});
    assert.deepEqual(
      placed.unplaced.map((u) => u.message),
      ['The body is odd.', 'querystring.limit: This field must be <= 200.'],
    );
  });

  it('ignores details that are not a list of problems (a 409 names a reason, not fields)', () => {
    assert.deepEqual(placeProblems({ reason: 'already_claimed' }, ['/x']), { byField: {}, unplaced: [] });
    assert.deepEqual(placeProblems([null, 3, { code: 'x' }], ['/x']), { byField: {}, unplaced: [] });
  });

  it('makes HTML ids from pointers', () => {
    assert.equal(fieldId('/targets/0/phone'), 'f-targets-0-phone');
    assert.equal(fieldId('/a b/c', 'reg'), 'reg-a_b-c');
    assert.equal(fieldSentence('must be after period.from'), 'This field must be after period.from.');
    assert.equal(fieldSentence('must NOT have fewer than 1 characters'), 'Required.');
  });
});

describeEachStore('the filing form against the real API', (get: () => Harness) => {
  it('the 422 of a bad order lands on the form fields that caused it', async () => {
    const h = get();
    const form = {
      ...emptyOrderForm(),
      type: 'emergency',
      caseReference: 'AZ-1',
      authorityName: 'Test Police',
      authorityCountry: 'de',
      legalBasis: '§ 100g StPO',
      courtReference: 'AG 1',
      courtIssuedBy: 'Amtsgericht',
      courtIssuedAt: '2026-01-10T10:00',
      offenceCategory: 'no_such_offence',
      offenceDescription: 'x',
      offenceProvisions: 'y',
      targets: [
        { kind: 'accountId' as const, value: 'acc-1' },
        { kind: 'phone' as const, value: '12' },
      ],
      periodFrom: '2026-01-05T00:00',
      periodTo: '2026-01-01T00:00',
      emergencyJustification: '',
    };
    const body = orderBody(form);
    assert.equal((body.issuingAuthority as { country: string }).country, 'DE');
    const res = await h.call('POST', '/v1/legal-requests', { token: h.tokens.authority, body });
    assert.equal(res.statusCode, 422, res.body);
    const placed = placeProblems(res.data.error.details, orderFieldPointers(form));
    assert.deepEqual(placed.unplaced, []);
    for (const field of ['/offence/category', '/targets/1/phone', '/period/to', '/emergencyJustification']) {
      assert.ok(placed.byField[field]?.length, `a message for ${field}: ${JSON.stringify(placed.byField)}`);
    }
  });

  it('a form left empty is refused field by field, every problem next to a field', async () => {
    const h = get();
    const form = emptyOrderForm();
    const res = await h.call('POST', '/v1/legal-requests', { token: h.tokens.authority, body: orderBody(form) });
    assert.equal(res.statusCode, 422, res.body);
    const placed = placeProblems(res.data.error.details, orderFieldPointers(form));
    assert.deepEqual(placed.unplaced, []);
    for (const field of [
      '/caseReference',
      '/legalBasis',
      '/courtOrder/issuedAt',
      '/targets/0/accountId',
      '/period/from',
    ]) {
      assert.ok(placed.byField[field]?.length, `a message for ${field}: ${JSON.stringify(placed.byField)}`);
    }
  });
});
