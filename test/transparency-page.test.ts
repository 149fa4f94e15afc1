import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { before, describe, it } from 'node:test';
import { buildApp } from '../src/app.js';
import { SafeHtml, escapeHtml, html } from '../src/http/html.js';
import { addIntervals, axisScale, intervalLabel, intervalOf } from '../src/transparency/charts.js';
import { PAGE_CSP, type TransparencyPageView, renderTransparencyPage } from '../src/transparency/page.js';
import { assertNoStack } from './helpers/error-body.js';
import { type Harness, TEST_STORES, describeEachStore } from './helpers/harness.js';
import { addAuthority, issueToken } from './helpers/identity.js';
import { type Violator, buildOrder, fileOrder, legalToken, review, seedViolator } from './helpers/legal.js';

const CHROMIUM = '/usr/bin/chromium';

/** Text of an HTML fragment as a reader sees it: tags dropped, our five entities decoded, spaces collapsed. */
function textOf(fragment: string): string {
  return fragment
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The element `<tag … id="id" …>` up to its closing tag (no nesting of the same tag inside). */
function element(page: string, tag: string, id: string): string {
  const start = page.search(new RegExp(`<${tag}\\b[^>]*\\sid="${id}"`));
  assert.ok(start >= 0, `<${tag} id="${id}"> is on the page`);
  const end = page.indexOf(`</${tag}>`, start);
  return page.slice(start, end + tag.length + 3);
}

/** The body rows of the first table in `fragment`, as cell texts. */
function bodyRows(fragment: string): string[][] {
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(fragment)?.[1] ?? '';
  return [...tbody.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => textOf(cell[1] ?? '')),
  );
}

function href(page: string, id: string): string {
  const m = new RegExp(`<a id="${id}" href="([^"]+)"`).exec(page);
  assert.ok(m, `link #${id} is on the page`);
  return (m[1] as string).replaceAll('&amp;', '&');
}

/** The current quarter as the figures name it. */
function currentQuarter(): string {
  const now = new Date();
  return `${now.getUTCFullYear()}-Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
}

/** Tag names the page may contain: anything else (script, img, iframe, …) means markup got through. */
const ALLOWED_TAGS = new Set(
  'html head meta title link body a header p h1 h2 main form div label select option button section strong figure figcaption svg desc defs pattern rect g line text ul li table caption thead tbody tr th td code details summary pre time footer'.split(
    ' ',
  ),
);

function assertOnlyOurMarkup(page: string): void {
  for (const m of page.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>/g)) {
    assert.ok(ALLOWED_TAGS.has((m[1] as string).toLowerCase()), `unexpected element ${m[0].slice(0, 80)}`);
    // Quoted values are text (their quotes are escaped); only the attributes themselves count.
    const attributes = m[0].replace(/"[^"]*"/g, '""');
    assert.doesNotMatch(attributes, /\son[a-z]+\s*=/i, `event handler attribute in ${m[0].slice(0, 80)}`);
  }
}

describe('HTML escaping for the public pages', () => {
  const hostile = [
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    '</textarea></pre><svg onload=alert(1)>',
    '&lt;already escaped&gt;',
    'javascript:alert(1)',
  ];

  it('escapes the five characters that matter in text and quoted attributes', () => {
    assert.equal(
      escapeHtml('<a href="x">Tom & Jerry\'s</a>'),
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
    assert.equal(escapeHtml('&lt;'), '&amp;lt;', 'entities in the input are text, not markup');
    assert.equal(escapeHtml(42), '42');
    for (const s of hostile) {
      const out = escapeHtml(s);
      assert.doesNotMatch(out, /[<>"']/, out);
      assert.equal(textOf(out), s.replace(/\s+/g, ' '), 'the reader still sees the text as given');
    }
  });

  it('html`` escapes every value, keeps nested html, joins lists and drops null, undefined and false', () => {
    const name = '<b>bold</b>';
    const out = html`<p title="${hostile[1]}">${name}${html`<em>${hostile[0]}</em>`}${[1, '<', html`<br>`]}${null}${undefined}${false}</p>`;
    assert.ok(out instanceof SafeHtml);
    assert.equal(
      out.value,
      '<p title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&lt;b&gt;bold&lt;/b&gt;<em>&lt;script&gt;alert(1)&lt;/script&gt;</em>1&lt;<br></p>',
    );
    assert.equal(String(html`${'a&b'}`), 'a&amp;b');
  });

  it('renders a page whose policy, history and keys are hostile without any of it becoming markup', () => {
    const [a, b, c, d] = hostile as [string, string, string, string];
    const view: TransparencyPageView = {
      now: Date.UTC(2026, 10, 28),
      selected: { country: 'DE', from: '2026-01-01', to: '2026-11-28' },
      countries: ['DE', 'RU'],
      problems: null,
      figures: {
        from: '2026-01-01',
        to: '2026-11-28',
        country: 'DE',
        threshold: 10,
        rows: [
          {
            country: 'DE',
            countryName: a,
            quarter: '2026-Q4',
            received: 12,
            receivedByType: {},
            fulfilled: '1–9',
            fulfilledByData: { ip_addresses: 0, phone_number: 0, both: '1–9' },
            rejected: '1–9',
            rejectedByReason: { [b]: '1–9' },
            withdrawn: 0,
            preserved: 0,
            refusedHumanRights: 0,
            accountsAffected: '1–9',
          },
        ],
        humanRightsRefusals: { total: 0, byCountry: {} },
      },
      quarters: ['2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4'],
      policy: {
        name: a,
        version: b,
        text: `name: x\n${d}\n${a}`,
        moderation: { name: c, version: d },
        refusedCountries: ['RU'],
        refusedOffences: [a],
      },
      history: [{ kind: a, name: b, version: c, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: d }],
      keys: [{ kty: 'OKP', crv: a, x: b, kid: c, alg: d, use: 'sig' }],
    };
    const page = renderTransparencyPage(view);
    assertOnlyOurMarkup(page);
    assert.ok(!page.includes('<script'), 'no script element');
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the hostile text is shown as text');
    assert.ok(page.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(page.includes('&#39; onmouseover=&#39;alert(1)'));
  });

  it('adds counts as intervals and labels ranges as ranges', () => {
    assert.deepEqual(intervalOf('1–9'), { lo: 1, hi: 9 });
    assert.deepEqual(intervalOf(12), { lo: 12, hi: 12 });
    assert.equal(intervalLabel(addIntervals(intervalOf('1–9'), intervalOf(12))), '13–21');
    assert.equal(intervalLabel(addIntervals(intervalOf(1200), intervalOf(34))), '1,234');
    assert.throws(() => intervalOf('many'));
    assert.deepEqual(axisScale(0), { top: 1, step: 1 });
    assert.deepEqual(axisScale(8), { top: 8, step: 2 });
    assert.deepEqual(axisScale(11), { top: 15, step: 5 });
    assert.deepEqual(axisScale(23), { top: 25, step: 5 });
    assert.deepEqual(axisScale(480), { top: 500, step: 100 });
  });
});

/**
 * A small world, published with a threshold of 3 so that some figures are exact and
 * some are ranges: in Germany five orders (three disclosed, each for another
 * account; one rejected by the reviewers; one refused for its offence, political
 * speech) and in Russia three orders refused for the country.
 */
describeEachStore(
  'transparency page',
  (get, dialect) => {
    const secrets: string[] = [];
    const year = new Date().getUTCFullYear();
    let quarter: string;

    before(async () => {
      const h = get();
      quarter = currentQuarter();
      const legal2 = await legalToken(h);
      const targets: Violator[] = [];
      for (let i = 0; i < 3; i++) targets.push(await seedViolator(h, { sessions: 2, days: 20 }));
      const orders = [];
      for (const v of targets) {
        const order = buildOrder([{ accountId: v.accountId }]);
        orders.push(order);
        const filed = await fileOrder(h, order);
        assert.equal(filed.data.status, 'in_review', filed.body);
        assert.equal((await review(h, filed.data.id, { decision: 'approve' }, h.tokens.legal)).statusCode, 200);
        const second = await review(h, filed.data.id, { decision: 'approve' }, legal2);
        assert.equal(second.data.status, 'disclosed', second.body);
      }
      const rejectedOrder = buildOrder([{ accountId: targets[0]!.accountId }]);
      orders.push(rejectedOrder);
      const toReject = await fileOrder(h, rejectedOrder);
      const rejected = await review(
        h,
        toReject.data.id,
        { decision: 'reject', reasons: ['Disproportionate.'] },
        legal2,
      );
      assert.equal(rejected.data.status, 'rejected', rejected.body);
      const speechOrder = buildOrder([{ accountId: targets[1]!.accountId }], {
        offence: { category: 'political_speech', description: 'Criticism of the government', provisions: '§ 1' },
      });
      orders.push(speechOrder);
      assert.equal((await fileOrder(h, speechOrder)).data.status, 'rejected');

      const authorityId = await addAuthority(h, { name: 'Moscow City Court', country: 'RU', kind: 'court' });
      const { token } = await issueToken(h, 'authority', { authorityId });
      const ru = await seedViolator(h, {
        country: 'RU',
        phone: `+7916${String(1_000_000 + crypto.randomInt(8_999_999))}`,
        sessions: 2,
      });
      for (let i = 0; i < 3; i++) {
        const order = buildOrder([{ accountId: ru.accountId }], {
          issuingAuthority: { name: 'Moscow City Court', country: 'RU' },
        });
        orders.push(order);
        const filed = await fileOrder(h, order, token);
        assert.equal(filed.data.status, 'rejected', filed.body);
      }
      for (const v of [...targets, ru]) secrets.push(v.accountId, v.phone, v.phone.replace(/^\+/, ''), v.username);
      for (const o of orders) secrets.push(o.caseReference, o.courtOrder!.reference);
      secrets.push('Test Police', 'Moscow City Court', authorityId, h.tokens.authorityId);
    });

    it('answers 200 text/html without a token, with a strict content security policy and a language', async () => {
      const h = get();
      const res = await h.call('GET', '/transparency');
      assert.equal(res.statusCode, 200, res.body.slice(0, 500));
      assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.equal(res.headers['content-security-policy'], PAGE_CSP);
      assert.match(PAGE_CSP, /default-src 'none'/);
      assert.doesNotMatch(PAGE_CSP, /unsafe-inline|unsafe-eval|\*/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', 'the app-wide headers are kept');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.match(res.body, /^<!doctype html>\n<html lang="en">/);
      assert.ok(!/<script|<style|\sstyle="/i.test(res.body), 'no script and no inline style for the policy to allow');
      assertOnlyOurMarkup(res.body);
      // Labels, captions and aria-labelledby point at ids: each must name one element.
      const ids = [...res.body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        [],
        'ids are unique',
      );
      for (const m of res.body.matchAll(/aria-labelledby="([^"]+)"/g)) {
        for (const id of (m[1] as string).split(' ')) assert.ok(ids.includes(id), `aria-labelledby ${id} exists`);
      }
      const withToken = await h.call('GET', '/transparency', { token: h.tokens.moderator });
      assert.equal(withToken.statusCode, 200, 'a token changes nothing');
    });

    it('shows the figures of the world per country and quarter, small counts as ranges', async () => {
      const h = get();
      const page = (await h.call('GET', '/transparency')).body;
      const rows = bodyRows(element(page, 'table', 'figures-table'));
      // Quarter, country, received, fulfilled, IP only, phone only, both, rejected, withdrawn, preserved, accounts.
      assert.deepEqual(rows, [
        // Germany's 2 rejections: 1 by the checks + 1 by a reviewer, each "1–2", so the total is "2–4".
        [quarter, 'Germany (DE)', '5', '3', '0', '0', '3', '2–4', '0', '0', '3'],
        [quarter, 'Russia (RU)', '3', '0', '0', '0', '0', '3', '0', '0', '0'],
      ]);
      const received = bodyRows(element(page, 'figure', 'received'));
      assert.equal(received.length, 4, 'the last four quarters, empty ones too');
      assert.deepEqual(received.at(-1), [quarter, '8', '3']);
      assert.deepEqual(received[0]?.slice(1), ['0', '0']);
      // Germany's "2–4" rejections plus Russia's 3: the sum of a range is a range.
      assert.deepEqual(bodyRows(element(page, 'figure', 'outcomes')).at(-1), [quarter, '3', '5–7']);
      assert.deepEqual(bodyRows(element(page, 'figure', 'reasons')), [
        ['Country refused (human rights)', 'country_refused', '3'],
        // The political-speech order failed three checks: it counts under each.
        ['No confirmed violation by a target', 'no_confirmed_violation', '1–2'],
        ['Offence outside the policy’s scope', 'offence_out_of_scope', '1–2'],
        ['Offence refused (human rights)', 'refused_offence_category', '1–2'],
        ['Rejected by the legal team’s review', 'reviewer_rejected', '1–2'],
      ]);
      assert.equal((page.match(/<svg class="chart"/g) ?? []).length, 3, 'three charts');
      const outcomes = element(page, 'svg', 'outcomes-chart');
      assert.match(outcomes, /<rect class="range"[^>]*fill="url\(#outcomes-hatch-1\)"/, 'the range is drawn hatched');
      assert.match(outcomes, /<text[^>]*>5–7<\/text>/, 'and labelled as a range');
      assert.match(
        outcomes,
        /<title>[^<]*Rejected: 5–7 \(a range: counts below 3 are not published exactly\)<\/title>/,
      );
    });

    it('states the human-rights refusals in one sentence with the number and the countries', async () => {
      const h = get();
      const all = textOf(element((await h.call('GET', '/transparency')).body, 'p', 'refusals-sentence'));
      assert.match(
        all,
        /^4–5 orders were refused for human-rights reasons \(country refused, offence refused\) from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}: countries Russia \(3\), Germany \(1–2\)\.$/,
      );
      const de = textOf(element((await h.call('GET', '/transparency?country=DE')).body, 'p', 'refusals-sentence'));
      assert.match(
        de,
        /^1–2 orders were refused for human-rights reasons .* from authorities in Germany: countries Germany \(1–2\)\.$/,
      );
      const quiet = await h.call('GET', '/transparency?from=2020-01-01&to=2020-12-31');
      assert.equal(quiet.statusCode, 200);
      assert.equal(
        textOf(element(quiet.body, 'p', 'refusals-sentence')),
        '0 orders were refused for human-rights reasons (country refused, offence refused) from 2020-01-01 to 2020-12-31: countries none.',
      );
      assert.match(quiet.body, /No order was rejected in this period\./);
    });

    it('filters by country with a plain GET form and shows what the JSON route publishes', async () => {
      const h = get();
      const page = (await h.call('GET', `/transparency?country=de&from=${year}-01-01`)).body;
      assert.match(page, /<form class="filters" method="get" action="\/transparency"/);
      assert.match(page, /<option value="DE" selected>Germany \(DE\)<\/option>/);
      assert.match(page, /<option value="RU">Russia \(RU\)<\/option>/);
      assert.match(page, /<option value="">All countries<\/option>/);
      assert.ok(page.includes(`<option value="${year}-01-01" selected>${year}-Q1</option>`), 'the period as chosen');
      assert.match(page, /<label for="country">/);
      const rows = bodyRows(element(page, 'table', 'figures-table'));
      const json = await h.call('GET', `/v1/transparency/requests?country=DE&from=${year}-01-01`);
      assert.equal(json.statusCode, 200, json.body);
      assert.deepEqual(
        rows.map((r) => [r[0], r[2], r[3], r[7], r[10]]),
        json.data.rows.map((r: any) =>
          [r.quarter, r.received, r.fulfilled, r.rejected, r.accountsAffected].map(String),
        ),
      );
      assert.ok(rows.every((r) => r[1] === 'Germany (DE)'));
      assert.equal(textOf(element(page, 'p', 'subject')), `Germany, ${year}-01-01 to ${json.data.to}`);
      assert.equal((await h.call('GET', '/transparency?country=all')).statusCode, 200);
    });

    it('links every figure to its CSV with the same filters, and the CSV answers', async () => {
      const h = get();
      const page = (await h.call('GET', `/transparency?country=DE&from=${year}-01-01&to=${year}-12-31`)).body;
      const url = href(page, 'csv-requests');
      assert.equal(url, `/v1/transparency/requests?country=DE&from=${year}-01-01&to=${year}-12-31&format=csv`);
      const csv = await h.call('GET', url);
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      const lines = csv.body.trim().split('\n');
      assert.match(lines[0] as string, /^quarter,country,received,fulfilled,/);
      assert.ok(
        lines.slice(1).every((l) => l.split(',')[1] === 'DE'),
        csv.body,
      );
      assert.ok(
        lines.some((l) => l.startsWith(`${quarter},DE,5,3,`)),
        csv.body,
      );

      const all = (await h.call('GET', '/transparency')).body;
      const allCsv = await h.call('GET', href(all, 'csv-requests'));
      assert.match(String(allCsv.headers['content-type']), /^text\/csv/);
      assert.ok(allCsv.body.includes(`${quarter},RU,3,0,`), allCsv.body);
      // The DSA figures are another route (being built): the page links one CSV per year of the period.
      const dsa = [...page.matchAll(/<a class="csv-dsa" href="([^"]+)"/g)].map((m) =>
        (m[1] as string).replaceAll('&amp;', '&'),
      );
      assert.deepEqual(dsa, [`/v1/transparency/dsa?year=${year}&format=csv`]);
    });

    it('shows the disclosure policy in force, its full text and the history of versions', async () => {
      const h = get();
      const page = (await h.call('GET', '/transparency')).body;
      assert.equal(textOf(element(page, 'code', 'policy-version')), h.ctx.disclosure.version);
      assert.equal(textOf(element(page, 'strong', 'policy-name')), h.ctx.disclosure.name);
      const history = bodyRows(element(page, 'table', 'policy-history'));
      const disclosure = history.find((r) => r[0] === 'disclosure');
      assert.ok(disclosure, JSON.stringify(history));
      assert.equal(disclosure[2], h.ctx.disclosure.version);
      assert.match(disclosure[3] as string, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(history.some((r) => r[0] === 'moderation' && r[2] === h.ctx.policy.version));
      const text = fs.readFileSync(h.ctx.disclosure.file, 'utf8');
      assert.ok(page.includes(escapeHtml(text)), 'the full text, escaped, in a <details>');
      const yaml = await h.call('GET', '/transparency/policy.yaml');
      assert.equal(yaml.statusCode, 200);
      assert.match(String(yaml.headers['content-type']), /^text\/plain; charset=utf-8/);
      assert.equal(yaml.body, text);
      assert.match(page, /href="\/transparency\/policy\.yaml"/);
    });

    it('shows the published signing keys as the JWKS publishes them', async () => {
      const h = get();
      const page = (await h.call('GET', '/transparency')).body;
      const jwks = await h.call('GET', '/.well-known/custos-signing-keys.json');
      assert.ok(jwks.data.keys.length >= 1);
      for (const key of jwks.data.keys) {
        assert.ok(page.includes(`<code class="kid">${key.kid}</code>`), `kid ${key.kid} on the page`);
        assert.ok(page.includes(escapeHtml(JSON.stringify(key, null, 2))), 'the JWK in full');
        assert.ok(!('d' in key), 'public halves only');
      }
      assert.match(page, /<td>EdDSA<\/td>/);
      assert.match(page, /href="\/\.well-known\/custos-signing-keys\.json"/);
    });

    it('shows no account id, phone number, username, case reference or authority name', async () => {
      const h = get();
      assert.ok(secrets.length > 20);
      for (const url of [
        '/transparency',
        '/transparency?country=DE',
        '/transparency?country=RU',
        '/transparency?from=2020-01-01',
      ]) {
        const res = await h.call('GET', url);
        for (const secret of secrets) assert.ok(!res.body.includes(secret), `${url} shows ${secret}`);
      }
    });

    it('answers bad query values with a 422 page that says what is wrong, echoing nothing', async () => {
      const h = get();
      const cases: Array<[string, RegExp]> = [
        ['from=2026-02-30', /From: must be a date YYYY-MM-DD\./],
        ['from=2026-06-01&to=2026-01-01', /From: must not be after to\./],
        ['from=2015-01-01&to=2026-01-01', /To: a report covers at most 5 years\./],
        ['country=XX', /Country: not an ISO 3166-1 alpha-2 country code\./],
        ['country=%3Cscript%3Ealert(1)%3C%2Fscript%3E', /Country: not an ISO/],
        ['from=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E', /From: must be a date/],
        ['from=2026-01-01&from=2026-02-01', /From: must be given once\./],
        ['country=DE&country=RU', /Country: must be given once\./],
      ];
      for (const [query, message] of cases) {
        const res = await h.call('GET', `/transparency?${query}`);
        assert.equal(res.statusCode, 422, `${query}: ${res.statusCode}`);
        assert.match(String(res.headers['content-type']), /^text\/html/);
        assert.equal(res.headers['content-security-policy'], PAGE_CSP);
        assert.notEqual(res.headers['cache-control'], 'public, max-age=60', 'an error page is not cached');
        const problems = textOf(element(res.body, 'div', 'problems'));
        assert.match(problems, message, `${query}: ${problems}`);
        assert.ok(!res.body.includes('<script>alert') && !res.body.includes('<img'), `${query} is not echoed`);
        assert.ok(!res.body.includes('refusals-sentence'), 'no figures for an invalid query');
        assertNoStack(res, query);
        assertOnlyOurMarkup(res.body);
      }
    });

    it('serves its style sheet and icon from Custos, under the same policy', async () => {
      const h = get();
      const page = (await h.call('GET', '/transparency')).body;
      assert.match(page, /<link rel="stylesheet" href="\/transparency\/page\.css">/);
      assert.doesNotMatch(page, /(?:src|href)="(?:https?:)?\/\//, 'nothing from another origin');
      const css = await h.call('GET', '/transparency/page.css');
      assert.equal(css.statusCode, 200);
      assert.match(String(css.headers['content-type']), /^text\/css/);
      assert.match(css.body, /svg\.chart/);
      const icon = await h.call('GET', '/transparency/icon.svg');
      assert.equal(icon.statusCode, 200);
      assert.match(String(icon.headers['content-type']), /^image\/svg\+xml/);
      assert.equal(icon.headers['content-security-policy'], PAGE_CSP);
    });

    const browserSkip = browserUnavailable(dialect);
    it('renders in a real browser: three SVG charts, no console error or CSP violation, the form and the CSV download work', {
      skip: browserSkip,
    }, async () => {
      const h = get();
      await inBrowser(h, quarter);
    });
  },
  { config: { transparencyMinCount: 3 } },
);

/** Why the browser test cannot run here (said in the test output), or false when it can. */
function browserUnavailable(dialect: string): string | false {
  if (dialect !== TEST_STORES[0]) return `the browser test runs once, on ${TEST_STORES[0]}`;
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install -D playwright-core)';
  }
  return false;
}

async function inBrowser(h: Harness, quarter: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const app = await buildApp(h.ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  const base = `http://127.0.0.1:${address.port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const problems: string[] = [];
    const watch = (context: Awaited<ReturnType<typeof browser.newContext>>) => {
      // Anything leaving for another origin would be a CDN or a leak: fail it.
      void context.route(
        (url) => !url.href.startsWith(base),
        (route) => {
          problems.push(`outbound request ${route.request().url()}`);
          return route.abort();
        },
      );
    };
    const context = await browser.newContext({ acceptDownloads: true });
    watch(context);
    // Runs before the page (through the debugging protocol, so the page's CSP does not apply to it).
    await context.addInitScript(
      "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
    );
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });

    const res = await page.goto(`${base}/transparency`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('svg.chart').count(), 3, 'three charts');
    assert.ok((await page.locator('svg.chart g.bar rect').count()) >= 5, 'with bars');
    assert.equal((await page.locator('svg.chart rect.range').count()) > 0, true, 'ranges drawn hatched');
    for (const id of ['received-chart', 'outcomes-chart', 'reasons-chart']) {
      const box = await page.locator(`#${id}`).boundingBox();
      assert.ok(box && box.width > 200 && box.height > 80, `${id} is drawn: ${JSON.stringify(box)}`);
    }
    const background = await page.evaluate("getComputedStyle(document.querySelector('form.filters')).backgroundColor");
    assert.equal(background, 'rgb(244, 246, 248)', 'the style sheet loaded under the CSP');
    assert.match(
      (await page.locator('#refusals-sentence').textContent()) ?? '',
      /^4–5 orders were refused for human-rights reasons/,
    );

    // The plain GET form: choose Germany and submit.
    await page.selectOption('#country', 'DE');
    await Promise.all([page.waitForURL(/[?&]country=DE(&|$)/), page.click('button[type=submit]')]);
    assert.match((await page.locator('#subject').textContent()) ?? '', /^Germany, /);
    assert.equal(await page.locator('svg.chart').count(), 3);

    // The CSV link downloads the figures shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv-requests')]);
    assert.match(download.suggestedFilename(), /^custos-requests-.*\.csv$/);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    assert.match(csv, /^quarter,country,received,/);
    assert.ok(csv.includes(`${quarter},DE,5,3,`), csv);
    assert.ok(!csv.includes(',RU,'), 'only the country chosen');

    assert.deepEqual(await page.evaluate('window.__csp'), [], 'no CSP violation');
    assert.deepEqual([...problems], [], 'no console error, failed or outbound request');

    // The policy is enforced, not just sent: an inline script injected into the page does not run.
    await page.evaluate(
      "(() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true'; document.body.appendChild(s); })()",
    );
    await page.waitForFunction('window.__csp.length > 0');
    assert.equal(await page.evaluate('window.__ran === true'), false);

    // Without JavaScript the page is the same: the charts are drawn on the server.
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    watch(noScript);
    const plain = await noScript.newPage();
    await plain.goto(`${base}/transparency?country=RU`);
    assert.equal(await plain.locator('svg.chart').count(), 3);
    assert.match(
      (await plain.locator('#refusals-sentence').textContent()) ?? '',
      /^3 orders were refused .*countries Russia \(3\)\.$/,
    );
    assert.deepEqual(
      problems.filter((p) => !p.includes('Content Security Policy')),
      [],
    );
  } finally {
    await browser.close();
    await app.close();
  }
}
