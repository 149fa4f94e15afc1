import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scrubPersonalData } from '../src/logging.js';
import { buildSession } from './helpers/factories.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { buildOrder, fileOrder, legalToken, openPackage, personalDataUrl, review } from './helpers/legal.js';
import { type Json, decideOk, fileReport, reportAs, seedAccount, seedContent } from './helpers/notice-action.js';
import {
  type IpSample,
  type PhoneSample,
  sampleIpv4,
  sampleIpv6,
  samplePhone,
} from './helpers/personal-data-samples.js';

const DAY = 86_400_000;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every text form of the seeded values: E.164, digits only, national number, as sent; IPs as sent, normalised, expanded. */
function needlesOf(phones: PhoneSample[], ips: IpSample[]): string[] {
  return [...new Set([...phones.flatMap((p) => p.forms), ...ips.flatMap((ip) => ip.forms)])];
}

function assertNoneIn(text: string, needles: string[], where: string): void {
  for (const needle of needles) assert.equal(text.includes(needle), false, `${where} holds "${needle}"`);
}

/** Every `example`/`examples` value of an OpenAPI document, wherever it sits. */
function examplesOf(node: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const n of node) examplesOf(n, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'example' || key === 'examples') out.push(value);
      else examplesOf(value, out);
    }
  }
  return out;
}

/**
 * What a realistic day leaves behind: accounts with phone numbers, sessions with
 * IPv4, mapped IPv4 and IPv6 addresses, public and platform reports, a decision, a
 * legal order filed by phone number and account id, reviewed twice, disclosed and
 * downloaded; and requests that fail while carrying phone numbers and addresses.
 */
interface Flow {
  phones: PhoneSample[];
  ips: IpSample[];
  /** Accounts 0 and 1 are the order's targets; account 2 is not. */
  accountIds: string[];
  caseId: string;
  decisionId: string;
  report: { id: string; accessKey: string };
  orderId: string;
  /** The order's period: legal's read of a target must lie within it. */
  orderPeriod: { from: string; to: string };
  /** Every answer with status ≥ 400 received along the way. */
  errors: Json[];
  logsFrom: number;
}

async function runFlow(h: Harness): Promise<Flow> {
  const logsFrom = h.logs().length;
  const errors: Json[] = [];
  const expectError = (res: Json, status: number | number[]) => {
    assert.ok([status].flat().includes(res.statusCode), `${res.statusCode} ${res.body}`);
    errors.push(res);
  };
  const phones = [samplePhone('DE'), samplePhone('FR'), samplePhone('RU'), samplePhone('ANON')];
  const ips = [sampleIpv4(), sampleIpv4({ mapped: true }), sampleIpv6(), sampleIpv6()];
  const accounts = [];
  for (const p of phones.slice(0, 3)) accounts.push(await seedAccount(h, { phone: p.input, country: 'DE' }));
  const accountIds = accounts.map((a) => a.id);
  const sessions = ips.map((ip, i) =>
    buildSession(accountIds[i % 3] as string, { ip: ip.input, at: new Date(Date.now() - (i + 1) * DAY).toISOString() }),
  );
  const ingested = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
  assert.equal(ingested.statusCode, 200, ingested.body);

  // Confirmed violations on both targets, so the order passes its checks.
  let caseId = '';
  let decisionId = '';
  for (const accountId of accountIds.slice(0, 2)) {
    const { content } = await seedContent(h, { accountId });
    const report = await reportAs(h, { contentId: content.id }, 'illegal_drugs');
    const decision = await decideOk(h, report.caseId, { category: 'illegal_drugs' });
    caseId = report.caseId;
    decisionId = decision.id;
  }
  // A public report from an address that must not be logged.
  const publicReport = await fileReport(
    h,
    { subject: { accountId: accountIds[2] }, category: 'spam', explanation: 'keeps sending the same link' },
    { remoteAddress: ips[0]?.normalised },
  );
  assert.equal(publicReport.statusCode, 201, publicReport.body);

  const legal2 = await legalToken(h);
  const orderPeriod = { from: new Date(Date.now() - 30 * DAY).toISOString(), to: new Date().toISOString() };
  const filed = await fileOrder(
    h,
    buildOrder([{ phone: phones[0]?.input as string }, { accountId: accountIds[1] as string }], {
      period: orderPeriod,
    }),
  );
  assert.equal(filed.statusCode, 201, filed.body);
  assert.equal(filed.data.status, 'in_review', filed.body);
  const orderId = filed.data.id as string;
  assert.equal((await review(h, orderId, { decision: 'approve' }, h.tokens.legal)).statusCode, 200);
  const second = await review(h, orderId, { decision: 'approve' }, legal2);
  assert.equal(second.data.status, 'disclosed', second.body);
  const pkg = await h.call('GET', `/v1/legal-requests/${orderId}/package`, { token: h.tokens.authority });
  assert.equal(pkg.statusCode, 200, pkg.body);
  // The data did travel: the sealed package holds it.
  const opened = await openPackage(h, pkg.data.package);
  const disclosedPhones = opened.payload.targets.map((t: { phoneNumber?: string }) => t.phoneNumber).sort();
  assert.deepEqual(disclosedPhones, [phones[0]?.e164, phones[1]?.e164].sort());

  // Requests that fail while carrying phone numbers and addresses, in bodies, queries, paths and headers.
  const platform = { token: h.tokens.platform };
  expectError(
    await h.call('POST', '/v1/ingest/accounts', {
      ...platform,
      body: { accounts: [{ id: 'bad-phone', phone: `${phones[3]?.input}999999` }] },
    }),
    422,
  );
  expectError(
    await h.call('POST', '/v1/ingest/accounts', {
      ...platform,
      body: { accounts: [{ id: 'x', phone: phones[3]?.e164, mobile: phones[3]?.e164 }] },
    }),
    400,
  );
  expectError(
    await h.call('POST', '/v1/ingest/accounts', {
      ...platform,
      rawBody: `{"accounts":[{"id":"y","phone":"${phones[3]?.e164}"`,
    }),
    400,
  );
  expectError(
    await h.call('POST', '/v1/ingest/sessions', {
      ...platform,
      body: { sessions: [{ accountId: 'nobody', ip: `${ips[3]?.normalised}:zz`, at: new Date().toISOString() }] },
    }),
    422,
  );
  expectError(
    await h.call('POST', '/v1/ingest/sessions', {
      ...platform,
      body: { sessions: [{ accountId: accountIds[0], ip: ips[3]?.input, at: 'yesterday' }] },
    }),
    422,
  );
  expectError(await fileOrder(h, buildOrder([{ phone: `${phones[3]?.e164}12345` }], { data: ['ip_addresses'] })), 422);
  expectError(
    await fileOrder(h, { ...buildOrder([{ accountId: accountIds[0] as string }]), contact: phones[3]?.e164 }),
    400,
  );
  expectError(
    await fileReport(h, {
      subject: { accountId: accountIds[2] },
      category: 'spam',
      reporter: { phone: phones[3]?.e164, ip: ips[3]?.normalised },
    }),
    400,
  );
  const from = new Date(Date.now() - 10 * DAY).toISOString();
  const to = new Date().toISOString();
  expectError(
    await h.call(
      'GET',
      `/v1/accounts/${accountIds[0]}/personal-data?from=${from}&to=${to}&orderId=${orderId}&purpose=${encodeURIComponent(`call ${phones[3]?.e164}`)}`,
      { token: h.tokens.legal },
    ),
    422,
  );
  expectError(
    await h.call('GET', `/v1/cases?status=${encodeURIComponent(phones[3]?.e164 as string)}`, {
      token: h.tokens.moderator,
    }),
    422,
  );
  expectError(await h.call('GET', `/v1/legal-requests?status=${ips[3]?.normalised}`, { token: h.tokens.legal }), 422);
  expectError(
    await h.call('GET', `/v1/accounts/${encodeURIComponent(phones[3]?.e164 as string)}`, { token: h.tokens.moderator }),
    422,
  );
  expectError(await h.call('GET', `/v1/accounts/${phones[3]?.e164.slice(1)}`, { token: h.tokens.moderator }), 404);
  expectError(await h.call('GET', `/v1/reports/${publicReport.data.id}?accessKey=${ips[3]?.normalised}`), 404);
  expectError(await h.call('GET', `/v1/nothing/${ips[2]?.input}`), 404);
  expectError(await h.call('GET', `/v1/nothing/${phones[3]?.e164.slice(1)}/${phones[3]?.input}`), 404);
  expectError(
    await h.call('GET', '/v1/cases', {
      token: 'cus_not-a-token',
      headers: { 'x-forwarded-for': ips[1]?.normalised as string, 'x-request-id': ips[2]?.normalised as string },
    }),
    401,
  );
  return {
    phones,
    ips,
    accountIds,
    caseId,
    decisionId,
    report: { id: publicReport.data.id, accessKey: publicReport.data.accessKey },
    orderId,
    orderPeriod,
    errors,
    logsFrom,
  };
}

describeEachStore('secrets and personal data stay out of logs, error bodies and the API', (get) => {
  let flow: Flow;
  before(async () => {
    flow = await runFlow(get());
  });

  it('writes no seeded phone number or IP address, in any notation, to the logs of a full flow', () => {
    const h = get();
    const logs = h.logs().slice(flow.logsFrom);
    // The run was logged: one line per request, errors included.
    assert.match(logs, /"route":"\/v1\/legal-requests\/:id\/package"/);
    assert.match(logs, /"status":422/);
    assert.match(logs, /"status":401/);
    assertNoneIn(logs, needlesOf(flow.phones, flow.ips), 'the logs');
  });

  it('answers errors that carry no phone number or IP address of the request', () => {
    assert.ok(flow.errors.length >= 14, `${flow.errors.length} errors`);
    const needles = needlesOf(flow.phones, flow.ips);
    for (const res of flow.errors) {
      assert.match(res.body, /^\{"error":\{"code":"[a-z_]+"/, res.body);
      assertNoneIn(res.body, needles, `the ${res.statusCode} body ${res.body.slice(0, 200)}`);
    }
  });

  it('shows no phone number or IP address in the OpenAPI document or its examples', async () => {
    const h = get();
    const doc = await h.call('GET', '/docs/json');
    assert.equal(doc.statusCode, 200);
    assertNoneIn(doc.body, needlesOf(flow.phones, flow.ips), 'the OpenAPI document');
    for (const example of examplesOf(doc.data)) {
      const text = JSON.stringify(example);
      assert.equal(scrubPersonalData(text), text, `an OpenAPI example holds a phone number or address: ${text}`);
    }
  });

  it('returns no phone number or IP address from any GET route but the two that exist to give them', async () => {
    const h = get();
    const f = flow;
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    /** One request per GET route of the API, with the flow's ids and the roles that may call it. */
    const reads: Record<string, { url: string; tokens: string[] }> = {
      '/v1/me': { url: '/v1/me', tokens: [h.tokens.admin] },
      '/v1/session': { url: '/v1/session', tokens: [] },
      '/v1/tokens': { url: '/v1/tokens', tokens: [h.tokens.admin] },
      '/v1/users': { url: '/v1/users', tokens: [h.tokens.admin] },
      '/v1/accounts/{id}': { url: `/v1/accounts/${f.accountIds[0]}`, tokens: [h.tokens.moderator, h.tokens.legal] },
      '/v1/accounts/{id}/violations': {
        url: `/v1/accounts/${f.accountIds[0]}/violations`,
        tokens: [h.tokens.moderator, h.tokens.legal],
      },
      '/v1/audit': { url: '/v1/audit?limit=1000', tokens: [h.tokens.auditor] },
      '/v1/audit/personal-data-access': { url: '/v1/audit/personal-data-access', tokens: [h.tokens.auditor] },
      '/v1/reports/{id}': { url: `/v1/reports/${f.report.id}?accessKey=${f.report.accessKey}`, tokens: [''] },
      '/v1/cases': { url: '/v1/cases?status=closed', tokens: [h.tokens.moderator] },
      '/v1/cases/{id}': { url: `/v1/cases/${f.caseId}`, tokens: [h.tokens.moderator] },
      '/v1/cases/{id}/image': { url: `/v1/cases/${f.caseId}/image`, tokens: [h.tokens.moderator] },
      '/v1/decisions/{id}': { url: `/v1/decisions/${f.decisionId}`, tokens: [h.tokens.moderator] },
      '/v1/decisions/{id}/statement': {
        url: `/v1/decisions/${f.decisionId}/statement`,
        tokens: [h.tokens.moderator, h.tokens.auditor, h.tokens.platform],
      },
      '/v1/appeals': { url: '/v1/appeals?status=open', tokens: [h.tokens.moderator] },
      '/v1/webhooks': { url: '/v1/webhooks', tokens: [h.tokens.admin] },
      '/v1/webhooks/deliveries': { url: '/v1/webhooks/deliveries?status=dead', tokens: [h.tokens.admin] },
      '/v1/authorities': { url: '/v1/authorities', tokens: [h.tokens.admin] },
      '/v1/authorities/{id}': { url: `/v1/authorities/${h.tokens.authorityId}`, tokens: [h.tokens.admin] },
      '/v1/hash-banks': { url: '/v1/hash-banks', tokens: [h.tokens.admin] },
      '/v1/legal-requests': { url: '/v1/legal-requests?status=closed', tokens: [h.tokens.legal] },
      '/v1/legal-requests/{id}': {
        url: `/v1/legal-requests/${f.orderId}`,
        tokens: [h.tokens.legal, h.tokens.authority],
      },
      '/v1/legal-requests/{id}/document': { url: `/v1/legal-requests/${f.orderId}/document`, tokens: [h.tokens.legal] },
      '/v1/transparency/requests': { url: '/v1/transparency/requests', tokens: [''] },
      '/v1/transparency/policy': { url: '/v1/transparency/policy', tokens: [''] },
      '/v1/transparency/dsa': { url: '/v1/transparency/dsa', tokens: [''] },
      '/v1/transparency/audit-checkpoint': { url: '/v1/transparency/audit-checkpoint', tokens: [''] },
      '/v1/transparency/statements': {
        url: `/v1/transparency/statements?from=${day(Date.now() - DAY)}&to=${day(Date.now())}`,
        tokens: [h.tokens.auditor],
      },
    };
    /** The sealed package (checked in the flow) and legal's audited read of one target of the order, in its period. */
    const givers: Record<string, { url: string; token: string }> = {
      '/v1/legal-requests/{id}/package': { url: `/v1/legal-requests/${f.orderId}/package`, token: h.tokens.authority },
      '/v1/accounts/{id}/personal-data': {
        url: personalDataUrl(f.accountIds[1] as string, {
          orderId: f.orderId,
          ...f.orderPeriod,
          purpose: 'security test',
        }),
        token: h.tokens.legal,
      },
    };

    const doc = (await h.call('GET', '/docs/json')).data as { paths: Record<string, Record<string, unknown>> };
    const gets = Object.entries(doc.paths)
      .filter(([p, ops]) => p.startsWith('/v1/') && 'get' in ops)
      .map(([p]) => p.replace(/\/$/, ''));
    assert.deepEqual(
      [...gets].sort(),
      [...Object.keys(reads), ...Object.keys(givers)].sort(),
      'every GET route of the API is read here: add a new one to `reads`',
    );

    const needles = needlesOf(f.phones, f.ips);
    let answered = 0;
    for (const [route, read] of Object.entries(reads)) {
      for (const token of read.tokens) {
        const res = await h.call('GET', read.url, { token: token || null });
        if (res.statusCode === 200) answered += 1;
        assertNoneIn(res.body, needles, `GET ${route} (${res.statusCode})`);
      }
    }
    assert.ok(answered >= 25, `${answered} reads answered 200: the sweep must read real data`);

    const pkg = await h.call('GET', givers['/v1/legal-requests/{id}/package']?.url as string, {
      token: givers['/v1/legal-requests/{id}/package']?.token,
    });
    assert.match(pkg.data.package, /^[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/, 'a compact JWE');
    assertNoneIn(pkg.body, needles, 'the sealed package');
    // The one route that answers personal data in clear: legal's read of one target of an order, audited.
    const personal = await h.call('GET', givers['/v1/accounts/{id}/personal-data']?.url as string, {
      token: givers['/v1/accounts/{id}/personal-data']?.token,
    });
    assert.equal(personal.statusCode, 200, personal.body);
    assert.equal(personal.data.phoneNumber, f.phones[1]?.e164);
    // The account the order does not name stays closed to legal too.
    const untargeted = await h.call(
      'GET',
      personalDataUrl(f.accountIds[2] as string, { orderId: f.orderId, ...f.orderPeriod, purpose: 'security test' }),
      { token: h.tokens.legal },
    );
    assert.equal(untargeted.statusCode, 422, untargeted.body);
    assertNoneIn(untargeted.body, needles, 'the refused read');
    for (const role of ['moderator', 'auditor', 'admin', 'platform', 'authority'] as const) {
      const refused = await h.call('GET', givers['/v1/accounts/{id}/personal-data']?.url as string, {
        token: h.tokens[role],
      });
      assert.equal(refused.statusCode, 403, `${role}: ${refused.body}`);
    }
  });

  it('discloses only the order’s targets: the third account’s phone number and addresses are in no package', async () => {
    const h = get();
    const pkg = await h.call('GET', `/v1/legal-requests/${flow.orderId}/package`, { token: h.tokens.authority });
    const opened = await openPackage(h, pkg.data.package);
    const text = JSON.stringify(opened.payload);
    assert.deepEqual(
      opened.payload.targets.map((t: { accountId: string }) => t.accountId).sort(),
      flow.accountIds.slice(0, 2).sort(),
    );
    assert.ok(text.includes(flow.phones[0]?.e164 as string), 'the first target’s number is disclosed');
    assertNoneIn(text, flow.phones[2]?.forms ?? [], 'the package');
    assertNoneIn(text, [flow.ips[2]?.normalised as string], 'the package');
  });
});

/** Text files tracked by git, with their content. */
function trackedTextFiles(): Array<{ file: string; text: string }> {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  const out = [];
  for (const file of files) {
    const full = path.join(REPO, file);
    if (!fs.existsSync(full) || fs.statSync(full).size > 5_000_000) continue;
    const bytes = fs.readFileSync(full);
    if (bytes.subarray(0, 8000).includes(0)) continue;
    out.push({ file, text: bytes.toString('utf8') });
  }
  return out;
}

/** A 64-hex-digit value that is plainly a placeholder ('ab'.repeat(32), all zeros): few distinct digits. */
const isPlaceholderKey = (hex: string) => new Set(hex.toLowerCase()).size <= 4;

describe('the repository holds no secret', () => {
  let files: Array<{ file: string; text: string }>;
  before(() => {
    files = trackedTextFiles();
  });

  it('reads the tracked files (git ls-files)', () => {
    assert.ok(files.length > 100, `${files.length} files`);
    assert.ok(files.some((f) => f.file === 'src/app.ts'));
  });

  it('has no private key (PEM block or private JWK), no API token and no cloud or registry credential', () => {
    // Spelled in pieces so this file does not match itself.
    const patterns: Array<[string, RegExp]> = [
      ['a PEM private key', new RegExp(`-----${'BEGIN'} (?:[A-Z]+ )*PRIVATE KEY-----`)],
      ['a private JWK', /"d"\s*:\s*"[A-Za-z0-9_-]{40,}"/],
      ['a Custos API token', new RegExp(`${'cus'}_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`)],
      ['an AWS access key', new RegExp(`${'AKIA'}[0-9A-Z]{16}`)],
      ['a GitHub token', new RegExp(`${'gh'}[pousr]_[A-Za-z0-9]{36}`)],
      ['an npm token', new RegExp(`_${'auth'}Token\\s*=\\s*[^\\s$]`)],
    ];
    const found: string[] = [];
    for (const { file, text } of files) {
      for (const [what, pattern] of patterns) if (pattern.test(text)) found.push(`${file}: ${what}`);
    }
    assert.deepEqual(found, []);
  });

  it('has no master key in clear: no 64-hex-digit value next to a master-key name, except placeholders', () => {
    const near = /(?:master[_ -]?key|MASTER_KEY|masterKey)[^\n]{0,40}?\b([0-9a-fA-F]{64})\b/g;
    const found: string[] = [];
    for (const { file, text } of files) {
      for (const m of text.matchAll(near)) {
        if (!isPlaceholderKey(m[1] as string)) found.push(`${file}: ${m[0].slice(0, 80)}`);
      }
    }
    assert.deepEqual(found, []);
    assert.equal(isPlaceholderKey('ab'.repeat(32)), true);
    assert.equal(isPlaceholderKey('3f9c1e07a2b4d6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8'), false);
  });

  it('does not track the data directory, its master key file or environment files', () => {
    const names = files.map((f) => f.file);
    const bad = names.filter((n) =>
      /(^|\/)(master\.key|\.env(\..+)?|custos\.sqlite(-wal|-shm)?|demo-tokens\.json)$/.test(n),
    );
    assert.deepEqual(bad, []);
  });
});
