import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { API_CSP } from '../src/http/security-headers.js';
import { PAGE_CSP } from '../src/transparency/page.js';
import { WEB_CSP } from '../src/web/routes.js';
import { type Harness, TEST_STORES, startHarness, stopHarness } from './helpers/harness.js';
import { buildOrder, fileOrder } from './helpers/legal.js';

const HSTS = 'max-age=31536000; includeSubDomains';

/** The headers every answer carries, whatever it is: page, API, error, document. */
function assertSecurityHeaders(res: LightMyRequestResponse, what: string): void {
  const csp = String(res.headers['content-security-policy'] ?? '');
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name as string, values.join(' ')];
      }),
  );
  assert.equal(directives.get('frame-ancestors'), "'none'", `${what}: CSP "${csp}"`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
  assert.equal(res.headers['x-frame-options'], 'DENY', what);
  assert.equal(res.headers['strict-transport-security'], HSTS, what);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
}

describe('security headers on every page and every API route', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(TEST_STORES[0] ?? 'sqlite');
  });
  after(async () => {
    if (h) await stopHarness(h);
  });

  it('sets CSP with frame-ancestors none, nosniff, DENY and HSTS on every operation of the API, refused or not', async () => {
    const doc = (await h.call('GET', '/docs/json')).data as { paths: Record<string, Record<string, unknown>> };
    let checked = 0;
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const m = method.toUpperCase() as 'GET' | 'POST' | 'DELETE';
        if (!['GET', 'POST', 'DELETE', 'PUT', 'PATCH'].includes(m)) continue;
        const url = p.replace(/\{[^}]+\}/g, 'x');
        for (const token of [null, h.tokens.admin]) {
          const res = await h.call(m, url, { token, ...(m === 'POST' ? { body: {} } : {}) });
          assertSecurityHeaders(res, `${m} ${url} (${res.statusCode})`);
          // JSON answers load nothing at all.
          if (/^application\/json/.test(String(res.headers['content-type']))) {
            assert.equal(res.headers['content-security-policy'], API_CSP, `${m} ${url}`);
          }
          checked += 1;
        }
      }
    }
    assert.ok(checked >= 100, `${checked} requests`);
  });

  it('sets them on the web pages, the transparency page, the API docs, the keys and the 404s', async () => {
    const pages: Array<[string, string | null]> = [
      ['/', WEB_CSP],
      ['/console', WEB_CSP],
      ['/console/cases/case_1', WEB_CSP],
      ['/portal', WEB_CSP],
      ['/report', WEB_CSP],
      ['/console/assets/missing.js', null],
      ['/transparency', PAGE_CSP],
      ['/transparency?country=zz', PAGE_CSP],
      ['/docs', null],
      ['/docs/static/index.html', null],
      ['/docs/json', null],
      ['/.well-known/custos-signing-keys.json', API_CSP],
      ['/healthz', API_CSP],
      ['/nowhere', API_CSP],
      ['/%E0%A4%A', API_CSP],
    ];
    for (const [url, csp] of pages) {
      const res = await h.call('GET', url);
      assertSecurityHeaders(res, `GET ${url} (${res.statusCode})`);
      if (csp) assert.equal(res.headers['content-security-policy'], csp, url);
    }
    const docs = await h.call('GET', '/docs/static/index.html');
    assert.match(
      String(docs.headers['content-security-policy']),
      /script-src 'self'/,
      'Swagger UI keeps its own policy',
    );
  });

  it('sets them on a court-order PDF, whose policy leaves the browser’s viewer working', async () => {
    const order = buildOrder([{ accountId: 'nobody-at-all' }]);
    const pdf = Buffer.from('%PDF-1.4\n% court order\n', 'latin1');
    const filed = await fileOrder(h, {
      ...order,
      courtOrder: { ...order.courtOrder, documentBase64: pdf.toString('base64') },
    });
    assert.equal(filed.statusCode, 201, filed.body);
    const res = await h.call('GET', `/v1/legal-requests/${filed.data.id}/document`, { token: h.tokens.legal });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/pdf/);
    assertSecurityHeaders(res, 'the PDF');
    assert.equal(res.headers['content-security-policy'], "frame-ancestors 'none'");
  });

  it('sends HSTS whether TLS ended at a proxy (x-forwarded-proto: https) or not: browsers honour it over HTTPS only', async () => {
    const variants: Record<string, string>[] = [{}, { 'x-forwarded-proto': 'https' }, { 'x-forwarded-proto': 'http' }];
    for (const headers of variants) {
      const res = await h.call('GET', '/healthz', { headers });
      assert.equal(res.headers['strict-transport-security'], HSTS, JSON.stringify(headers));
    }
  });
});
