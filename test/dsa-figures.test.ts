import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { fileAppeal, resolveAppeal } from '../src/appeals/service.js';
import type { Actor } from '../src/audit/actor.js';
import { type DecisionInput, decideCase } from '../src/decisions/service.js';
import type { Kysely } from 'kysely';
import { fillDsaOutcomes } from '../src/db/migrations/20261129T120000_dsa_outcomes.js';
import { reviewLegalRequest } from '../src/legal/review.js';
import { submitLegalRequest } from '../src/legal/service.js';
import { fileReport as fileReportAt } from '../src/reports/service.js';
import { scanStoredContent } from '../src/scanning/service.js';
import { CSV_COLUMNS, dsaFiguresCsv } from '../src/transparency/dsa-figures-csv.js';
import { type DsaFigures, FIRST_YEAR, computeDsaFigures } from '../src/transparency/dsa-figures.js';
import { FIGURES_RATE_LIMIT } from '../src/transparency/figures-routes.js';
import { type PublishedCount, sumOfPublished } from '../src/transparency/requests.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { addAuthority } from './helpers/identity.js';
import { buildOrder, seedViolator } from './helpers/legal.js';
import { buildContent, decideOk, fileReport, seedAccount, seedContent } from './helpers/notice-action.js';

const H = 3_600_000;
const DAY = 24 * H;
/** The year the world below is built in, with every time chosen: last year, so that it is over. */
const YEAR = new Date().getUTCFullYear() - 1;
const YEAR_START = Date.UTC(YEAR, 0, 1);
const YEAR_END = Date.UTC(YEAR + 1, 0, 1);
const T = Date.UTC(YEAR, 8, 1, 9);
/** When the content was posted: before everything else. */
const POSTED = new Date(YEAR_START - 31 * DAY).toISOString();
/** A year nothing happens in, until the cache test files a notice. */
const QUIET_YEAR = YEAR - 2;

const MOD_A: Actor = { id: 'tok_dsa_moderator_a', role: 'moderator' };
const MOD_B: Actor = { id: 'tok_dsa_moderator_b', role: 'moderator' };
const FLAGGER: Actor = { id: 'tok_dsa_flagger', role: 'trusted_flagger' };
const PLATFORM: Actor = { id: 'tok_dsa_platform', role: 'platform' };
const PUBLIC: Actor = { id: 'public', role: 'public' };
const LEGAL_A: Actor = { id: 'tok_dsa_legal_a', role: 'legal' };
const LEGAL_B: Actor = { id: 'tok_dsa_legal_b', role: 'legal' };

const SCAM = 'send 0.5 BTC and we will return 1 BTC';
const DRUGS = 'coke for sale, dm me';

/** Everything personal or internal the world holds: none of it may appear in the figures. */
interface Secrets {
  values: string[];
}

const removal = (category: string, ground: 'illegal' | 'terms'): DecisionInput => ({
  actions: [{ type: 'remove_content' }],
  category,
  ground,
  explanation: `Removed: ${category}.`,
});

/** Stores content by a fresh account (through the API, only queued for scanning) and returns both ids. */
async function content(h: Harness, secrets: Secrets, text = 'See you at the station at noon', isPublic = false) {
  const account = await seedAccount(h);
  secrets.values.push(account.id, account.phone as string, account.username as string);
  const item = buildContent(account.id, { text, public: isPublic, createdAt: POSTED });
  const res = await h.call('POST', '/v1/ingest/content?async=true', {
    token: h.tokens.platform,
    body: { items: [item] },
  });
  assert.equal(res.statusCode, 202, res.body);
  secrets.values.push(item.id);
  return { accountId: account.id, contentId: item.id };
}

async function report(
  h: Harness,
  actor: Actor,
  subject: { contentId: string } | { accountId: string },
  category: string,
  at: number,
  reporterAccountId?: string,
) {
  const address = `192.0.2.${1 + Math.floor(Math.random() * 250)}`;
  const input = { subject, category, ...(reporterAccountId ? { reporter: { accountId: reporterAccountId } } : {}) };
  return fileReportAt(h.ctx, actor, input as never, address, at);
}

async function openCaseOf(h: Harness, subjectId: string): Promise<string> {
  const row = await h.ctx.store.db
    .selectFrom('cases')
    .select('id')
    .where('subject_id', '=', subjectId)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * The known world of YEAR (times in the comments are offsets from T, 1 September 09:00 UTC):
 *
 * Notices (8 in the year): public spam at 0h, decided (removal) at 2h; public hate speech at
 * 1h, dismissed at 7h; trusted flagger illegal_drugs at 2h and a platform report (users) on
 * the same case at 2.5h, removed at 3h; trusted flagger scam_fraud on an account, pending;
 * public spam at the first instant of the year, removed 4h later; trusted flagger terrorism
 * an hour before the year ends, removed an hour into the next year; public spam at the last
 * millisecond, pending. A public report a millisecond before the year (removed in the year)
 * is not a notice of the year, nor is its decision an own-initiative action; one at the first
 * instant of the next year is the next year's.
 * Handling times: users 0.5, 2, 4, 6 h (median 3 h); trusted flaggers 1, 2 h (1.5 h); all 2 h.
 *
 * Own initiative: the scanner removes two scams (20h, 21h); a scan flags drugs and a
 * moderator removes it (23h), the third strike, which opens a strikes case; the moderator
 * suspends the account (24h). A flagged item dismissed by a moderator is no action.
 *
 * Appeals (5): on the spam removal (filed 5h, upheld after 24 h), the second automated
 * removal (filed 25h, overturned after 2 h), the drugs removal (filed 30h, overturned after
 * 10 h), the suspension (filed 40h, open), the moderator's removal of the flagged item
 * (filed an hour before the year ends, overturned 5 h into the next). Median 7.5 h; 3 of 4
 * decided overturned.
 *
 * Orders: DE production disclosed after 5 h; DE preservation preserved at receipt; FR
 * terrorism production disclosed after 12 h; FR political_speech rejected at receipt; DE
 * production received at the last millisecond, still in review; a US order disclosed after
 * 1 h (outside the scope); a DE order a millisecond before the year.
 */
async function buildWorld(h: Harness, secrets: Secrets) {
  // Notices.
  const c1 = await content(h, secrets);
  const n1 = await report(h, PUBLIC, { contentId: c1.contentId }, 'spam', T);
  const d1 = await decideCase(h.ctx, MOD_A, n1.caseId, removal('spam', 'terms'), { now: T + 2 * H });

  const c2 = await content(h, secrets);
  const n2 = await report(h, PUBLIC, { contentId: c2.contentId }, 'hate_speech', T + H);
  const dismiss = { actions: [{ type: 'dismiss' as const }], category: 'hate_speech', ground: 'terms' as const };
  await decideCase(h.ctx, MOD_A, n2.caseId, { ...dismiss, explanation: 'Not hate speech.' }, { now: T + 7 * H });

  const c3 = await content(h, secrets);
  const n3 = await report(h, FLAGGER, { contentId: c3.contentId }, 'illegal_drugs', T + 2 * H);
  const reporter = `reporter-${Date.now()}`;
  secrets.values.push(reporter);
  const n4 = await report(h, PLATFORM, { contentId: c3.contentId }, 'illegal_drugs', T + 2.5 * H, reporter);
  assert.equal(n4.caseId, n3.caseId, 'the second report joins the case');
  const d3 = await decideCase(h.ctx, MOD_A, n3.caseId, removal('illegal_drugs', 'illegal'), { now: T + 3 * H });

  const a5 = await seedAccount(h);
  secrets.values.push(a5.id, a5.phone as string);
  await report(h, FLAGGER, { accountId: a5.id }, 'scam_fraud', T + 10 * H);

  const c6 = await content(h, secrets);
  const n6 = await report(h, PUBLIC, { contentId: c6.contentId }, 'spam', YEAR_START);
  await decideCase(h.ctx, MOD_A, n6.caseId, removal('spam', 'terms'), { now: YEAR_START + 4 * H });

  const c7 = await content(h, secrets);
  const n7 = await report(h, PUBLIC, { contentId: c7.contentId }, 'spam', YEAR_START - 1);
  await decideCase(h.ctx, MOD_A, n7.caseId, removal('spam', 'terms'), { now: YEAR_START + H });

  const c8 = await content(h, secrets);
  const n8 = await report(h, FLAGGER, { contentId: c8.contentId }, 'terrorism', YEAR_END - H);
  await decideCase(h.ctx, MOD_A, n8.caseId, removal('terrorism', 'illegal'), { now: YEAR_END + H });

  const c9 = await content(h, secrets);
  await report(h, PUBLIC, { contentId: c9.contentId }, 'spam', YEAR_END - 1);
  const c10 = await content(h, secrets);
  await report(h, PUBLIC, { contentId: c10.contentId }, 'spam', YEAR_END);

  // Own initiative: one account, two automated removals, a flagged item removed by a moderator, a strike case.
  const author = await seedAccount(h);
  secrets.values.push(author.id, author.phone as string);
  const scams: string[] = [];
  for (const [i, at] of [T + 20 * H, T + 21 * H].entries()) {
    const item = buildContent(author.id, { text: SCAM, public: true, createdAt: POSTED });
    item.id = `${item.id}-${i}`;
    await h.call('POST', '/v1/ingest/content?async=true', { token: h.tokens.platform, body: { items: [item] } });
    secrets.values.push(item.id);
    const verdict = await scanStoredContent(h.ctx, item.id, at);
    assert.equal(verdict.action, 'remove', JSON.stringify(verdict));
    assert.equal(verdict.category, 'scam_fraud');
    scams.push(item.id);
  }
  const automated = await h.ctx.store.db
    .selectFrom('decisions')
    .select(['id', 'automation', 'created_at'])
    .where('subject_id', 'in', scams)
    .orderBy('created_at')
    .execute();
  assert.deepEqual(
    automated.map((d) => [d.automation, Number(d.created_at)]),
    [
      ['full', T + 20 * H],
      ['full', T + 21 * H],
    ],
  );
  const flagged = buildContent(author.id, { text: DRUGS, createdAt: POSTED });
  await h.call('POST', '/v1/ingest/content?async=true', { token: h.tokens.platform, body: { items: [flagged] } });
  secrets.values.push(flagged.id);
  assert.equal((await scanStoredContent(h.ctx, flagged.id, T + 22 * H)).action, 'review');
  const o3 = await decideCase(h.ctx, MOD_A, await openCaseOf(h, flagged.id), removal('illegal_drugs', 'illegal'), {
    now: T + 23 * H,
  });
  assert.equal(o3.automation, 'partial', 'a person decided what a scanner flagged');
  const suspension: DecisionInput = {
    actions: [{ type: 'suspend_account', until: new Date(T + 30 * DAY).toISOString() }],
    category: 'illegal_drugs',
    ground: 'terms',
    explanation: 'Three strikes.',
  };
  const o4 = await decideCase(h.ctx, MOD_A, await openCaseOf(h, author.id), suspension, { now: T + 24 * H });
  const dismissed = await content(h, secrets, DRUGS);
  assert.equal((await scanStoredContent(h.ctx, dismissed.contentId, T + 26 * H)).action, 'review');
  await decideCase(
    h.ctx,
    MOD_A,
    await openCaseOf(h, dismissed.contentId),
    { ...dismiss, category: 'illegal_drugs', explanation: 'A quote.' },
    { now: T + 27 * H },
  );

  // Appeals.
  const upheld = { outcome: 'upheld' as const, explanation: 'Right.' };
  const overturned = { outcome: 'overturned' as const, explanation: 'Wrong.' };
  const ap1 = await fileAppeal(h.ctx, PLATFORM, d1.id, 'It was not spam.', T + 5 * H);
  await resolveAppeal(h.ctx, MOD_B, ap1.id, upheld, T + 29 * H);
  const ap2 = await fileAppeal(h.ctx, PLATFORM, automated[1]!.id, 'A joke.', T + 25 * H);
  await resolveAppeal(h.ctx, MOD_B, ap2.id, overturned, T + 27 * H);
  const ap3 = await fileAppeal(h.ctx, PLATFORM, d3.id, 'Sugar.', T + 30 * H);
  await resolveAppeal(h.ctx, MOD_B, ap3.id, overturned, T + 40 * H);
  await fileAppeal(h.ctx, PLATFORM, o4.id, 'Too harsh.', T + 40 * H);
  const ap5 = await fileAppeal(h.ctx, PLATFORM, o3.id, 'Powdered sugar.', YEAR_END - H);
  await resolveAppeal(h.ctx, MOD_B, ap5.id, overturned, YEAR_END + 4 * H);

  // Orders.
  const de = await seedViolator(h);
  const fr = await seedViolator(h, { country: 'FR', category: 'terrorism' });
  const us = await seedViolator(h, { country: 'US' });
  for (const v of [de, fr, us]) secrets.values.push(v.accountId, v.phone, v.username, ...v.sessions.map((s) => s.ip));
  const frName = 'Parquet national antiterroriste';
  const usName = 'Springfield Police Department';
  secrets.values.push('Test Police', frName, usName);
  const authority = (id: string): Actor => ({ id: `tok_dsa_${id}`, role: 'authority', authorityId: id });
  const deAuthority = authority(h.tokens.authorityId);
  const frAuthority = authority(await addAuthority(h, { country: 'FR', name: frName }));
  const usAuthority = authority(await addAuthority(h, { country: 'US', kind: 'police', name: usName }));
  const order = async (
    actor: Actor,
    target: string,
    at: number,
    country: string,
    overrides: Parameters<typeof buildOrder>[1] = {},
  ) => {
    const body = buildOrder([{ accountId: target }], {
      issuingAuthority: { name: 'Issuing office', country },
      courtOrder: { reference: 'Ref 1/25', issuedBy: 'A court', issuedAt: new Date(at - 2 * DAY).toISOString() },
      period: { from: new Date(at - 30 * DAY).toISOString(), to: new Date(at - DAY).toISOString() },
      ...overrides,
    });
    secrets.values.push(body.caseReference);
    return submitLegalRequest(h.ctx, actor, body, at);
  };
  const approveTwice = async (id: string, first: number, second: number) => {
    await reviewLegalRequest(h.ctx, LEGAL_A, id, { decision: 'approve' }, first);
    await reviewLegalRequest(h.ctx, LEGAL_B, id, { decision: 'approve' }, second);
  };
  const l1 = await order(deAuthority, de.accountId, T, 'DE');
  await approveTwice(l1, T + H, T + 5 * H);
  const l2 = await order(deAuthority, de.accountId, T + 2 * H, 'DE', { type: 'preservation' });
  const terrorism = { category: 'terrorism', description: 'Propaganda', provisions: 'Art. 421-2-5 CP' };
  const l3 = await order(frAuthority, fr.accountId, T + 10 * H, 'FR', { offence: terrorism });
  await approveTwice(l3, T + 11 * H, T + 22 * H);
  const speech = { category: 'political_speech', description: 'A leaflet', provisions: 'Art. 1' };
  const l4 = await order(frAuthority, fr.accountId, T + 12 * H, 'FR', { offence: speech });
  const l5 = await order(deAuthority, de.accountId, YEAR_END - 1, 'DE');
  const l6 = await order(usAuthority, us.accountId, T + 3 * H, 'US');
  await approveTwice(l6, T + 3.5 * H, T + 4 * H);
  await order(deAuthority, de.accountId, YEAR_START - 1, 'DE');
  const statuses = await h.ctx.store.db
    .selectFrom('legal_requests')
    .select(['id', 'status'])
    .where('id', 'in', [l1, l2, l3, l4, l5, l6])
    .execute();
  assert.deepEqual(
    [l1, l2, l3, l4, l5, l6].map((id) => statuses.find((s) => s.id === id)?.status),
    ['disclosed', 'preserved', 'disclosed', 'rejected', 'in_review', 'disclosed'],
  );

  // This year, through the HTTP API only: a trusted flagger's report decided by a moderator, a public one pending.
  const now1 = await seedContent(h, { text: 'Meeting moved to 3pm' });
  const now2 = await seedContent(h, { text: 'Lunch on Friday?' });
  secrets.values.push(now1.account, now1.content.id, now2.account, now2.content.id);
  const flaggedNow = await fileReport(
    h,
    { subject: { contentId: now1.content.id }, category: 'spam' },
    { token: h.tokens.trusted_flagger },
  );
  assert.equal(flaggedNow.statusCode, 201, flaggedNow.body);
  await decideOk(h, flaggedNow.data.caseId, { category: 'spam', ground: 'terms' });
  const publicNow = await fileReport(h, { subject: { contentId: now2.content.id }, category: 'hate_speech' });
  assert.equal(publicNow.statusCode, 201, publicNow.body);
}

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** RFC 4180: quoted fields (with doubled quotes, commas and line breaks inside), CRLF between records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field, '', 'the last record ends with CRLF');
  assert.equal(record.length, 0);
  return records;
}

type CsvRow = Record<(typeof CSV_COLUMNS)[number], string>;

function csvRows(text: string): CsvRow[] {
  assert.ok(text.startsWith('\uFEFF'), 'a byte-order mark, for spreadsheets');
  const [header, ...records] = parseCsv(text.slice(1));
  assert.deepEqual(header, [...CSV_COLUMNS]);
  for (const r of records) assert.equal(r.length, CSV_COLUMNS.length, r.join(','));
  return records.map((r) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, r[i] as string])) as CsvRow);
}

/**
 * Every figure of the JSON as `section|metric|dimensions|value|unit`, walked here
 * independently of the CSV writer: sections and fields in snake_case, rows of a
 * breakdown by their dimension fields.
 */
function figuresAsFacts(f: DsaFigures): string[] {
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const dims = ['memberState', 'category', 'dsaCategory', 'source'];
  const unit = (k: string) => (/Seconds$/.test(k) ? 'seconds' : /^share/.test(k) ? 'ratio' : 'count');
  const fact = (section: string, metric: string, d: Record<string, unknown>, value: unknown) =>
    [
      snake(section),
      snake(metric),
      dims.map((k) => (d[k] === undefined || d[k] === null ? '' : String(d[k]))).join('/'),
      value === null ? '' : String(value),
      unit(metric),
    ].join('|');
  const out: string[] = [];
  const sections = [
    'ordersToAct',
    'ordersToProvideInformation',
    'notices',
    'ownInitiativeActions',
    'appeals',
    'automatedRemovals',
  ] as const;
  for (const s of sections) {
    for (const [k, v] of Object.entries(f[s])) {
      if (!Array.isArray(v)) {
        out.push(fact(s, k, {}, v));
        continue;
      }
      for (const row of v as Record<string, unknown>[]) {
        for (const [m, value] of Object.entries(row)) if (!dims.includes(m)) out.push(fact(s, m, row, value));
      }
    }
  }
  return out.sort();
}

function csvAsFacts(rows: CsvRow[]): string[] {
  return rows
    .filter((r) => r.section !== 'report')
    .map((r) =>
      [r.section, r.metric, [r.member_state, r.category, r.dsa_category, r.source].join('/'), r.value, r.unit].join(
        '|',
      ),
    )
    .sort();
}

function assertNoSecrets(text: string, secrets: Secrets, what: string) {
  assert.ok(secrets.values.length > 40, 'the world holds secrets to look for');
  for (const s of secrets.values) assert.ok(!text.includes(s), `${what} contains ${s}`);
  // Ids of any kind of record, whatever their value.
  assert.doesNotMatch(text, /\b(case|dec|rep|apl|lr|acc|auth|tok|msg)[_-][a-z0-9]/, what);
  assert.doesNotMatch(text, /\+\d{6,}/, `${what}: a phone number`);
  assert.doesNotMatch(text, /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/, `${what}: an IPv4 address`);
}

const byCategory = <T extends { category: string }>(rows: T[], category: string): T => {
  const row = rows.find((r) => r.category === category);
  assert.ok(row, `a row for ${category}`);
  return row;
};

describeEachStore(
  'DSA transparency figures',
  (get) => {
    const secrets: Secrets = { values: [] };
    let figures: DsaFigures;
    let csv: string;

    before(async () => {
      const h = get();
      await buildWorld(h, secrets);
      const res = await h.call('GET', `/v1/transparency/dsa?year=${YEAR}`);
      assert.equal(res.statusCode, 200, res.body);
      figures = res.data;
      const csvRes = await h.call('GET', `/v1/transparency/dsa?year=${YEAR}&format=csv`);
      assert.equal(csvRes.statusCode, 200, csvRes.body);
      csv = csvRes.body;
    });

    it('answers the public, typed and cached, JSON or CSV', async () => {
      const h = get();
      const res = await h.call('GET', `/v1/transparency/dsa?year=${YEAR}&format=json`);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.headers['cache-control'], 'public, max-age=60');
      const csvRes = await h.call('GET', `/v1/transparency/dsa?year=${YEAR}&format=csv`, { token: h.tokens.auditor });
      assert.equal(csvRes.statusCode, 200);
      assert.equal(csvRes.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(csvRes.headers['content-disposition'], `attachment; filename="custos-dsa-figures-${YEAR}.csv"`);
      assert.equal(csvRes.headers['cache-control'], 'public, max-age=60');
      // The answer is the service's object, whole (the response schema drops nothing).
      const direct = await computeDsaFigures(h.ctx, YEAR);
      assert.deepEqual({ ...res.data, generatedAt: null }, { ...direct, generatedAt: null });
      assert.equal(figures.year, YEAR);
      assert.equal(figures.from, `${YEAR}-01-01T00:00:00.000Z`);
      assert.equal(figures.to, `${YEAR + 1}-01-01T00:00:00.000Z`);
      assert.equal(figures.complete, true);
      assert.equal(figures.minimumPublishedCount, 1);
    });

    it('counts orders to act as 0 and says why', () => {
      assert.deepEqual(figures.ordersToAct, { received: 0 });
      const note = figures.notes.find((n) => n.about === 'ordersToAct.received');
      assert.match(note?.text ?? '', /no intake for orders to act/);
    });

    it('counts the orders to provide information per member state and offence category, with the medians', () => {
      const o = figures.ordersToProvideInformation;
      assert.equal(o.received, 5, 'L1–L5; not the US order, not the one a millisecond before the year');
      assert.equal(o.receivedFromOutsideScope, 1);
      assert.deepEqual(
        o.byMemberState.map((r) => r.memberState),
        [...figures.territorialScope],
        'every member state, with its zero',
      );
      assert.ok(o.byMemberState.length >= 30 && figures.territorialScope.includes('NO'), 'EU and EEA');
      assert.ok(!figures.territorialScope.includes('US'));
      assert.deepEqual(
        o.byMemberState.filter((r) => r.received !== 0),
        [
          { memberState: 'DE', received: 3 },
          { memberState: 'FR', received: 2 },
        ],
      );
      assert.deepEqual(byCategory(o.byCategory, 'illegal_drugs'), {
        category: 'illegal_drugs',
        dsaCategory: 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS',
        received: 3,
      });
      assert.equal(byCategory(o.byCategory, 'terrorism').received, 1);
      assert.deepEqual(byCategory(o.byCategory, 'political_speech'), {
        category: 'political_speech',
        dsaCategory: null,
        received: 1,
      });
      assert.equal(byCategory(o.byCategory, 'spam').received, 0);
      assert.deepEqual(o.byMemberStateAndCategory, [
        {
          memberState: 'DE',
          category: 'illegal_drugs',
          dsaCategory: 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS',
          received: 3,
        },
        {
          memberState: 'FR',
          category: 'terrorism',
          dsaCategory: 'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY',
          received: 1,
        },
        { memberState: 'FR', category: 'political_speech', dsaCategory: null, received: 1 },
      ]);
      assert.equal(o.medianTimeToAcknowledgeSeconds, 0, 'checked in the transaction that received it');
      assert.match(
        figures.notes.find((n) => n.about === 'ordersToProvideInformation.medianTimeToAcknowledgeSeconds')?.text ?? '',
        /same transaction|transaction that receives/,
      );
      // Disclosed after 5 h, preserved at once, disclosed after 12 h; the US order's 1 h is outside the scope.
      assert.equal(o.givenEffect, 3);
      assert.equal(o.medianTimeToGiveEffectSeconds, (5 * H) / 1000);
    });

    it('counts the notices by category and source, with the median handling time', () => {
      const n = figures.notices;
      assert.equal(n.received, 8);
      assert.equal(n.decided, 6);
      assert.equal(n.actionTaken, 5);
      assert.equal(n.actionTakenOnLegalGround, 3);
      assert.equal(n.actionTakenOnTermsGround, 2);
      assert.equal(n.noAction, 1);
      assert.equal(n.pending, 2);
      assert.equal(n.medianHandlingSeconds, median([0.5, 1, 2, 2, 4, 6].map((x) => x * 3600)));
      assert.equal(n.medianHandlingSeconds, 7200);
      assert.deepEqual(n.bySource, [
        { source: 'users', received: 5, decided: 4, actionTaken: 3, medianHandlingSeconds: 3 * 3600 },
        { source: 'trusted_flaggers', received: 3, decided: 2, actionTaken: 2, medianHandlingSeconds: 1.5 * 3600 },
      ]);
      assert.deepEqual(byCategory(n.byCategory, 'spam'), {
        category: 'spam',
        dsaCategory: 'STATEMENT_CATEGORY_OTHER_VIOLATION_TC',
        received: 3,
        fromTrustedFlaggers: 0,
        actionTaken: 2,
        noAction: 0,
        pending: 1,
      });
      const drugs = byCategory(n.byCategory, 'illegal_drugs');
      assert.deepEqual(
        [drugs.received, drugs.fromTrustedFlaggers, drugs.actionTaken, drugs.noAction, drugs.pending],
        [2, 1, 2, 0, 0],
      );
      const hate = byCategory(n.byCategory, 'hate_speech');
      assert.deepEqual([hate.received, hate.actionTaken, hate.noAction], [1, 0, 1]);
      const scam = byCategory(n.byCategory, 'scam_fraud');
      assert.deepEqual([scam.received, scam.fromTrustedFlaggers, scam.pending], [1, 1, 1]);
      const terror = byCategory(n.byCategory, 'terrorism');
      assert.deepEqual([terror.received, terror.fromTrustedFlaggers, terror.actionTaken], [1, 1, 1]);
      assert.equal(
        n.byCategory.reduce((s, r) => s + (r.received as number), 0),
        8,
      );
      assert.deepEqual(
        n.byCategory.map((r) => r.category).slice(0, 3),
        ['csam', 'terrorism', 'violent_threat'],
        'the taxonomy in its order, zeros included',
      );
    });

    it('counts own-initiative actions, automated and human, and no dismissal or notice-based decision', () => {
      const o = figures.ownInitiativeActions;
      assert.deepEqual([o.total, o.automated, o.human], [4, 2, 2]);
      assert.deepEqual(byCategory(o.byCategory, 'scam_fraud'), {
        category: 'scam_fraud',
        dsaCategory: 'STATEMENT_CATEGORY_SCAMS_AND_FRAUD',
        total: 2,
        automated: 2,
        human: 0,
      });
      const drugs = byCategory(o.byCategory, 'illegal_drugs');
      assert.deepEqual([drugs.total, drugs.automated, drugs.human], [2, 0, 2]);
      assert.equal(
        byCategory(o.byCategory, 'spam').total,
        0,
        'the removal of a notice from the year before is not own-initiative',
      );
    });

    it('counts the appeals filed in the year, the median time to decision and the share overturned', () => {
      const a = figures.appeals;
      assert.deepEqual([a.received, a.decided, a.upheld, a.overturned, a.pending], [5, 4, 1, 3, 1]);
      assert.equal(a.medianTimeToDecisionSeconds, median([24, 2, 10, 5].map((x) => x * 3600)));
      assert.equal(a.medianTimeToDecisionSeconds, 7.5 * 3600);
      assert.equal(a.shareOverturned, 0.75);
      const spam = byCategory(a.byCategory, 'spam');
      assert.deepEqual([spam.received, spam.upheld, spam.overturned, spam.pending], [1, 1, 0, 0]);
      const drugs = byCategory(a.byCategory, 'illegal_drugs');
      assert.deepEqual([drugs.received, drugs.upheld, drugs.overturned, drugs.pending], [3, 0, 2, 1]);
      assert.equal(byCategory(a.byCategory, 'scam_fraud').overturned, 1);
    });

    it('measures the automated removals overturned on appeal', () => {
      assert.deepEqual(figures.automatedRemovals, {
        total: 2,
        appealed: 1,
        overturned: 1,
        shareOverturned: 0.5,
        shareOfAppealedOverturned: 1,
      });
    });

    it('counts the notices and decisions recorded before their outcomes were written down alike (the migration fills them in)', async () => {
      const h = get();
      const db = h.ctx.store.db;
      const snapshot = async () => ({
        reports: await db.selectFrom('reports').select(['id', 'outcome', 'ground']).orderBy('id').execute(),
        cases: await db.selectFrom('cases').select(['id', 'opened_by']).orderBy('id').execute(),
        decisions: await db
          .selectFrom('decisions')
          .select(['id', 'opened_by', 'restricts', 'removes_content'])
          .orderBy('id')
          .execute(),
      });
      const written = await snapshot();
      const openers = new Set(written.cases.map((c) => c.opened_by));
      assert.deepEqual([...openers].sort(), ['report', 'scan', 'strikes'], 'cases opened in every way');
      assert.ok(
        written.reports.some((r) => r.ground === 'illegal') && written.reports.some((r) => r.ground === 'terms'),
      );
      assert.ok(
        written.decisions.some((d) => d.restricts === 0) && written.decisions.some((d) => d.removes_content === 1),
      );
      const before = await computeDsaFigures(h.ctx, YEAR);

      await db.updateTable('reports').set({ ground: null }).execute();
      await db.updateTable('cases').set({ opened_by: null }).execute();
      await db.updateTable('decisions').set({ opened_by: null, restricts: 0, removes_content: 0 }).execute();
      const wiped = await computeDsaFigures(h.ctx, YEAR);
      assert.equal(wiped.ownInitiativeActions.total, 0, 'without the columns nothing is own-initiative');
      assert.equal(wiped.automatedRemovals.total, 0);
      assert.equal(wiped.notices.actionTakenOnLegalGround, 0);

      await fillDsaOutcomes(db as unknown as Kysely<any>);
      assert.deepEqual(await snapshot(), written);
      assert.deepEqual(
        { ...(await computeDsaFigures(h.ctx, YEAR)), generatedAt: null },
        { ...before, generatedAt: null },
      );
    });

    it('writes the same figures as CSV, one figure per row, a spreadsheet can open', () => {
      const rows = csvRows(csv);
      assert.deepEqual(csvAsFacts(rows), figuresAsFacts(figures));
      for (const r of rows) assert.equal(r.year, String(YEAR));
      const row = (section: string, metric: string, d: Partial<CsvRow> = {}) => {
        const found = rows.filter(
          (r) =>
            r.section === section &&
            r.metric === metric &&
            (['member_state', 'category', 'dsa_category', 'source'] as const).every((k) => r[k] === (d[k] ?? '')),
        );
        assert.equal(found.length, 1, `${section} ${metric} ${JSON.stringify(d)}`);
        return found[0] as CsvRow;
      };
      assert.equal(row('report', 'complete').value, 'true');
      assert.equal(row('report', 'from').value, figures.from);
      assert.equal(row('orders_to_act', 'received').value, '0');
      assert.match(row('orders_to_act', 'received').note, /no intake for orders to act/);
      assert.equal(
        row('orders_to_provide_information', 'received', {
          member_state: 'DE',
          category: 'illegal_drugs',
          dsa_category: 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS',
        }).value,
        '3',
      );
      assert.equal(row('orders_to_provide_information', 'received', { member_state: 'AT' }).value, '0');
      const effect = row('orders_to_provide_information', 'median_time_to_give_effect_seconds');
      assert.deepEqual([effect.value, effect.unit], ['18000', 'seconds']);
      assert.equal(row('notices', 'received', { source: 'trusted_flaggers' }).value, '3');
      assert.equal(row('notices', 'median_handling_seconds', { source: 'trusted_flaggers' }).value, '5400');
      assert.equal(row('appeals', 'share_overturned').value, '0.75');
      assert.equal(row('appeals', 'share_overturned').unit, 'ratio');
      assert.equal(row('automated_removals', 'overturned').value, '1');
      // A note with commas survives the quoting.
      const ordersNote = row('orders_to_provide_information', 'received').note;
      assert.equal(ordersNote, figures.notes.find((n) => n.about === 'ordersToProvideInformation.received')?.text);
      assert.ok(ordersNote.includes(','));
      assert.equal(rows.length, 5 + figuresAsFacts(figures).length, 'five rows about the report, then one per figure');
    });

    it('reveals no account, phone number, address, case reference or authority name', async () => {
      const h = get();
      assertNoSecrets(JSON.stringify(figures), secrets, 'the JSON');
      assertNoSecrets(csv, secrets, 'the CSV');
      const current = new Date().getUTCFullYear();
      for (const format of ['json', 'csv']) {
        const res = await h.call('GET', `/v1/transparency/dsa?year=${current}&format=${format}`);
        assert.equal(res.statusCode, 200, res.body);
        assertNoSecrets(res.body, secrets, `${current} as ${format}`);
      }
    });

    it('gives the current year so far, from what the API stored', async () => {
      const h = get();
      const year = new Date().getUTCFullYear();
      const [from, to] = [Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1)];
      const res = await h.call('GET', `/v1/transparency/dsa?year=${year}`);
      assert.equal(res.statusCode, 200, res.body);
      const f: DsaFigures = res.data;
      assert.equal(f.complete, false);
      assert.ok(f.notes.some((n) => n.about === 'complete'));
      // Read back what the store holds for the year, and count it here.
      const stored = await h.ctx.store.db
        .selectFrom('reports as r')
        .innerJoin('cases as c', 'c.id', 'r.case_id')
        .leftJoin('decisions as d', 'd.id', 'c.decision_id')
        .select(['r.source', 'r.created_at', 'd.created_at as decided_at'])
        .where('r.created_at', '>=', from)
        .where('r.created_at', '<', to)
        .execute();
      // Three violators (a platform report each), a trusted flagger's report and a public one through the
      // API, and the public report at the first instant of the year.
      assert.equal(stored.length, 6);
      const flagger = stored.filter((r) => r.source === 'trusted_flagger');
      const users = stored.filter((r) => r.source !== 'trusted_flagger');
      const handling = (rows: typeof stored) =>
        rows.filter((r) => r.decided_at !== null).map((r) => Number(r.decided_at) - Number(r.created_at));
      assert.equal(f.notices.received, 6);
      assert.equal(f.notices.pending, 2);
      assert.deepEqual(
        f.notices.bySource.map((s) => [s.source, s.received, s.decided, s.medianHandlingSeconds]),
        [
          ['users', users.length, 3, (median(handling(users)) as number) / 1000],
          ['trusted_flaggers', flagger.length, 1, (median(handling(flagger)) as number) / 1000],
        ],
      );
      assert.equal(f.notices.medianHandlingSeconds, (median(handling(stored)) as number) / 1000);
      assert.equal(f.appeals.received, 0, 'the appeal decided this year was filed last year');
      assert.equal(f.ordersToProvideInformation.received, 0);
    });

    it('publishes small counts as a range below the minimum published count', async () => {
      const h = get();
      const f = await computeDsaFigures({ ...h.ctx, config: { ...h.ctx.config, transparencyMinCount: 10 } }, YEAR);
      assert.equal(f.minimumPublishedCount, 10);
      // 8 notices in 7 cells (category × source × outcome), each "1–9": the total is their sum.
      assert.equal(f.notices.received, '7–63');
      assert.equal(byCategory(f.notices.byCategory, 'illegal_drugs').fromTrustedFlaggers, '1–9');
      assert.equal(f.ordersToProvideInformation.byMemberState.find((r) => r.memberState === 'AT')?.received, 0);
      assert.equal(f.ordersToAct.received, 0);
      // Medians rest on the exact counts; a share of ranged counts would give them away.
      assert.equal(f.notices.medianHandlingSeconds, 7200);
      assert.equal(f.appeals.shareOverturned, null);
      assert.equal(f.automatedRemovals.shareOverturned, null);
      const note = f.notes.find((n) => n.about === 'minimumPublishedCount')?.text ?? '';
      assert.match(note, /"1–9"/);
      assert.match(note, /sum of its published parts/);
      // In the CSV too, with its quotes and dash intact.
      const rows = csvRows(dsaFiguresCsv(f));
      assert.equal(rows.find((r) => r.metric === 'minimum_published_count')?.note, note);
      assert.equal(rows.find((r) => r.section === 'notices' && r.metric === 'received' && !r.source)?.value, '7–63');
      const f3 = await computeDsaFigures({ ...h.ctx, config: { ...h.ctx.config, transparencyMinCount: 3 } }, YEAR);
      assert.equal(f3.ordersToProvideInformation.byMemberState.find((r) => r.memberState === 'FR')?.received, '2–4');
      assert.equal(f3.ordersToProvideInformation.byMemberState.find((r) => r.memberState === 'DE')?.received, 3);
      assert.equal(f3.ordersToProvideInformation.received, '5–7', 'DE 3 + FR (1–2) + (1–2): not the exact 5');
      // Overturned: 2 drugs + 1 scam; upheld: 1 spam; each cell below 3.
      assert.equal(f3.appeals.overturned, '2–4');
      assert.equal(f3.appeals.decided, '3–6');
      assert.equal(f3.appeals.shareOverturned, null, 'a share of ranged counts');
    });

    it('never lets a hidden count be recovered by subtracting one published figure from another', async () => {
      const h = get();
      // (A minimum of 2 would publish a 1 as "1–1": no range to hide in, so it is left out.)
      for (const min of [1, 3, 4, 5, 10]) {
        const f = await computeDsaFigures({ ...h.ctx, config: { ...h.ctx.config, transparencyMinCount: min } }, YEAR);
        const at = `minimum ${min}`;
        // Every total equals the sum of the published parts of each of its partitions, bound for bound:
        // a total is exact only when all of its parts are.
        const parts = (total: PublishedCount, partition: PublishedCount[], what: string) => {
          assert.deepEqual(total, sumOfPublished(partition), `${at}: ${what}`);
          if (typeof total === 'number')
            assert.ok(
              partition.every((p) => typeof p === 'number'),
              `${at}: ${what}`,
            );
        };
        const o = f.ordersToProvideInformation;
        parts(
          o.received,
          o.byMemberState.map((r) => r.received),
          'orders by member state',
        );
        parts(
          o.received,
          o.byCategory.map((r) => r.received),
          'orders by category',
        );
        parts(
          o.received,
          o.byMemberStateAndCategory.map((r) => r.received),
          'orders by member state and category',
        );
        for (const m of o.byMemberState) {
          const cells = o.byMemberStateAndCategory.filter((r) => r.memberState === m.memberState);
          parts(
            m.received,
            cells.map((r) => r.received),
            `orders of ${m.memberState}`,
          );
        }
        for (const c of o.byCategory) {
          const cells = o.byMemberStateAndCategory.filter((r) => r.category === c.category);
          parts(
            c.received,
            cells.map((r) => r.received),
            `orders of ${c.category}`,
          );
        }
        const n = f.notices;
        parts(n.received, [n.decided, n.pending], 'notices decided and pending');
        parts(n.received, [n.actionTaken, n.noAction, n.pending], 'notices by outcome');
        parts(n.decided, [n.actionTaken, n.noAction], 'notices decided');
        parts(n.actionTaken, [n.actionTakenOnLegalGround, n.actionTakenOnTermsGround], 'notices by ground');
        parts(
          n.received,
          n.bySource.map((r) => r.received),
          'notices by source',
        );
        parts(
          n.actionTaken,
          n.bySource.map((r) => r.actionTaken),
          'notices actioned by source',
        );
        parts(
          n.received,
          n.byCategory.map((r) => r.received),
          'notices by category',
        );
        parts(
          n.pending,
          n.byCategory.map((r) => r.pending),
          'notices pending by category',
        );
        for (const c of n.byCategory)
          parts(c.received, [c.actionTaken, c.noAction, c.pending], `notices of ${c.category}`);
        const trusted = n.bySource.find((r) => r.source === 'trusted_flaggers')!;
        parts(
          trusted.received,
          n.byCategory.map((r) => r.fromTrustedFlaggers),
          'trusted notices by category',
        );
        const own = f.ownInitiativeActions;
        parts(own.total, [own.automated, own.human], 'own-initiative actions');
        parts(
          own.total,
          own.byCategory.map((r) => r.total),
          'own-initiative actions by category',
        );
        parts(
          own.human,
          own.byCategory.map((r) => r.human),
          'human actions by category',
        );
        for (const c of own.byCategory) parts(c.total, [c.automated, c.human], `own-initiative ${c.category}`);
        const a = f.appeals;
        parts(a.received, [a.upheld, a.overturned, a.pending], 'appeals');
        parts(a.decided, [a.upheld, a.overturned], 'appeals decided');
        parts(
          a.received,
          a.byCategory.map((r) => r.received),
          'appeals by category',
        );
        parts(
          a.overturned,
          a.byCategory.map((r) => r.overturned),
          'appeals overturned by category',
        );
        const r = f.automatedRemovals;
        assert.equal(
          typeof r.appealed === 'number' && typeof r.total === 'number' ? r.total >= r.appealed : true,
          true,
        );
        // Shares only of exact counts.
        for (const [value, counts] of [
          [a.shareOverturned, [a.overturned, a.decided]],
          [r.shareOverturned, [r.overturned, r.total]],
          [r.shareOfAppealedOverturned, [r.overturned, r.appealed]],
        ] as const) {
          if (value !== null)
            assert.ok(
              counts.every((c) => typeof c === 'number'),
              `${at}: a share of ranged counts`,
            );
        }
        if (min === 1) {
          assert.equal(a.shareOverturned, 0.75);
          assert.equal(n.received, 8);
        }
      }
    });

    it('refuses a malformed, early or future year and a bad format with 422', async () => {
      const h = get();
      const next = new Date().getUTCFullYear() + 1;
      const cases: Array<[string, string]> = [
        ['', '/querystring/year'],
        ['year=abc', '/querystring/year'],
        ['year=20255', '/querystring/year'],
        ['year=-2025', '/querystring/year'],
        [`year=${FIRST_YEAR - 1}`, '/querystring/year'],
        [`year=${next}`, '/querystring/year'],
        [`year=${YEAR}&format=xml`, '/querystring/format'],
      ];
      for (const [query, path] of cases) {
        const res = await h.call('GET', `/v1/transparency/dsa?${query}`);
        assertErrorBody(res, 422, 'validation_failed');
        assert.ok(
          res.data.error.details.some((d: { path: string }) => d.path === path),
          `${query}: ${res.body}`,
        );
        assert.equal(res.headers['cache-control'], 'no-store', 'an error is not cached');
      }
      const unknown = await h.call('GET', `/v1/transparency/dsa?year=${YEAR}&accountId=x`);
      assertErrorBody(unknown, 400, 'unknown_field');
    });

    it('serves a year from its cache for a minute: a new notice shows in a fresh computation only', async () => {
      const h = get();
      const first = await h.call('GET', `/v1/transparency/dsa?year=${QUIET_YEAR}`);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.data.notices.received, 0);
      const c = await content(h, secrets);
      await report(h, PUBLIC, { contentId: c.contentId }, 'spam', Date.UTC(QUIET_YEAR, 5, 1));
      const again = await h.call('GET', `/v1/transparency/dsa?year=${QUIET_YEAR}`);
      assert.equal(again.data.notices.received, 0, 'cached');
      assert.equal(again.data.generatedAt, first.data.generatedAt);
      const quietRows = csvRows((await h.call('GET', `/v1/transparency/dsa?year=${QUIET_YEAR}&format=csv`)).body);
      assert.equal(quietRows.find((r) => r.metric === 'generated_at')?.value, first.data.generatedAt);
      assert.equal((await computeDsaFigures(h.ctx, QUIET_YEAR)).notices.received, 1);
    });

    it('limits each client address', async () => {
      const h = get();
      const ask = (remoteAddress: string) =>
        h.app.inject({ method: 'GET', url: `/v1/transparency/dsa?year=${YEAR - 1}`, remoteAddress });
      for (let i = 0; i < FIGURES_RATE_LIMIT.max; i++) {
        const res = await ask('198.51.100.7');
        assert.equal(res.statusCode, 200, `request ${i + 1}: ${res.body}`);
      }
      const limited = await ask('198.51.100.7');
      assert.equal(limited.statusCode, 429, limited.body);
      assert.equal(JSON.parse(limited.body).error.code, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal((await ask('198.51.100.8')).statusCode, 200, 'another address is not limited');
    });
  },
  { config: { transparencyMinCount: 1 } },
);
