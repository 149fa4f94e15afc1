import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { JWK } from 'jose';
import type { Context } from '../context.js';
import { type FieldProblem, ValidationError } from '../errors.js';
import { countryName } from '../geo/countries.js';
import { type HtmlValue, type SafeHtml, html } from '../http/html.js';
import { currentSigningKey, publishedSigningKeys } from '../legal/signing-keys.js';
import {
  type ChartSeries,
  type Interval,
  PALETTE,
  ZERO,
  addIntervals,
  chartLegend,
  groupedBarChart,
  horizontalBarChart,
  intervalLabel,
  intervalOf,
  isRange,
} from './charts.js';
import { PAGE_CSS, PAGE_ICON } from './page-style.js';
import { type PolicyHistoryEntry, policyHistory, policyText } from './policy-history.js';
import { parseReportRange } from './range.js';
import {
  type PublishedCount,
  type PublishedFigures,
  REVIEWER_REJECTED,
  computeRequestFigures,
  publishFigures,
  quartersOf,
} from './requests.js';

/**
 * The public transparency page (`GET /transparency`): request figures per country
 * and quarter with charts, the human-rights refusals in one plain sentence, the
 * disclosure policy in force and its history, and the published signing keys. Drawn
 * on the server from the same functions as the JSON routes (`computeRequestFigures`
 * and `publishFigures`, so small counts are ranges here too); it needs no script and
 * no login, and every figure links to its CSV.
 */

/**
 * Nothing but the page's own style sheet and icon may load; no script at all, no
 * inline style (the charts use SVG presentation attributes, which are not styles).
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Public figures change slowly: computed at most once a minute per query and process (as the JSON route). */
const CACHE_MS = 60_000;
/** Per client address and process, as the JSON routes. */
const RATE_LIMIT = { max: 120, timeWindow: '1 minute' };
const DAY = 86_400_000;
/** Quarters offered in the period selector: five years, the longest report (range.ts). */
const QUARTERS_OFFERED = 20;

/** What each reason code means, for readers who do not know the codes. */
const REASON_LABELS: Record<string, string> = {
  missing_field: 'A required field was missing',
  authority_not_verified: 'The authority is not verified',
  authority_country_mismatch: 'Issuing country is not the authority’s',
  country_refused: 'Country refused (human rights)',
  country_extra_review: 'Country needs a human-rights review',
  offence_out_of_scope: 'Offence outside the policy’s scope',
  refused_offence_category: 'Offence refused (human rights)',
  target_not_found: 'No account found for a target',
  no_confirmed_violation: 'No confirmed violation by a target',
  target_outside_jurisdiction: 'Target outside the jurisdiction',
  period_outside_retention: 'Period outside the retention window',
  period_too_long: 'Period too long',
  data_category_not_allowed: 'Data not allowed for this order',
  [REVIEWER_REJECTED]: 'Rejected by the legal team’s review',
};

const FIELD_LABELS: Record<string, string> = { '/country': 'Country', '/from': 'From', '/to': 'To' };

export interface TransparencyPageView {
  /** The clock the period choices are computed from (epoch ms). */
  now: number;
  /** The choices in the form; null when not chosen or not valid. */
  selected: { country: string | null; from: string | null; to: string | null };
  /** Countries with orders in the period (ISO codes), for the country choice. */
  countries: string[];
  /** Why the figures could not be shown (a 422); null when they are. */
  problems: FieldProblem[] | null;
  figures: PublishedFigures | null;
  /** Every quarter the period touches, figures or not, oldest first. */
  quarters: string[];
  policy: {
    name: string;
    version: string;
    text: string;
    moderation: { name: string; version: string };
    refusedCountries: string[];
    refusedOffences: string[];
  };
  history: PolicyHistoryEntry[];
  keys: JWK[];
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The country, from and to of the query as text, or the problems with them (each given at most once). */
function readQuery(query: unknown): {
  input: { country?: string; from?: string; to?: string };
  problems: FieldProblem[];
} {
  const q = (query ?? {}) as Record<string, unknown>;
  const input: { country?: string; from?: string; to?: string } = {};
  const problems: FieldProblem[] = [];
  for (const name of ['country', 'from', 'to'] as const) {
    const value = q[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      problems.push({ path: `/${name}`, code: 'repeated', message: 'must be given once' });
      continue;
    }
    const text = value.trim();
    if (text === '') continue;
    if (name === 'country') {
      if (text.toLowerCase() !== 'all') input.country = text.toUpperCase();
    } else {
      input[name] = text;
    }
  }
  return { input, problems };
}

/**
 * Everything the page shows for a query: the figures (or the problems with the
 * query), the countries to choose from, the policy and the signing keys.
 */
export async function loadPageView(
  ctx: Context,
  query: unknown,
  figuresFor: (range: { country?: string; from: number; to: number }) => Promise<PublishedFigures>,
  now = Date.now(),
): Promise<TransparencyPageView> {
  const db = ctx.store.db;
  await currentSigningKey(db, ctx.cipher);
  const [history, { keys }] = await Promise.all([policyHistory(ctx.store.reads), publishedSigningKeys(db)]);
  const base = {
    now,
    policy: {
      name: ctx.disclosure.name,
      version: ctx.disclosure.version,
      text: policyText(ctx.disclosure.file),
      moderation: { name: ctx.policy.name, version: ctx.policy.version },
      refusedCountries: [...ctx.disclosure.refusedCountries],
      refusedOffences: [...ctx.disclosure.refusedOffences],
    },
    history,
    keys,
  };
  const { input, problems } = readQuery(query);
  let range: { country?: string; from: number; to: number } | null = null;
  if (problems.length === 0) {
    try {
      range = parseReportRange(input, now);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (!range) {
    return {
      ...base,
      selected: { country: null, from: null, to: null },
      countries: [],
      problems,
      figures: null,
      quarters: [],
    };
  }
  const all = await figuresFor({ from: range.from, to: range.to });
  const figures = range.country ? await figuresFor(range) : all;
  const countries = new Set([...all.rows.map((r) => r.country), ...Object.keys(all.humanRightsRefusals.byCountry)]);
  if (range.country) countries.add(range.country);
  return {
    ...base,
    selected: { country: range.country ?? null, from: figures.from, to: figures.to },
    countries: [...countries],
    problems: null,
    figures,
    quarters: quartersOf(range.from, range.to).map((q) => q.quarter),
  };
}

/** The period choices: the last twenty quarters, the current one up to today. */
function quarterChoices(now: number) {
  const today = new Date(now);
  const tomorrow = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) + DAY;
  const currentQ = Math.floor(today.getUTCMonth() / 3);
  const first = Date.UTC(today.getUTCFullYear(), currentQ * 3 - 3 * (QUARTERS_OFFERED - 1), 1);
  const quarters = quartersOf(first, tomorrow);
  return {
    from: quarters.map((q) => ({ value: iso(q.from), label: q.quarter })),
    to: quarters.map((q, i) => ({
      value: iso(q.to - DAY),
      label: i === quarters.length - 1 ? `${q.quarter} (to date)` : q.quarter,
    })),
  };
}

function select(
  id: string,
  label: string,
  options: Array<{ value: string; label: string }>,
  selected: string | null,
): SafeHtml {
  const all =
    selected !== null && !options.some((o) => o.value === selected)
      ? [{ value: selected, label: selected }, ...options]
      : options;
  return html`<div><label for="${id}">${label}</label><select id="${id}" name="${id}">${all.map(
    (o) => html`<option value="${o.value}"${o.value === selected ? html` selected` : null}>${o.label}</option>`,
  )}</select></div>`;
}

function filtersForm(view: TransparencyPageView): SafeHtml {
  const choices = quarterChoices(view.now);
  const countries = [...view.countries]
    .map((code) => ({ value: code, label: `${countryName(code)} (${code})` }))
    .sort((a, b) => a.label.localeCompare(b.label, 'en'));
  const from = view.selected.from ?? choices.from[Math.max(0, choices.from.length - 4)]?.value ?? null;
  const to = view.selected.to ?? choices.to.at(-1)?.value ?? null;
  return html`<form class="filters" method="get" action="/transparency" aria-label="Country and period">
${select('country', 'Country of the authorities', [{ value: '', label: 'All countries' }, ...countries], view.selected.country ?? '')}
${select('from', 'From quarter', choices.from, from)}
${select('to', 'To quarter', choices.to, to)}
<div><button type="submit">Show figures</button></div>
</form>`;
}

function problemsBox(problems: FieldProblem[]): SafeHtml {
  return html`<div class="error" role="alert" id="problems"><h2>These figures cannot be shown</h2>
<p>The country or the period is not valid. Choose again above, or <a href="/transparency">see the last four quarters for all countries</a>.</p>
<ul>${problems.map((p) => html`<li>${FIELD_LABELS[p.path] ?? p.path.replace(/^\//, '')}: ${p.message}.</li>`)}</ul></div>`;
}

/** A table cell for a published count: ranges are marked as such. */
function countCell(value: Interval): SafeHtml {
  return isRange(value)
    ? html`<td class="num range-value">${intervalLabel(value)}</td>`
    : html`<td class="num">${intervalLabel(value)}</td>`;
}

function refusalsBox(view: TransparencyPageView, figures: PublishedFigures): SafeHtml {
  const total = intervalOf(figures.humanRightsRefusals.total);
  const one = !isRange(total) && total.lo === 1;
  const byCountry = Object.entries(figures.humanRightsRefusals.byCountry)
    .map(([code, n]) => ({ code, value: intervalOf(n) }))
    .sort((a, b) => b.value.hi - a.value.hi || countryName(a.code).localeCompare(countryName(b.code), 'en'));
  const countries =
    byCountry.length === 0
      ? 'none'
      : byCountry.map((c) => `${countryName(c.code)} (${intervalLabel(c.value)})`).join(', ');
  const where = figures.country ? ` from authorities in ${countryName(figures.country)}` : '';
  const refused = view.policy.refusedCountries.map(countryName).sort((a, b) => a.localeCompare(b, 'en'));
  return html`<section class="refusals" aria-labelledby="refusals-title" id="refusals">
<h2 id="refusals-title">Refused for human-rights reasons</h2>
<p id="refusals-sentence"><strong>${intervalLabel(total)}</strong> ${one ? 'order was' : 'orders were'} refused for human-rights reasons (country refused, offence refused) from ${figures.from} to ${figures.to}${where}: countries ${countries}.</p>
${isRange(total) ? html`<p class="note">${intervalLabel(total)} is a range: counts below ${figures.threshold} are not published exactly.</p>` : null}
<p class="note">The disclosure policy in force refuses every order from ${refused.length === 0 ? 'no country' : refused.join(', ')}, and every order for ${view.policy.refusedOffences.length === 0 ? 'no offence category' : view.policy.refusedOffences.join(', ')}, whatever the country.</p>
</section>`;
}

function chartFigure(
  id: string,
  title: string,
  chart: SafeHtml,
  legend: SafeHtml | null,
  table: { head: HtmlValue[]; rows: HtmlValue[] },
): SafeHtml {
  return html`<figure id="${id}" aria-labelledby="${id}-caption">
<figcaption id="${id}-caption">${title}</figcaption>
${chart}
${legend}
<div class="table-wrap"><table><caption>${title}: the figures</caption><thead><tr>${table.head}</tr></thead><tbody>${table.rows}</tbody></table></div>
</figure>`;
}

function charts(view: TransparencyPageView, figures: PublishedFigures): SafeHtml {
  const perQuarter = new Map(
    view.quarters.map((q) => [q, { received: ZERO, accounts: ZERO, fulfilled: ZERO, rejected: ZERO }]),
  );
  const reasons = new Map<string, Interval>();
  for (const row of figures.rows) {
    const q = perQuarter.get(row.quarter);
    if (q) {
      q.received = addIntervals(q.received, intervalOf(row.received));
      q.accounts = addIntervals(q.accounts, intervalOf(row.accountsAffected));
      q.fulfilled = addIntervals(q.fulfilled, intervalOf(row.fulfilled));
      q.rejected = addIntervals(q.rejected, intervalOf(row.rejected));
    }
    for (const [code, n] of Object.entries(row.rejectedByReason)) {
      reasons.set(code, addIntervals(reasons.get(code) ?? ZERO, intervalOf(n)));
    }
  }
  const threshold = figures.threshold;
  const quarterTable = (series: ChartSeries[], pick: (q: string) => Interval[]) => ({
    head: [html`<th scope="col">Quarter</th>`, series.map((s) => html`<th scope="col" class="num">${s.name}</th>`)],
    rows: view.quarters.map((q) => html`<tr><th scope="row">${q}</th>${pick(q).map(countCell)}</tr>`),
  });
  const received: ChartSeries[] = [
    { name: 'Orders received', color: PALETTE.blue },
    { name: 'Accounts affected', color: PALETTE.purple },
  ];
  const outcomes: ChartSeries[] = [
    { name: 'Fulfilled', color: PALETTE.green },
    { name: 'Rejected', color: PALETTE.red },
  ];
  const at = (q: string) => perQuarter.get(q) ?? { received: ZERO, accounts: ZERO, fulfilled: ZERO, rejected: ZERO };
  const groups = (pick: (q: string) => Interval[]) => view.quarters.map((q) => ({ label: q, values: pick(q) }));
  const pickReceived = (q: string) => [at(q).received, at(q).accounts];
  const pickOutcomes = (q: string) => [at(q).fulfilled, at(q).rejected];
  const reasonBars = [...reasons.entries()]
    .map(([code, value]) => ({ code, label: REASON_LABELS[code] ?? code, value }))
    .sort((a, b) => b.value.hi - a.value.hi || a.code.localeCompare(b.code));
  const reasonsTitle = 'Rejections by reason';
  const reasonsFigure =
    reasonBars.length === 0
      ? html`<figure id="reasons"><figcaption>${reasonsTitle}</figcaption><p>No order was rejected in this period.</p></figure>`
      : chartFigure(
          'reasons',
          reasonsTitle,
          horizontalBarChart({ id: 'reasons', title: reasonsTitle, color: PALETTE.red, bars: reasonBars, threshold }),
          chartLegend('reasons', [{ name: 'Orders rejected for this reason', color: PALETTE.red }], threshold),
          {
            head: [html`<th scope="col">Reason</th><th scope="col">Code</th><th scope="col" class="num">Orders</th>`],
            rows: reasonBars.map(
              (r) => html`<tr><th scope="row">${r.label}</th><td><code>${r.code}</code></td>${countCell(r.value)}</tr>`,
            ),
          },
        );
  return html`<section aria-labelledby="charts-title" id="charts">
<h2 id="charts-title">Orders per quarter</h2>
${chartFigure(
  'received',
  'Orders received and accounts affected per quarter',
  groupedBarChart({
    id: 'received',
    title: 'Orders received and accounts affected per quarter',
    series: received,
    groups: groups(pickReceived),
    threshold,
  }),
  chartLegend('received', received, threshold),
  quarterTable(received, pickReceived),
)}
${chartFigure(
  'outcomes',
  'Orders fulfilled and rejected per quarter',
  groupedBarChart({
    id: 'outcomes',
    title: 'Orders fulfilled and rejected per quarter',
    series: outcomes,
    groups: groups(pickOutcomes),
    threshold,
  }),
  chartLegend('outcomes', outcomes, threshold),
  quarterTable(outcomes, pickOutcomes),
)}
<p class="note">An order rejected for two reasons counts under both.</p>
${reasonsFigure}
</section>`;
}

function figuresTable(figures: PublishedFigures): SafeHtml {
  const cell = (count: PublishedCount | undefined) => countCell(intervalOf(count));
  const body =
    figures.rows.length === 0
      ? html`<p>No order was received, decided or withdrawn in this period.</p>`
      : html`<div class="table-wrap"><table id="figures-table"><caption>Orders per country and quarter</caption>
<thead><tr><th scope="col">Quarter</th><th scope="col">Country</th><th scope="col" class="num">Received</th><th scope="col" class="num">Fulfilled</th><th scope="col" class="num">of which IP addresses only</th><th scope="col" class="num">phone number only</th><th scope="col" class="num">both</th><th scope="col" class="num">Rejected</th><th scope="col" class="num">Withdrawn</th><th scope="col" class="num">Preserved</th><th scope="col" class="num">Accounts affected</th></tr></thead>
<tbody>${figures.rows.map(
          (r) =>
            html`<tr><th scope="row">${r.quarter}</th><td>${r.countryName} (${r.country})</td>${cell(r.received)}${cell(r.fulfilled)}${cell(r.fulfilledByData.ip_addresses)}${cell(r.fulfilledByData.phone_number)}${cell(r.fulfilledByData.both)}${cell(r.rejected)}${cell(r.withdrawn)}${cell(r.preserved)}${cell(r.accountsAffected)}</tr>`,
        )}</tbody></table></div>`;
  return html`<section aria-labelledby="table-title" id="figures">
<h2 id="table-title">Figures per country and quarter</h2>
<p class="note">Received: orders that arrived. Fulfilled: orders for which data was disclosed. Rejected: orders refused by the policy’s automatic checks or by the legal team. Preserved: orders to keep data, not to hand it over. Accounts affected: distinct accounts whose data was disclosed. An order is counted in the quarter of each event and in the country of the authority that sent it.</p>
${body}
</section>`;
}

/** The query string of the JSON/CSV route for the figures on the page. */
function requestsUrl(figures: PublishedFigures, format: 'csv' | 'json'): string {
  const params = new URLSearchParams();
  if (figures.country) params.set('country', figures.country);
  params.set('from', figures.from);
  params.set('to', figures.to);
  params.set('format', format);
  return `/v1/transparency/requests?${params}`;
}

function downloads(figures: PublishedFigures | null): SafeHtml {
  const years: number[] = [];
  if (figures) {
    for (let y = Number(figures.from.slice(0, 4)); y <= Number(figures.to.slice(0, 4)); y++) years.push(y);
  }
  return html`<section aria-labelledby="downloads-title" id="downloads">
<h2 id="downloads-title">Download the figures</h2>
<ul>
${
  figures
    ? html`<li><a id="csv-requests" href="${requestsUrl(figures, 'csv')}">Orders per country and quarter, ${figures.from} to ${figures.to}${figures.country ? `, ${countryName(figures.country)}` : ''} (CSV)</a> — every figure on this page, rejections by reason included; also as <a href="${requestsUrl(figures, 'json')}">JSON</a> with the human-rights refusals per country.</li>`
    : null
}
${years.map(
  (y) =>
    html`<li><a class="csv-dsa" href="/v1/transparency/dsa?year=${y}&amp;format=csv">Digital Services Act transparency report figures, ${y} (CSV)</a> — also as <a href="/v1/transparency/dsa?year=${y}&amp;format=json">JSON</a>.</li>`,
)}
<li><a href="/transparency/policy.yaml">The disclosure policy in force (YAML)</a>, and <a href="/v1/transparency/policy">the policies and their history (JSON)</a>.</li>
<li><a href="/.well-known/custos-signing-keys.json">The signing keys (JWKS)</a>.</li>
<li><a id="audit-checkpoint" href="/v1/transparency/audit-checkpoint">A signed checkpoint of the audit log (JSON)</a> — the number and hash of its latest entry, signed with the keys above. Keep it: if the log's history were ever rewritten, the entry would no longer carry that hash.</li>
</ul>
</section>`;
}

function day(isoTime: string): SafeHtml {
  return html`<time datetime="${isoTime}">${isoTime.slice(0, 10)}</time>`;
}

function policySection(view: TransparencyPageView): SafeHtml {
  const { policy } = view;
  return html`<section aria-labelledby="policy-title" id="policy">
<h2 id="policy-title">The policy in force</h2>
<p>Disclosure policy <strong id="policy-name">${policy.name}</strong>, version <code class="version" id="policy-version">${policy.version}</code> (the SHA-256 of its file). <a href="/transparency/policy.yaml">Read the full text</a>.</p>
<details><summary>Show the full text of the disclosure policy</summary><pre>${policy.text}</pre></details>
<p>Moderation policy <strong>${policy.moderation.name}</strong>, version <code class="version">${policy.moderation.version}</code>.</p>
${
  view.history.length === 0
    ? html`<p>No policy version has been recorded yet.</p>`
    : html`<div class="table-wrap"><table id="policy-history"><caption>Every policy version in force so far, newest first</caption>
<thead><tr><th scope="col">Policy</th><th scope="col">Name</th><th scope="col">Version</th><th scope="col">First in force</th><th scope="col">Last seen in force</th></tr></thead>
<tbody>${view.history.map(
        (h) =>
          html`<tr><td>${h.kind}</td><td>${h.name}</td><td><code class="version">${h.version}</code></td><td>${day(h.firstSeen)}</td><td>${day(h.lastSeen)}</td></tr>`,
      )}</tbody></table></div>`
}
</section>`;
}

function keysSection(keys: JWK[]): SafeHtml {
  return html`<section aria-labelledby="keys-title" id="keys">
<h2 id="keys-title">Signing keys</h2>
<p>Disclosure packages and audit-log checkpoints are signed with these keys, so an authority can check that a package comes from this platform and was not changed, and anyone can check a checkpoint. They are also published as <a href="/.well-known/custos-signing-keys.json">a JSON Web Key Set</a>.</p>
${
  keys.length === 0
    ? html`<p>No signing key has been published yet.</p>`
    : keys.map(
        (k) =>
          html`<div class="key"><table><caption>Key <code class="kid">${String(k.kid ?? '')}</code></caption><tbody>
<tr><th scope="row">Key id (kid)</th><td><code>${String(k.kid ?? '')}</code></td></tr>
<tr><th scope="row">Algorithm</th><td>${String(k.alg ?? '')}</td></tr>
<tr><th scope="row">Curve</th><td>${String(k.crv ?? '')}</td></tr>
<tr><th scope="row">Use</th><td>${String(k.use ?? '')}</td></tr>
</tbody></table><pre aria-label="The key as a JWK">${JSON.stringify(k, null, 2)}</pre></div>`,
      )
}
</section>`;
}

/** The whole page as HTML text. Pure: everything it shows is in `view`. */
export function renderTransparencyPage(view: TransparencyPageView): string {
  const figures = view.figures;
  const subject = figures
    ? `${figures.country ? countryName(figures.country) : 'All countries'}, ${figures.from} to ${figures.to}`
    : 'Choose a country and a period';
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Transparency report: ${subject} — Custos</title>
<link rel="stylesheet" href="/transparency/page.css">
<link rel="icon" href="/transparency/icon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip" href="#main">Skip to the figures</a>
<header>
<p class="site">Custos</p>
<h1>Transparency report</h1>
<p id="subject">${subject}</p>
</header>
<main id="main">
<p>How many orders for users’ data this platform received from authorities, how many it fulfilled or refused and why, under which policy, and the keys it signs disclosures with. Counts from 1 to ${figures ? figures.threshold - 1 : 'the threshold minus one'} are published as a range${figures ? ` (“1–${figures.threshold - 1}”)` : ''}, so that no figure points at a handful of people.</p>
${filtersForm(view)}
${view.problems ? problemsBox(view.problems) : null}
${figures ? [refusalsBox(view, figures), charts(view, figures), figuresTable(figures)] : null}
${downloads(figures)}
${policySection(view)}
${keysSection(view.keys)}
</main>
<footer><p>Served by Custos. The figures are computed from the legal event log and refreshed at most once a minute.</p></footer>
</body>
</html>
`;
  return page.value;
}

/** `GET /transparency` and the files it needs (style sheet, icon, the policy text). No login. */
export const transparencyPageRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    const cache = new Map<string, { at: number; figures: PublishedFigures }>();
    const figuresFor = async (range: { country?: string; from: number; to: number }) => {
      const key = `${range.country ?? '*'}|${range.from}|${range.to}`;
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < CACHE_MS) return hit.figures;
      const figures = publishFigures(
        await computeRequestFigures(ctx.store.reads, range),
        ctx.config.transparencyMinCount,
      );
      if (cache.size > 1000) cache.clear();
      cache.set(key, { at: Date.now(), figures });
      return figures;
    };
    const publicCache = (reply: FastifyReply, seconds: number) =>
      reply.header('cache-control', `public, max-age=${seconds}`);
    // Only this plugin's routes: the API's JSON keeps its own headers.
    app.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', PAGE_CSP);
    });
    const options = { config: { rateLimit: RATE_LIMIT }, schema: { hide: true } };

    app.get('/transparency', options, async (request, reply) => {
      const view = await loadPageView(ctx, request.query, figuresFor);
      reply.type('text/html; charset=utf-8');
      if (view.problems) return reply.code(422).send(renderTransparencyPage(view));
      publicCache(reply, CACHE_MS / 1000);
      return reply.send(renderTransparencyPage(view));
    });

    app.get('/transparency/policy.yaml', options, async (_request, reply) => {
      publicCache(reply, CACHE_MS / 1000);
      return reply.type('text/plain; charset=utf-8').send(policyText(ctx.disclosure.file));
    });

    app.get('/transparency/page.css', options, async (_request, reply) => {
      publicCache(reply, 300);
      return reply.type('text/css; charset=utf-8').send(PAGE_CSS);
    });

    app.get('/transparency/icon.svg', options, async (_request, reply) => {
      publicCache(reply, 3600);
      return reply.type('image/svg+xml').send(PAGE_ICON);
    });
  };
