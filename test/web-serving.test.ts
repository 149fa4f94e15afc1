import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { API_CSP } from '../src/http/security-headers.js';
import { PAGE_CSP } from '../src/transparency/page.js';
import { ASSETS_PREFIX, WEB_CSP, WEB_DIST, webRoutes } from '../src/web/routes.js';
import { type Harness, TEST_STORES, startHarness, stopHarness } from './helpers/harness.js';
import { ensureWebBuild, filesLoadedFor, readManifest } from './helpers/web-build.js';

/** Where the app answers with index.html and draws the page itself. */
const CLIENT_PATHS = [
  '/',
  '/console',
  '/console/',
  '/console/cases',
  '/console/cases/case_123',
  '/console/legal/lr_1',
  '/portal',
  '/portal/orders/lr_1',
  '/report',
  '/report/outcome',
];

/** The budget of the console's first load (entry, styles, the console shell and the moderation area), gzipped. */
const FIRST_LOAD_BUDGET = 300 * 1024;

describe('the web app served by Custos (src/web/routes.ts)', () => {
  let h: Harness;
  let index: string;
  before(async () => {
    ensureWebBuild();
    h = await startHarness(TEST_STORES[0] ?? 'sqlite');
    index = fs.readFileSync(path.join(WEB_DIST, 'index.html'), 'utf8');
  });
  after(async () => {
    if (h) await stopHarness(h);
  });

  it('answers index.html at every client route, revalidated on each load, with the CSP', async () => {
    for (const url of CLIENT_PATHS) {
      const res = await h.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/, url);
      assert.equal(res.body, index, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assert.equal(res.headers['content-security-policy'], WEB_CSP, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', `${url}: helmet's headers too`);
    }
    const first = await h.app.inject({ method: 'GET', url: '/console/cases' });
    const again = await h.app.inject({
      method: 'GET',
      url: '/portal',
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('the CSP allows no inline script or style, and index.html needs none', () => {
    const directives = new Map(
      WEB_CSP.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name as string, values];
      }),
    );
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('style-src'), ["'self'"]);
    assert.deepEqual(directives.get('object-src'), ["'none'"]);
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.doesNotMatch(WEB_CSP, /unsafe-inline|unsafe-eval|https?:/);
    const scripts = [...index.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 1);
    for (const [, attributes, body] of scripts) {
      assert.match(attributes ?? '', new RegExp(`src="${ASSETS_PREFIX}[^"]+\\.js"`), 'every script is a file');
      assert.equal((body ?? '').trim(), '', 'no inline script');
    }
    assert.doesNotMatch(index, /\sstyle=|<style\b|\son[a-z]+=/i, 'no inline style or handler');
    for (const [, url] of index.matchAll(/(?:src|href)="([^"]+)"/g)) {
      assert.ok(url?.startsWith(ASSETS_PREFIX) || url === '/transparency', `${url} is ours`);
    }
  });

  it('serves the hashed assets for a year, immutable, compressed when the browser accepts it', async () => {
    const manifest = readManifest();
    const files = [...new Set(Object.values(manifest).flatMap((c) => [c.file, ...(c.css ?? [])]))];
    assert.ok(files.some((f) => f.endsWith('.css')) && files.filter((f) => f.endsWith('.js')).length >= 5);
    for (const file of files) {
      const url = `/console/${file}`;
      const raw = fs.readFileSync(path.join(WEB_DIST, file));
      const plain = await h.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
      assert.equal(plain.statusCode, 200, url);
      assert.match(String(plain.headers['cache-control']), /max-age=31536000/, url);
      assert.match(String(plain.headers['cache-control']), /immutable/, url);
      assert.match(
        String(plain.headers['content-type']),
        file.endsWith('.css') ? /^text\/css/ : file.endsWith('.svg') ? /^image\/svg/ : /javascript/,
      );
      assert.deepEqual(plain.rawPayload, raw, url);
      if (raw.length >= 1024 && !file.endsWith('.svg')) {
        const br = await h.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br, gzip' } });
        assert.equal(br.headers['content-encoding'], 'br', url);
        assert.match(String(br.headers.vary), /accept-encoding/i);
        assert.deepEqual(zlib.brotliDecompressSync(br.rawPayload), raw, url);
        const gz = await h.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
        assert.equal(gz.headers['content-encoding'], 'gzip', url);
        assert.deepEqual(zlib.gunzipSync(gz.rawPayload), raw, url);
      }
    }
  });

  it('a missing asset is a 404, never index.html (a stale chunk must fail, not parse HTML as script)', async () => {
    const res = await h.app.inject({ method: 'GET', url: `${ASSETS_PREFIX}index-doesnotexist.js` });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'route_not_found');
    const traversal = await h.app.inject({ method: 'GET', url: `${ASSETS_PREFIX}..%2f..%2fpackage.json` });
    assert.ok([400, 403, 404].includes(traversal.statusCode), `traversal refused: ${traversal.statusCode}`);
    assert.doesNotMatch(traversal.body, /"name": "custos"/);
  });

  it('leaves the API and the transparency page as they were', async () => {
    const api = await h.app.inject({ method: 'GET', url: '/v1/cases' });
    assert.equal(api.statusCode, 401);
    assert.equal(api.json().error.code, 'unauthenticated');
    assert.equal(api.headers['content-security-policy'], API_CSP, 'the API keeps its own policy');
    const unknown = await h.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'route_not_found');
    const page = await h.app.inject({ method: 'GET', url: '/transparency' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-security-policy'], PAGE_CSP);
    const elsewhere = await h.app.inject({ method: 'GET', url: '/consoles' });
    assert.equal(elsewhere.statusCode, 404, 'only the app’s own prefixes fall back to index.html');
  });

  it('keeps the console’s first load under 300 KB of JavaScript and CSS, gzipped', () => {
    const manifest = readManifest();
    const entry = Object.entries(manifest).find(([, c]) => c.isEntry)?.[0];
    assert.ok(entry);
    const files = filesLoadedFor(manifest, [
      entry,
      'src/areas/console/ConsoleArea.tsx',
      'src/areas/moderation/ModerationArea.tsx',
    ]);
    const gzipped = files.reduce((n, f) => n + zlib.gzipSync(fs.readFileSync(path.join(WEB_DIST, f))).length, 0);
    assert.ok(gzipped < FIRST_LOAD_BUDGET, `first load ${Math.round(gzipped / 1024)} KB gzipped`);
    // Code-split: the moderator's first load carries none of the legal, admin or portal pages.
    for (const other of [
      'src/areas/legal/LegalArea.tsx',
      'src/areas/admin/AdminArea.tsx',
      'src/areas/portal/PortalArea.tsx',
    ]) {
      assert.ok(manifest[other], `${other} is its own chunk`);
      assert.ok(!files.includes(manifest[other]?.file as string), `${other} is not in the first load`);
    }
  });
});

describe('the web routes without a build', () => {
  it('answer 503 with a page saying how to build, for pages and assets alike', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-web-'));
    const app = Fastify({ logger: false });
    try {
      await app.register(webRoutes(empty));
      const res = await app.inject({ method: 'GET', url: '/console' });
      assert.equal(res.statusCode, 503);
      assert.match(res.body, /npm run build:web/);
      assert.equal(res.headers['content-security-policy'], WEB_CSP);
      const asset = await app.inject({ method: 'GET', url: `${ASSETS_PREFIX}index.js` });
      assert.equal(asset.statusCode, 503);
    } finally {
      await app.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
