import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, it } from 'node:test';
import { DEFAULT_DISCLOSURE_POLICY_FILE, DISCLOSURE_POLICY_DIR } from '../src/legal/disclosure-policy.js';
import type { LegalOrderInput } from '../src/legal/service.js';
import { assertErrorBody } from './helpers/error-body.js';
import { buildPhone } from './helpers/factories.js';
import { type Harness, describeEachStore, startHarness, stopHarness } from './helpers/harness.js';
import { addAuthority, expiredToken, issueToken } from './helpers/identity.js';
import { type Violator, buildOrder, fileOrder, seedViolator } from './helpers/legal.js';
import { type Json, decideOk, extraToken, reportedContent } from './helpers/notice-action.js';

const DAY = 86_400_000;
const CURRENT_FILE = DEFAULT_DISCLOSURE_POLICY_FILE;
const TERRORISM_ONLY_FILE = `${DISCLOSURE_POLICY_DIR}/terrorism-only.yaml`;

/** The version a policy file must carry: the SHA-256 of its bytes, computed here, not by the code under test. */
function fileVersion(file: string): string {
  return `sha256:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
}

type Detail = { path: string; code: string; message: string };
type CheckView = { name: string; result: string; code: string | null; target: number | null } & Record<string, unknown>;

/** Rows in the tables an order writes to: none of them may grow when an order is refused before intake. */
async function stored(h: Harness) {
  const db = h.ctx.store.db;
  const count = async (table: 'legal_requests' | 'legal_targets' | 'legal_documents' | 'legal_checks') => {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  return {
    requests: await count('legal_requests'),
    targets: await count('legal_targets'),
    documents: await count('legal_documents'),
    checks: await count('legal_checks'),
  };
}

/** A deep copy of `order` with the field at a JSON pointer removed. */
function without(order: LegalOrderInput, pointer: string): Record<string, unknown> {
  const copy = structuredClone(order) as unknown as Record<string, unknown>;
  const parts = pointer.split('/').slice(1);
  let node = copy;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  delete node[parts.at(-1)!];
  return copy;
}

/** Files `body` and insists on a refusal with `status` that stores nothing; returns the error details. */
async function refused(h: Harness, body: unknown, status: number, code: string, token?: string): Promise<Detail[]> {
  const before = await stored(h);
  const res = await fileOrder(h, body, token);
  const error = assertErrorBody(res, status, code);
  assert.deepEqual(await stored(h), before, `nothing stored for ${res.statusCode} ${res.body.slice(0, 200)}`);
  return (error.details ?? []) as Detail[];
}

/** Files `body` and insists on 201; returns the order as the authority sees it. */
async function filed(h: Harness, body: unknown, token?: string): Promise<any> {
  const res = await fileOrder(h, body, token);
  assert.equal(res.statusCode, 201, res.body);
  return res.data;
}

async function legalView(h: Harness, id: string): Promise<any> {
  const res = await h.call('GET', `/v1/legal-requests/${id}`, { token: h.tokens.legal });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

/** Codes of the failed order-level checks (the reasons that reject an order). */
function orderFailures(view: { checks: CheckView[] }): string[] {
  return view.checks.filter((c) => c.target === null && c.result === 'fail').map((c) => c.code as string);
}

/** Every entry of the audit log, as an auditor reads it through the API. */
async function auditEntries(h: Harness): Promise<any[]> {
  const entries: any[] = [];
  let after: number | null = null;
  for (;;) {
    const url: string = `/v1/audit?limit=1000${after === null ? '' : `&after=${after}`}`;
    const res: Json = await h.call('GET', url, { token: h.tokens.auditor });
    assert.equal(res.statusCode, 200, res.body);
    entries.push(...res.data.entries);
    after = res.data.nextAfter;
    if (after === null) return entries;
  }
}

/** A French mobile number, distinct per call. */
function frenchPhone(): string {
  return `+3361${String(1_000_000 + crypto.randomInt(8_999_999))}`;
}

/** A small but real-looking PDF, with the binary comment line real PDFs carry (bytes above 0x7f). */
function smallPdf(): Buffer {
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n%', 'latin1'),
    Buffer.from([0xe2, 0xe3, 0xcf, 0xd3, 0x0a]),
    Buffer.from('1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1'),
    crypto.randomBytes(64),
    Buffer.from('\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1'),
  ]);
}

function pdfOfSize(bytes: number): Buffer {
  const pdf = Buffer.alloc(bytes, 0x20);
  pdf.write('%PDF-1.4\n', 0, 'latin1');
  return pdf;
}

describeEachStore('legal intake: the order body', (get) => {
  let violator: Violator;
  before(async () => {
    violator = await seedViolator(get());
  });
  const valid = () => buildOrder([{ accountId: violator.accountId }]);

  it('accepts a complete order (the baseline the refusals below differ from)', async () => {
    const h = get();
    const before = await stored(h);
    const view = await filed(h, valid());
    assert.equal(view.status, 'in_review');
    assert.equal((await stored(h)).requests, before.requests + 1);
  });

  it('answers 422 naming each mandatory field that is missing, and stores nothing', async () => {
    const h = get();
    const mandatory = [
      '/type',
      '/caseReference',
      '/issuingAuthority',
      '/issuingAuthority/name',
      '/issuingAuthority/country',
      '/legalBasis',
      '/courtOrder',
      '/courtOrder/reference',
      '/courtOrder/issuedBy',
      '/courtOrder/issuedAt',
      '/offence',
      '/offence/category',
      '/offence/description',
      '/offence/provisions',
      '/targets',
      '/data',
      '/period',
      '/period/from',
      '/period/to',
    ];
    for (const field of mandatory) {
      const details = await refused(h, without(valid(), field), 422, 'validation_failed');
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [[field, 'missing_field']],
        `without ${field}`,
      );
    }
  });

  it('answers one detail per missing field when several are missing', async () => {
    const h = get();
    let body = without(valid(), '/caseReference') as unknown as LegalOrderInput;
    for (const field of ['/courtOrder/reference', '/offence/category', '/period/from', '/targets', '/data']) {
      body = without(body, field) as unknown as LegalOrderInput;
    }
    const details = await refused(h, body, 422, 'validation_failed');
    assert.deepEqual(details.map((d) => d.path).sort(), [
      '/caseReference',
      '/courtOrder/reference',
      '/data',
      '/offence/category',
      '/period/from',
      '/targets',
    ]);
    assert.ok(details.every((d) => d.code === 'missing_field' && d.message.length > 0));
  });

  it('treats empty values of mandatory fields as missing (422 at their path)', async () => {
    const h = get();
    const cases: Array<[string, Partial<LegalOrderInput>]> = [
      ['/caseReference', { caseReference: '' }],
      ['/legalBasis', { legalBasis: '' }],
      ['/targets', { targets: [] }],
      ['/data', { data: [] }],
    ];
    for (const [path, override] of cases) {
      const details = await refused(h, { ...valid(), ...override }, 422, 'validation_failed');
      assert.deepEqual(
        details.map((d) => d.path),
        [path],
        JSON.stringify(override),
      );
    }
  });

  it('requires an emergency justification on emergency orders, and only there', async () => {
    const h = get();
    for (const justification of [undefined, '   ']) {
      const body = buildOrder([{ accountId: violator.accountId }], {
        type: 'emergency',
        ...(justification === undefined ? {} : { emergencyJustification: justification }),
      });
      const details = await refused(h, body, 422, 'validation_failed');
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [['/emergencyJustification', 'missing_field']],
      );
    }
    const production = buildOrder([{ accountId: violator.accountId }], { emergencyJustification: 'A bomb threat' });
    const details = await refused(h, production, 422, 'validation_failed');
    assert.deepEqual(
      details.map((d) => d.path),
      ['/emergencyJustification'],
    );

    const emergency = await filed(
      h,
      buildOrder([{ accountId: violator.accountId }], {
        type: 'emergency',
        emergencyJustification: 'The account announced an attack on a school for tomorrow morning.',
      }),
    );
    assert.equal(emergency.status, 'in_review');
    assert.equal(Date.parse(emergency.dueAt) - Date.parse(emergency.receivedAt), 8 * 3_600_000);
  });

  it('refuses dates that are not RFC 3339 date-times (422 at their path, nothing stored)', async () => {
    const h = get();
    const bad = ['not a date', 'yesterday', '01/02/2026', 'March 7, 2026', '2026-02-30T00:00:00Z', '1'];
    for (const value of bad) {
      const order = valid();
      const cases: Array<[string, LegalOrderInput]> = [
        ['/period/from', { ...order, period: { ...order.period, from: value } }],
        ['/period/to', { ...order, period: { ...order.period, to: value } }],
        ['/courtOrder/issuedAt', { ...order, courtOrder: { ...order.courtOrder, issuedAt: value } }],
        ['/nonDisclosureUntil', { ...order, nonDisclosureUntil: value }],
      ];
      for (const [path, body] of cases) {
        const details = await refused(h, body, 422, 'validation_failed');
        assert.ok(
          details.some((d) => d.path === path),
          `${path} = ${JSON.stringify(value)}: ${JSON.stringify(details)}`,
        );
      }
    }
  });

  it('refuses a period whose end is not after its start', async () => {
    const h = get();
    const now = Date.now();
    for (const [from, to] of [
      [now - 10 * DAY, now - 20 * DAY],
      [now - 10 * DAY, now - 10 * DAY],
    ]) {
      const body = buildOrder([{ accountId: violator.accountId }], {
        period: { from: new Date(from!).toISOString(), to: new Date(to!).toISOString() },
      });
      const details = await refused(h, body, 422, 'validation_failed');
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [['/period/to', 'invalid_period']],
      );
    }
  });

  it('refuses an offence code that is not in the taxonomy', async () => {
    const h = get();
    for (const category of ['jaywalking', 'drugs', 'TERRORISM']) {
      const order = valid();
      const details = await refused(h, { ...order, offence: { ...order.offence, category } }, 422, 'validation_failed');
      assert.deepEqual(
        details.map((d) => d.path),
        ['/offence/category'],
        category,
      );
    }
  });

  it('refuses an invalid phone number and a target naming two identifiers or none (422 at the target)', async () => {
    const h = get();
    for (const phone of ['12345', '+49 0000', 'call me', '+1234']) {
      const details = await refused(
        h,
        buildOrder([{ accountId: violator.accountId }, { phone }]),
        422,
        'validation_failed',
      );
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [['/targets/1/phone', 'invalid_phone']],
        phone,
      );
    }
    const targets = [
      { accountId: violator.accountId, username: violator.username },
      { username: violator.username, phone: violator.phone },
      {},
    ];
    for (const target of targets) {
      const details = await refused(
        h,
        buildOrder([{ accountId: violator.accountId }, target]),
        422,
        'validation_failed',
      );
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [['/targets/1', 'invalid_target']],
        JSON.stringify(target),
      );
    }
  });

  it('refuses unknown fields with 400, at any depth, and stores nothing', async () => {
    const h = get();
    const order = valid();
    const cases: Array<[string, unknown]> = [
      ['/priority', { ...order, priority: 'high' }],
      ['/courtOrder/judge', { ...order, courtOrder: { ...order.courtOrder, judge: 'Dr. Richter' } }],
      ['/period/timezone', { ...order, period: { ...order.period, timezone: 'Europe/Berlin' } }],
      ['/offence/severity', { ...order, offence: { ...order.offence, severity: 5 } }],
    ];
    for (const [path, body] of cases) {
      const details = await refused(h, body, 400, 'unknown_field');
      assert.ok(
        details.some((d) => d.path === path),
        `${path}: ${JSON.stringify(details)}`,
      );
    }
    const details = await refused(h, buildOrder([{ email: 'suspect@example.org' } as never]), 400, 'unknown_field');
    assert.ok(details.some((d) => d.path.startsWith('/targets/0')));
  });

  it('refuses every data category but IP addresses and the phone number (422 per category, nothing stored)', async () => {
    const h = get();
    const cases: Array<[string[], string[]]> = [
      [['message_content'], ['/data/0']],
      [['contacts'], ['/data/0']],
      [['ip_addresses', 'location'], ['/data/1']],
      [
        ['message_content', 'phone_number', 'contacts'],
        ['/data/0', '/data/2'],
      ],
    ];
    for (const [data, paths] of cases) {
      const details = await refused(h, { ...valid(), data }, 422, 'validation_failed');
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        paths.map((p) => [p, 'data_category_not_allowed']),
        data.join(','),
      );
    }
    for (const data of [['ip_addresses'], ['phone_number']]) {
      const view = await filed(h, { ...valid(), data });
      assert.deepEqual(view.data, data);
    }
  });

  it('bounds the targets of one order: 100 are checked, 101 and 10,000 are refused with 422 and nothing stored', async () => {
    const h = get();
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ accountId: `acc-unknown-${i}` }));
    const atLimit = await filed(h, buildOrder([{ accountId: violator.accountId }, ...many(99)]));
    assert.equal(atLimit.targets.length, 100);
    assert.equal(atLimit.status, 'in_review');
    assert.equal(atLimit.targets.filter((t: { status: string }) => t.status === 'included').length, 1);

    for (const n of [101, 10_000]) {
      const details = await refused(h, buildOrder(many(n)), 422, 'validation_failed');
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [['/targets', 'too_many_targets']],
        `${n} targets`,
      );
    }
    // 10,000 malformed targets: the answer names the bound, not a problem per target.
    const malformed = Array.from({ length: 10_000 }, (_, i) => ({ phone: `not-a-number-${i}` }));
    const details = await refused(h, buildOrder(malformed), 422, 'validation_failed');
    assert.ok(
      details.some((d) => d.path === '/targets' && d.code === 'too_many_targets'),
      JSON.stringify(details.slice(0, 3)),
    );
    assert.ok(details.length <= h.ctx.disclosure.maxTargets + 1, `${details.length} details`);
  });

  it('stores a PDF court order, shows its SHA-256 to legal, returns the exact bytes and audits every read', async () => {
    const h = get();
    const pdf = smallPdf();
    const order = valid();
    const view = await filed(h, {
      ...order,
      courtOrder: { ...order.courtOrder, documentBase64: pdf.toString('base64') },
    });
    assert.equal(view.courtOrder, undefined, 'the authority answer does not echo the document');

    const legal = await legalView(h, view.id);
    assert.equal(legal.courtOrder.documentSha256, crypto.createHash('sha256').update(pdf).digest('hex'));
    assert.equal(legal.courtOrder.documentSize, pdf.length);
    assert.equal(legal.courtOrder.documentBase64, undefined);
    assert.equal(legal.courtOrder.reference, order.courtOrder.reference);

    const readsBefore = (await auditEntries(h)).filter(
      (e) => e.action === 'legal_request.document_read' && e.subject?.id === view.id,
    );
    assert.equal(readsBefore.length, 0);
    const doc = await h.call('GET', `/v1/legal-requests/${view.id}/document`, { token: h.tokens.legal });
    assert.equal(doc.statusCode, 200, doc.body);
    assert.match(String(doc.headers['content-type']), /^application\/pdf/);
    assert.ok(doc.rawPayload.equals(pdf), 'the exact bytes filed');
    const reads = (await auditEntries(h)).filter(
      (e) => e.action === 'legal_request.document_read' && e.subject?.id === view.id,
    );
    assert.equal(reads.length, 1);
    assert.equal(reads[0].actor.role, 'legal');

    const byAuthority = await h.call('GET', `/v1/legal-requests/${view.id}/document`, {
      token: h.tokens.authority,
    });
    assertErrorBody(byAuthority, 403, 'forbidden');
    const none = await filed(h, valid());
    const missing = await h.call('GET', `/v1/legal-requests/${none.id}/document`, { token: h.tokens.legal });
    assertErrorBody(missing, 404, 'not_found');
  });

  it('refuses a court-order document that is not a PDF (422 not_a_pdf, nothing stored)', async () => {
    const h = get();
    const order = valid();
    const documents = [
      Buffer.from('This is the court order, honestly.'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      Buffer.from(' %PDF-1.7 leading space'),
    ];
    for (const document of documents) {
      const details = await refused(
        h,
        { ...order, courtOrder: { ...order.courtOrder, documentBase64: document.toString('base64') } },
        422,
        'validation_failed',
      );
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [['/courtOrder/documentBase64', 'not_a_pdf']],
      );
    }
  });

  it('accepts a court order of exactly 10 MB and refuses one byte more with 413, storing nothing', async () => {
    const h = get();
    const order = valid();
    const limit = 10 * 1024 * 1024;
    const exact = pdfOfSize(limit);
    const view = await filed(h, {
      ...order,
      courtOrder: { ...order.courtOrder, documentBase64: exact.toString('base64') },
    });
    const legal = await legalView(h, view.id);
    assert.equal(legal.courtOrder.documentSize, limit);
    assert.equal(legal.courtOrder.documentSha256, crypto.createHash('sha256').update(exact).digest('hex'));

    const over = pdfOfSize(limit + 1);
    await refused(
      h,
      { ...order, courtOrder: { ...order.courtOrder, documentBase64: over.toString('base64') } },
      413,
      'payload_too_large',
    );
  });

  it('answers 401 to a forged or expired token and 403 to other roles, storing nothing', async () => {
    const h = get();
    const body = valid();
    const real = h.tokens.authority;
    const forged = `${real.slice(0, -4)}${real.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await refused(h, body, 401, 'invalid_token', forged);
    await refused(h, body, 401, 'invalid_token', `cus_${crypto.randomBytes(32).toString('base64url')}`);
    const expired = await expiredToken(h, 'authority');
    await refused(h, body, 401, 'invalid_token', expired.token);
    const res = await h.call('POST', '/v1/legal-requests', { body });
    assertErrorBody(res, 401, 'unauthenticated');
    for (const role of ['legal', 'legal_senior', 'admin', 'platform', 'moderator', 'auditor'] as const) {
      await refused(h, body, 403, 'forbidden', h.tokens[role]);
    }
    // The same body with the authority's own token goes through: the refusals above were about the token.
    await filed(h, body);
  });
});

describeEachStore('legal intake: the automatic checks', (get) => {
  let violator: Violator;
  /** Every order filed in this suite, to find each in the audit log at the end. */
  const orders: string[] = [];
  const file = async (h: Harness, body: unknown, token?: string) => {
    const view = await filed(h, body, token);
    orders.push(view.id);
    return view;
  };
  before(async () => {
    violator = await seedViolator(get());
  });

  it('finds targets by account id, by username and by phone number (through the blind index)', async () => {
    const h = get();
    const [a, b, c] = [violator, await seedViolator(h), await seedViolator(h)];
    // The phone as a person would type it: spaces, not E.164.
    const spaced = `${c.phone.slice(0, 3)} ${c.phone.slice(3, 6)} ${c.phone.slice(6)}`;
    const view = await file(h, buildOrder([{ accountId: a.accountId }, { username: b.username }, { phone: spaced }]));
    assert.equal(view.status, 'in_review');
    assert.deepEqual(
      view.targets.map((t: { kind: string; status: string }) => [t.kind, t.status]),
      [
        ['accountId', 'included'],
        ['username', 'included'],
        ['phone', 'included'],
      ],
    );
    const legal = await legalView(h, view.id);
    assert.deepEqual(
      legal.targets.map((t: { accountId: string }) => t.accountId),
      [a.accountId, b.accountId, c.accountId],
    );
    assert.equal(legal.targets[2].identifier, null, 'a phone number given as target stays sealed');
    const digits = c.phone.slice(1);
    for (const res of [JSON.stringify(view), JSON.stringify(legal)]) {
      assert.ok(!res.includes(digits), 'the phone number is not echoed');
    }
  });

  it('accepts an anonymous +888 number as an account identifier and finds its account', async () => {
    const h = get();
    const anonymous = `+888${String(10_000_000 + crypto.randomInt(89_999_999))}`;
    const holder = await seedViolator(h, { phone: anonymous });
    const view = await file(h, buildOrder([{ phone: anonymous }]));
    assert.equal(view.status, 'in_review');
    assert.deepEqual(view.targets[0].reasons, []);
    const legal = await legalView(h, view.id);
    assert.equal(legal.targets[0].accountId, holder.accountId);
    assert.equal(legal.targets[0].status, 'included');
  });

  it('rejects at once an order whose issuing country is not the authority’s (authority_country_mismatch)', async () => {
    const h = get();
    const view = await file(
      h,
      buildOrder([{ accountId: violator.accountId }], { issuingAuthority: { name: 'Test Police', country: 'FR' } }),
    );
    assert.equal(view.status, 'rejected');
    assert.ok(view.decidedAt);
    assert.deepEqual(orderFailures(view), ['authority_country_mismatch']);
  });

  it('rejects orders from a country the policy refuses (country_refused)', async () => {
    const h = get();
    const authorityId = await addAuthority(h, { name: 'Moscow City Court', country: 'RU', kind: 'court' });
    const { token } = await issueToken(h, 'authority', { authorityId });
    const target = await seedViolator(h, {
      country: 'RU',
      phone: `+7916${String(1_000_000 + crypto.randomInt(8_999_999))}`,
    });
    const view = await file(
      h,
      buildOrder([{ accountId: target.accountId }], {
        issuingAuthority: { name: 'Moscow City Court', country: 'RU' },
      }),
      token,
    );
    assert.equal(view.status, 'rejected');
    assert.deepEqual(orderFailures(view), ['country_refused']);
    assert.ok(h.ctx.disclosure.refusedCountries.has('RU'), 'the shipped policy refuses RU');
  });

  it('sends orders from an extra-review country to review with the flag (country_extra_review)', async () => {
    const h = get();
    const authorityId = await addAuthority(h, { name: 'Istanbul Prosecutor', country: 'TR', kind: 'prosecutor' });
    const { token } = await issueToken(h, 'authority', { authorityId });
    const target = await seedViolator(h, { country: 'TR' });
    const view = await file(
      h,
      buildOrder([{ accountId: target.accountId }], {
        issuingAuthority: { name: 'Istanbul Prosecutor', country: 'TR' },
      }),
      token,
    );
    assert.equal(view.status, 'in_review');
    assert.deepEqual(orderFailures(view), []);
    const flagged = view.checks.filter((c: CheckView) => c.result === 'review');
    assert.deepEqual(
      flagged.map((c: CheckView) => [c.name, c.code]),
      [['country_policy', 'country_extra_review']],
    );
    const legal = await legalView(h, view.id);
    assert.equal(legal.extraReview, true);
    const queue = await h.call('GET', '/v1/legal-requests?status=in_review&limit=500', { token: h.tokens.legal });
    const entry = queue.data.requests.find((r: { id: string }) => r.id === view.id);
    assert.equal(entry?.extraReview, true);

    const home = await file(h, buildOrder([{ accountId: violator.accountId }]));
    assert.equal((await legalView(h, home.id)).extraReview, false, 'a DE order carries no flag');
  });

  it('rejects an offence outside the policy’s scope (offence_out_of_scope) and a refused category (refused_offence_category)', async () => {
    const h = get();
    const outOfScope = await file(
      h,
      buildOrder([{ accountId: violator.accountId }], {
        offence: { category: 'spam', description: 'Bulk messages', provisions: '§ 7 UWG' },
      }),
    );
    assert.equal(outOfScope.status, 'rejected');
    assert.deepEqual(orderFailures(outOfScope), ['offence_out_of_scope']);

    const speech = await file(
      h,
      buildOrder([{ accountId: violator.accountId }], {
        offence: { category: 'political_speech', description: 'Criticism of the government', provisions: '§ 1' },
      }),
    );
    assert.equal(speech.status, 'rejected');
    assert.ok(orderFailures(speech).includes('refused_offence_category'), JSON.stringify(speech.checks));
  });

  it('drops a target that names no account (target_not_found) and goes on for the others', async () => {
    const h = get();
    const view = await file(
      h,
      buildOrder([
        { accountId: violator.accountId },
        { accountId: 'acc-nobody-has-this-id' },
        { username: 'nobody_has_this_name' },
        { phone: buildPhone() },
      ]),
    );
    assert.equal(view.status, 'in_review');
    assert.deepEqual(
      view.targets.map((t: { status: string; reasons: string[] }) => [t.status, t.reasons]),
      [
        ['included', []],
        ['dropped', ['target_not_found']],
        ['dropped', ['target_not_found']],
        ['dropped', ['target_not_found']],
      ],
    );
    const onlyMissing = await file(h, buildOrder([{ accountId: 'acc-nobody-has-this-id' }]));
    assert.equal(onlyMissing.status, 'rejected');
    assert.deepEqual(onlyMissing.targets[0].reasons, ['target_not_found']);
  });

  it('drops targets without a related confirmed violation: none, an unrelated one, one overturned on appeal', async () => {
    const h = get();
    const clean = await seedViolator(h, { violation: false });
    const unrelated = await seedViolator(h, { category: 'weapons' });

    // A drugs violation that is later overturned on appeal by another moderator.
    const { account: appealed, caseId } = await reportedContent(h);
    const decision = await decideOk(h, caseId, { category: 'illegal_drugs', actions: [{ type: 'remove_content' }] });
    const beforeAppeal = await file(h, buildOrder([{ accountId: appealed }]));
    assert.equal(beforeAppeal.status, 'in_review', 'the violation counts while it stands');
    const appeal = await h.call('POST', `/v1/decisions/${decision.id}/appeals`, {
      token: h.tokens.platform,
      body: { text: 'I was warning others about the seller.' },
    });
    assert.equal(appeal.statusCode, 201, appeal.body);
    const second = await extraToken(h);
    const resolved = await h.call('POST', `/v1/appeals/${appeal.data.id}/resolve`, {
      token: second.token,
      body: { outcome: 'overturned', explanation: 'The message warned others.' },
    });
    assert.equal(resolved.statusCode, 200, resolved.body);

    const view = await file(
      h,
      buildOrder([
        { accountId: violator.accountId },
        { accountId: clean.accountId },
        { accountId: unrelated.accountId },
        { accountId: appealed },
      ]),
    );
    assert.equal(view.status, 'in_review');
    assert.deepEqual(
      view.targets.map((t: { status: string; reasons: string[] }) => [t.status, t.reasons]),
      [
        ['included', []],
        ['dropped', ['no_confirmed_violation']],
        ['dropped', ['no_confirmed_violation']],
        ['dropped', ['no_confirmed_violation']],
      ],
    );
    for (const accountId of [clean.accountId, unrelated.accountId, appealed]) {
      const alone = await file(h, buildOrder([{ accountId }]));
      assert.equal(alone.status, 'rejected', accountId);
      assert.deepEqual(alone.targets[0].reasons, ['no_confirmed_violation']);
    }
    // The unrelated (weapons) violation does count for a weapons order.
    const weapons = await file(
      h,
      buildOrder([{ accountId: unrelated.accountId }], {
        offence: { category: 'weapons', description: 'Sale of firearms', provisions: '§ 52 WaffG' },
      }),
    );
    assert.equal(weapons.status, 'in_review');
  });

  it('drops a target whose account and phone number are both in another country (target_outside_jurisdiction)', async () => {
    const h = get();
    const abroad = await seedViolator(h, { country: 'FR', phone: frenchPhone() });
    const germanPhone = await seedViolator(h, { country: 'FR' });
    const frenchPhoneHere = await seedViolator(h, { country: 'DE', phone: frenchPhone() });
    const view = await file(
      h,
      buildOrder([
        { accountId: abroad.accountId },
        { accountId: germanPhone.accountId },
        { accountId: frenchPhoneHere.accountId },
        { phone: abroad.phone },
      ]),
    );
    assert.equal(view.status, 'in_review');
    assert.deepEqual(
      view.targets.map((t: { status: string; reasons: string[] }) => [t.status, t.reasons]),
      [
        ['dropped', ['target_outside_jurisdiction']],
        ['included', []],
        ['included', []],
        ['dropped', ['target_outside_jurisdiction']],
      ],
    );
    const legal = await legalView(h, view.id);
    const detail = legal.checks.find(
      (c: CheckView) => c.target === 0 && c.code === 'target_outside_jurisdiction',
    )?.detail;
    assert.match(String(detail), /mutual legal assistance/);

    const alone = await file(h, buildOrder([{ accountId: abroad.accountId }]));
    assert.equal(alone.status, 'rejected');
    assert.deepEqual(alone.targets[0].reasons, ['target_outside_jurisdiction']);
  });

  it('rejects a period reaching before the retention window or longer than the policy allows', async () => {
    const h = get();
    const now = Date.now();
    const period = (from: number, to: number) => ({
      period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    });
    const old = await file(
      h,
      buildOrder([{ accountId: violator.accountId }], period(now - 400 * DAY, now - 380 * DAY)),
    );
    assert.equal(old.status, 'rejected');
    assert.deepEqual(orderFailures(old), ['period_outside_retention']);

    const long = await file(
      h,
      buildOrder([{ accountId: violator.accountId }], period(now - 100 * DAY, now + 300 * DAY)),
    );
    assert.equal(long.status, 'rejected');
    assert.deepEqual(orderFailures(long), ['period_too_long']);

    const twentyYears = await file(
      h,
      buildOrder([{ accountId: violator.accountId }], period(now - 20 * 365 * DAY, now)),
    );
    assert.equal(twentyYears.status, 'rejected');
    assert.ok(orderFailures(twentyYears).includes('period_too_long'), JSON.stringify(twentyYears.checks));

    const longest = await file(h, buildOrder([{ accountId: violator.accountId }], period(now - 364 * DAY, now + DAY)));
    assert.equal(longest.status, 'in_review', 'exactly the policy maximum (365 days) inside the window');
  });

  it('shows the authority check codes only, and legal every detail with the policy version', async () => {
    const h = get();
    const view = await file(
      h,
      buildOrder([{ accountId: violator.accountId }, { accountId: 'acc-nobody' }], {
        issuingAuthority: { name: 'Test Police', country: 'AT' },
      }),
    );
    assert.equal(view.status, 'rejected');
    const own = await h.call('GET', `/v1/legal-requests/${view.id}`, { token: h.tokens.authority });
    for (const seen of [view, own.data]) {
      assert.ok(seen.checks.length >= 10);
      for (const check of seen.checks as CheckView[]) {
        assert.deepEqual(Object.keys(check).sort(), ['code', 'name', 'result', 'target'], JSON.stringify(check));
      }
    }
    const legal = await legalView(h, view.id);
    assert.equal(legal.checks.length, view.checks.length);
    const version = fileVersion(CURRENT_FILE);
    assert.equal(legal.policyVersion, version);
    for (const check of legal.checks as CheckView[]) {
      assert.equal(typeof check.detail, 'string');
      assert.ok((check.detail as string).length > 0, check.name);
      assert.equal(check.policyVersion, version, check.name);
    }
    const mismatch = legal.checks.find((c: CheckView) => c.code === 'authority_country_mismatch');
    assert.match(mismatch.detail, /AT/);
    assert.match(mismatch.detail, /DE/);
  });

  it('records every accepted and every rejected order in the audit log with its status and reasons', async () => {
    const h = get();
    assert.ok(orders.length >= 15, `${orders.length} orders filed in this suite`);
    const receipts = (await auditEntries(h)).filter((e) => e.action === 'legal_request.receive');
    const total = await stored(h);
    assert.equal(receipts.length, total.requests, 'one receipt per stored order, none for refused bodies');
    for (const id of orders) {
      const mine = receipts.filter((e) => e.subject?.id === id);
      assert.equal(mine.length, 1, id);
      const legal = await legalView(h, id);
      const entry = mine[0];
      assert.equal(entry.details.status, legal.status, id);
      assert.equal(entry.details.policyVersion, fileVersion(CURRENT_FILE));
      const expected =
        legal.status === 'rejected'
          ? new Set([
              ...orderFailures(legal),
              ...(orderFailures(legal).length === 0
                ? legal.targets.flatMap((t: { reasons: string[] }) => t.reasons)
                : []),
            ])
          : new Set<string>();
      assert.deepEqual(new Set(entry.details.reasons), expected, `${id}: ${JSON.stringify(entry.details)}`);
      assert.equal(entry.actor.role, 'authority');
    }
  });
});

describeEachStore(
  'legal intake: the same orders under the two shipped policies',
  (get, dialect) => {
    let terrorismOnly: Harness;
    const seeded = new Map<Harness, { drugs: Violator; terror: Violator; threat: Violator }>();
    before(async () => {
      terrorismOnly = await startHarness(dialect, { config: { disclosurePolicyFile: TERRORISM_ONLY_FILE } });
      for (const h of [get(), terrorismOnly]) {
        seeded.set(h, {
          drugs: await seedViolator(h, { category: 'illegal_drugs' }),
          terror: await seedViolator(h, { category: 'terrorism' }),
          threat: await seedViolator(h, { category: 'violent_threat' }),
        });
      }
    });
    after(async () => {
      if (terrorismOnly) await stopHarness(terrorismOnly);
    });

    const terrorismOffence = {
      offence: { category: 'terrorism', description: 'Planning an attack', provisions: '§ 89a StGB' },
    };

    it('loads each policy with the SHA-256 of its file as its version', () => {
      const current = get();
      assert.equal(current.ctx.disclosure.name, 'current');
      assert.equal(terrorismOnly.ctx.disclosure.name, 'terrorism-only');
      assert.equal(current.ctx.disclosure.version, fileVersion(CURRENT_FILE));
      assert.equal(terrorismOnly.ctx.disclosure.version, fileVersion(TERRORISM_ONLY_FILE));
      assert.notEqual(current.ctx.disclosure.version, terrorismOnly.ctx.disclosure.version);
    });

    it('reviews a drugs order under current and rejects it as out of scope under terrorism-only', async () => {
      const current = get();
      const underCurrent = await filed(current, buildOrder([{ accountId: seeded.get(current)!.drugs.accountId }]));
      assert.equal(underCurrent.status, 'in_review');
      assert.deepEqual(orderFailures(underCurrent), []);

      const underOld = await filed(
        terrorismOnly,
        buildOrder([{ accountId: seeded.get(terrorismOnly)!.drugs.accountId }]),
      );
      assert.equal(underOld.status, 'rejected');
      assert.deepEqual(orderFailures(underOld), ['offence_out_of_scope']);
    });

    it('reviews a terrorism order against a confirmed terrorism (or violent-threat) violation under both', async () => {
      for (const h of [get(), terrorismOnly]) {
        const { terror, threat, drugs } = seeded.get(h)!;
        const view = await filed(
          h,
          buildOrder(
            [{ accountId: terror.accountId }, { accountId: threat.accountId }, { accountId: drugs.accountId }],
            terrorismOffence,
          ),
        );
        assert.equal(view.status, 'in_review', h.ctx.disclosure.name);
        assert.deepEqual(
          view.targets.map((t: { status: string; reasons: string[] }) => [t.status, t.reasons]),
          [
            ['included', []],
            ['included', []],
            ['dropped', ['no_confirmed_violation']],
          ],
          h.ctx.disclosure.name,
        );
      }
    });

    it('records on every check, and on the order, the version of the policy in force', async () => {
      const versions: string[] = [];
      for (const [h, file] of [
        [get(), CURRENT_FILE],
        [terrorismOnly, TERRORISM_ONLY_FILE],
      ] as const) {
        const version = fileVersion(file);
        versions.push(version);
        for (const body of [
          buildOrder([{ accountId: seeded.get(h)!.terror.accountId }], terrorismOffence),
          buildOrder([{ accountId: seeded.get(h)!.drugs.accountId }]),
        ]) {
          const view = await filed(h, body);
          const legal = await legalView(h, view.id);
          assert.equal(legal.policyVersion, version);
          assert.ok(legal.checks.length > 0);
          for (const check of legal.checks as CheckView[]) assert.equal(check.policyVersion, version, check.name);
          const receipt = (await auditEntries(h)).find(
            (e) => e.action === 'legal_request.receive' && e.subject?.id === view.id,
          );
          assert.equal(receipt?.details.policyVersion, version);
        }
      }
      assert.notEqual(versions[0], versions[1]);
    });
  },
  { config: { disclosurePolicyFile: CURRENT_FILE } },
);
