import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Context } from '../src/context.js';
import { decideCase } from '../src/decisions/service.js';
import { validateStatement } from '../src/transparency/dsa-rules.js';
import { DSA_BATCH_LIMIT, submitDueStatements } from '../src/transparency/dsa-sender.js';
import { statementLines } from '../src/transparency/statements.js';
import { startWorkers } from '../src/workers/scheduler.js';
import { type FakeDsaDatabase, type Outcome, startFakeDsaDatabase } from './helpers/dsa-database.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import {
  buildContent,
  buildDecision,
  decideOk,
  fileReport,
  reportAs,
  reportedContent,
  seedAccount,
  seedContent,
} from './helpers/notice-action.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const at = (iso: string) => Date.parse(iso);

/** A statement the database accepts: each validator case below breaks exactly one rule of it. */
function validRecord(): Record<string, any> {
  return {
    decision_visibility: ['DECISION_VISIBILITY_CONTENT_REMOVED'],
    account_type: 'ACCOUNT_TYPE_PRIVATE',
    decision_ground: 'DECISION_GROUND_ILLEGAL_CONTENT',
    illegal_content_legal_ground: 'Section 29 Narcotics Act',
    illegal_content_explanation: 'The message offers controlled substances for sale.',
    category: 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS',
    content_type: ['CONTENT_TYPE_TEXT'],
    content_language: 'DE',
    content_date: '2026-11-01',
    application_date: '2026-11-02',
    decision_facts: 'The message offers controlled substances for sale.',
    source_type: 'SOURCE_ARTICLE_16',
    automated_detection: 'No',
    automated_decision: 'AUTOMATED_DECISION_NOT_AUTOMATED',
    territorial_scope: ['AT', 'DE'],
    puid: 'dec_abc-123_XYZ',
  };
}

const problemsOf = (record: unknown) => validateStatement(record).map((p) => `${p.path} ${p.code}`);

describe('the DSA Transparency Database rules (validateStatement)', () => {
  it('accepts a complete statement, and those at the length limits', () => {
    assert.deepEqual(problemsOf(validRecord()), []);
    const full = {
      ...validRecord(),
      decision_facts: 'f'.repeat(5000),
      illegal_content_explanation: 'e'.repeat(2000),
      illegal_content_legal_ground: 'g'.repeat(500),
      decision_visibility: ['DECISION_VISIBILITY_CONTENT_REMOVED', 'DECISION_VISIBILITY_OTHER'],
      decision_visibility_other: 'o'.repeat(500),
      decision_account: 'DECISION_ACCOUNT_SUSPENDED',
      decision_provision: 'DECISION_PROVISION_TOTAL_SUSPENSION',
      end_date_account_restriction: '2026-11-02',
      content_type: ['CONTENT_TYPE_TEXT', 'CONTENT_TYPE_OTHER'],
      content_type_other: 'Sticker',
      territorial_scope: ['GR', 'IS', 'LI', 'NO'],
      decision_ground_reference_url: 'https://example.org/terms#drugs',
      content_id: { 'EAN-13': '4006381333931' },
      puid: 'x'.repeat(500),
    };
    assert.deepEqual(problemsOf(full), []);
    const terms = {
      ...validRecord(),
      decision_ground: 'DECISION_GROUND_INCOMPATIBLE_CONTENT',
      illegal_content_legal_ground: undefined,
      illegal_content_explanation: undefined,
      incompatible_content_ground: 'Terms of service: spam',
      incompatible_content_explanation: 'Bulk unsolicited messages.',
      incompatible_content_illegal: 'No',
    };
    assert.deepEqual(problemsOf(terms), []);
    // Only a restriction of the account, none of the content.
    const account = {
      ...validRecord(),
      decision_visibility: undefined,
      decision_account: 'DECISION_ACCOUNT_TERMINATED',
    };
    assert.deepEqual(problemsOf(account), []);
  });

  const required = [
    'decision_ground',
    'category',
    'content_type',
    'decision_facts',
    'content_date',
    'application_date',
    'source_type',
    'automated_detection',
    'automated_decision',
    'territorial_scope',
    'puid',
  ];
  for (const field of required) {
    it(`requires ${field}`, () => {
      const r = validRecord();
      delete r[field];
      assert.deepEqual(problemsOf(r), [`/${field} missing_field`]);
      assert.deepEqual(problemsOf({ ...validRecord(), [field]: null }), [`/${field} missing_field`]);
    });
  }

  const cases: Array<[string, (r: Record<string, any>) => void, string[]]> = [
    ['no restriction of any kind', (r) => delete r.decision_visibility, ['/decision_visibility missing_decision']],
    [
      'an unknown visibility',
      (r) => (r.decision_visibility = ['DECISION_VISIBILITY_HIDDEN']),
      ['/decision_visibility/0 not_allowed'],
    ],
    [
      'a visibility that is not a list',
      (r) => (r.decision_visibility = 'DECISION_VISIBILITY_CONTENT_REMOVED'),
      ['/decision_visibility wrong_type'],
    ],
    [
      'a visibility listed twice',
      (r) => r.decision_visibility.push('DECISION_VISIBILITY_CONTENT_REMOVED'),
      ['/decision_visibility/1 duplicate_value'],
    ],
    [
      'DECISION_VISIBILITY_OTHER without its text',
      (r) => r.decision_visibility.push('DECISION_VISIBILITY_OTHER'),
      ['/decision_visibility_other missing_field'],
    ],
    [
      'decision_visibility_other over 500',
      (r) => {
        r.decision_visibility.push('DECISION_VISIBILITY_OTHER');
        r.decision_visibility_other = 'o'.repeat(501);
      },
      ['/decision_visibility_other too_long'],
    ],
    [
      'an unknown monetary decision',
      (r) => (r.decision_monetary = 'DECISION_MONETARY_FINE'),
      ['/decision_monetary not_allowed'],
    ],
    [
      'DECISION_MONETARY_OTHER without its text',
      (r) => (r.decision_monetary = 'DECISION_MONETARY_OTHER'),
      ['/decision_monetary_other missing_field'],
    ],
    [
      'an unknown provision decision',
      (r) => (r.decision_provision = 'DECISION_PROVISION_SOME'),
      ['/decision_provision not_allowed'],
    ],
    [
      'an unknown account decision',
      (r) => (r.decision_account = 'DECISION_ACCOUNT_BANNED'),
      ['/decision_account not_allowed'],
    ],
    ['an unknown account type', (r) => (r.account_type = 'ACCOUNT_TYPE_PERSONAL'), ['/account_type not_allowed']],
    ['an unknown ground', (r) => (r.decision_ground = 'DECISION_GROUND_OTHER'), ['/decision_ground not_allowed']],
    [
      'the illegal ground without its legal ground',
      (r) => delete r.illegal_content_legal_ground,
      ['/illegal_content_legal_ground missing_field'],
    ],
    [
      'the illegal ground without its explanation',
      (r) => delete r.illegal_content_explanation,
      ['/illegal_content_explanation missing_field'],
    ],
    [
      'the illegal ground with a blank explanation',
      (r) => (r.illegal_content_explanation = '  '),
      ['/illegal_content_explanation missing_field'],
    ],
    [
      'illegal_content_legal_ground over 500',
      (r) => (r.illegal_content_legal_ground = 'g'.repeat(501)),
      ['/illegal_content_legal_ground too_long'],
    ],
    [
      'illegal_content_explanation over 2000',
      (r) => (r.illegal_content_explanation = 'e'.repeat(2001)),
      ['/illegal_content_explanation too_long'],
    ],
    [
      'the incompatible ground without its ground and explanation',
      (r) => (r.decision_ground = 'DECISION_GROUND_INCOMPATIBLE_CONTENT'),
      ['/incompatible_content_ground missing_field', '/incompatible_content_explanation missing_field'],
    ],
    [
      'incompatible_content_explanation over 2000',
      (r) =>
        Object.assign(r, {
          decision_ground: 'DECISION_GROUND_INCOMPATIBLE_CONTENT',
          incompatible_content_ground: 'Terms',
          incompatible_content_explanation: 'e'.repeat(2001),
        }),
      ['/incompatible_content_explanation too_long'],
    ],
    [
      'incompatible_content_illegal not Yes or No',
      (r) => (r.incompatible_content_illegal = 'yes'),
      ['/incompatible_content_illegal not_allowed'],
    ],
    ['a category outside the 2025 list', (r) => (r.category = 'STATEMENT_CATEGORY_PIRACY'), ['/category not_allowed']],
    ['an empty content type', (r) => (r.content_type = []), ['/content_type missing_field']],
    ['an unknown content type', (r) => (r.content_type = ['CONTENT_TYPE_STICKER']), ['/content_type/0 not_allowed']],
    [
      'CONTENT_TYPE_OTHER without its text',
      (r) => (r.content_type = ['CONTENT_TYPE_OTHER']),
      ['/content_type_other missing_field'],
    ],
    ['an unknown source', (r) => (r.source_type = 'SOURCE_POLICE'), ['/source_type not_allowed']],
    ['automated_detection in lower case', (r) => (r.automated_detection = 'no'), ['/automated_detection not_allowed']],
    [
      'automated_decision as Yes (the old schema)',
      (r) => (r.automated_decision = 'Yes'),
      ['/automated_decision not_allowed'],
    ],
    ['a territory outside the EEA', (r) => (r.territorial_scope = ['DE', 'CH']), ['/territorial_scope/1 not_allowed']],
    [
      'Greece as EL (the database says GR)',
      (r) => (r.territorial_scope = ['EL']),
      ['/territorial_scope/0 not_allowed'],
    ],
    ['a territory listed twice', (r) => (r.territorial_scope = ['DE', 'DE']), ['/territorial_scope/1 duplicate_value']],
    ['an empty territorial scope', (r) => (r.territorial_scope = []), ['/territorial_scope missing_field']],
    ['a language in lower case', (r) => (r.content_language = 'de'), ['/content_language not_allowed']],
    ['a language that is no ISO 639-1 code', (r) => (r.content_language = 'XX'), ['/content_language not_allowed']],
    ['a three-letter language', (r) => (r.content_language = 'DEU'), ['/content_language not_allowed']],
    ['a puid with a space', (r) => (r.puid = 'dec 1'), ['/puid invalid_format']],
    ['a puid with a dot or slash', (r) => (r.puid = '123.STATE/sor'), ['/puid invalid_format']],
    ['a puid over 500', (r) => (r.puid = 'p'.repeat(501)), ['/puid invalid_format']],
    ['a date without leading zeroes', (r) => (r.application_date = '2026-11-2'), ['/application_date invalid_format']],
    ['a day that does not exist', (r) => (r.content_date = '2026-02-30'), ['/content_date invalid_format']],
    ['a date and time', (r) => (r.application_date = '2026-11-02T10:00:00Z'), ['/application_date invalid_format']],
    ['content_date before 2000', (r) => (r.content_date = '1999-12-31'), ['/content_date too_early']],
    ['application_date before 2020', (r) => (r.application_date = '2019-12-31'), ['/application_date too_early']],
    [
      'an end date before the application date',
      (r) =>
        Object.assign(r, {
          decision_account: 'DECISION_ACCOUNT_SUSPENDED',
          end_date_account_restriction: '2026-11-01',
        }),
      ['/end_date_account_restriction before_application_date'],
    ],
    ['decision_facts over 5000', (r) => (r.decision_facts = 'f'.repeat(5001)), ['/decision_facts too_long']],
    ['decision_facts not text', (r) => (r.decision_facts = 42), ['/decision_facts wrong_type']],
    [
      'a reference that is no http URL',
      (r) => (r.decision_ground_reference_url = 'ftp://example.org/terms'),
      ['/decision_ground_reference_url invalid_format'],
    ],
    [
      'a content id other than EAN-13',
      (r) => (r.content_id = { ISBN: '9783161484100' }),
      ['/content_id/ISBN not_allowed'],
    ],
    ['a field the database does not know', (r) => (r.reporter_name = 'Jane'), ['/reporter_name unknown_field']],
    [
      'a phone number in the facts',
      (r) => (r.decision_facts = 'Call +49 30 1234567 for the goods.'),
      ['/decision_facts personal_data_phone'],
    ],
    [
      'an anonymous +888 number',
      (r) => (r.decision_facts = 'Contact +888 0123 4567.'),
      ['/decision_facts personal_data_phone'],
    ],
    [
      'a phone number written with brackets',
      (r) => (r.illegal_content_explanation = 'Ring +1 (555) 010-0000 now'),
      ['/illegal_content_explanation personal_data_phone'],
    ],
    [
      'an e-mail address in the facts',
      (r) => (r.decision_facts = 'Orders to john.doe+shop@mail.example.org please'),
      ['/decision_facts personal_data_email'],
    ],
    [
      'an IPv4 address in the legal ground',
      (r) => (r.illegal_content_legal_ground = 'Logged from 192.0.2.44.'),
      ['/illegal_content_legal_ground personal_data_ip'],
    ],
    [
      'an IPv6 address in the facts',
      (r) => (r.decision_facts = 'Posted from 2001:db8::7 twice'),
      ['/decision_facts personal_data_ip'],
    ],
    [
      'a full IPv6 address',
      (r) => (r.decision_facts = 'host 2001:0db8:85a3:0000:0000:8a2e:0370:7334'),
      ['/decision_facts personal_data_ip'],
    ],
    [
      'personal data inside a list',
      (r) =>
        Object.assign(r, { content_type: ['CONTENT_TYPE_OTHER'], content_type_other: 'Profile of +44 20 7946 0958' }),
      ['/content_type_other personal_data_phone'],
    ],
  ];
  for (const [name, breakIt, expected] of cases) {
    it(`refuses ${name}`, () => {
      const r = validRecord();
      breakIt(r);
      assert.deepEqual(problemsOf(r), expected);
    });
  }

  it('refuses what is not an object', () => {
    assert.deepEqual(problemsOf(null), ['/ wrong_type']);
    assert.deepEqual(problemsOf([validRecord()]), ['/ wrong_type']);
  });

  it('does not take times, versions, scores or ids for personal data', () => {
    const facts =
      'Removed automatically at 12:30:05 by classifier 1.2.3.4.5 with score 0.970 (policy sha256:ab12cd, ' +
      'versions {"rules":"2026-11-28","classifier":"text-linear-v1"}); reported 3 times; +1 point; ' +
      'order 2026-11-28; ratio 10.0.1; case dec_ab12 at 127 km.';
    assert.deepEqual(problemsOf({ ...validRecord(), decision_facts: facts }), []);
  });

  it('never quotes the offending value in a problem', () => {
    const r = { ...validRecord(), decision_facts: 'Mail dealer@example.org or call +49 30 1234567 from 192.0.2.44' };
    const problems = validateStatement(r);
    assert.equal(problems.length, 3);
    const text = JSON.stringify(problems);
    for (const secret of ['dealer@example.org', '1234567', '192.0.2.44']) assert.ok(!text.includes(secret), text);
  });
});

/** GET the export; returns the answer and its lines parsed. */
async function exportRange(h: Harness, from: string, to: string, token = h.tokens.auditor) {
  const res = await h.call('GET', `/v1/transparency/statements?from=${from}&to=${to}`, { token });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
  assert.ok(res.body === '' || res.body.endsWith('\n'), 'every line ends with a newline');
  const lines = res.body.split('\n').filter((l) => l !== '');
  return { res, statements: lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

/** The restricting decisions (those with a statement) decided in [from, to), oldest first, straight from the store. */
async function restrictingDecisions(h: Harness, from: number, to: number): Promise<string[]> {
  const rows = await h.ctx.store.db
    .selectFrom('decisions')
    .select('id')
    .where('statement', 'is not', null)
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** A case on a fresh piece of content written at `contentAt`, decided by a moderator at `decidedAt` (service call). */
async function decidedAtTime(
  h: Harness,
  decidedAt: number,
  overrides: Parameters<typeof buildDecision>[0] = {},
  contentAt = decidedAt - DAY,
): Promise<string> {
  const { caseId } = await reportedContent(h, { content: { createdAt: new Date(contentAt).toISOString() } });
  const actor = { id: 'moderator-test', role: 'moderator' as const };
  const decision = await decideCase(h.ctx, actor, caseId, buildDecision(overrides), { now: decidedAt });
  return decision.id;
}

/** Puts an e-mail address into a stored statement's facts, as a statement stored before the scrub could hold. */
async function leakAddress(h: Harness, decisionId: string): Promise<void> {
  const row = await h.ctx.store.db
    .selectFrom('decisions')
    .select('statement')
    .where('id', '=', decisionId)
    .executeTakeFirstOrThrow();
  const statement = JSON.parse(row.statement as string);
  statement.decision_facts = 'The seller asks buyers to write to dealer@example.org for prices.';
  await h.ctx.store.db
    .updateTable('decisions')
    .set({ statement: JSON.stringify(statement) })
    .where('id', '=', decisionId)
    .execute();
}

describeEachStore('DSA statements of reasons export', (get) => {
  const made: Record<string, string> = {};
  let dismissed: string;

  before(async () => {
    const h = get();
    const removal = await reportedContent(h);
    made.removal = (await decideOk(h, removal.caseId)).id;
    const labelled = await reportedContent(h, { category: 'hate_speech' });
    made.labelled = (
      await decideOk(h, labelled.caseId, {
        actions: [{ type: 'restrict_content' }],
        category: 'hate_speech',
        ground: 'terms',
        explanation: 'Insults aimed at a group of people.',
      })
    ).id;
    const warned = await seedAccount(h);
    const warnCase = await reportAs(h, { accountId: warned.id }, 'spam');
    made.warning = (
      await decideOk(h, warnCase.caseId, {
        actions: [{ type: 'warn' }],
        category: 'spam',
        ground: 'terms',
        explanation: 'Sends the same advert to many chats.',
      })
    ).id;
    const suspended = await seedAccount(h);
    const suspendCase = await reportAs(h, { accountId: suspended.id }, 'scam_fraud');
    made.suspension = (
      await decideOk(h, suspendCase.caseId, {
        actions: [{ type: 'suspend_account', until: new Date(Date.now() + 30 * DAY).toISOString() }],
        category: 'scam_fraud',
        ground: 'terms',
        explanation: 'Runs a fake giveaway to collect payments.',
      })
    ).id;
    const banned = await seedAccount(h);
    const banCase = await reportAs(h, { accountId: banned.id }, 'terrorism');
    made.ban = (
      await decideOk(h, banCase.caseId, {
        actions: [{ type: 'ban_account' }],
        category: 'terrorism',
        ground: 'illegal',
        legalGround: 'Article 3 of Directive (EU) 2017/541',
        explanation: 'Recruits for a proscribed organisation.',
      })
    ).id;
    const flagged = await seedContent(h);
    const flaggerReport = await fileReport(
      h,
      { subject: { contentId: flagged.content.id }, category: 'illegal_drugs' },
      { token: h.tokens.trusted_flagger },
    );
    assert.equal(flaggerReport.statusCode, 201, flaggerReport.body);
    made.flagged = (await decideOk(h, flaggerReport.data.caseId)).id;
    const harmless = await reportedContent(h);
    dismissed = (
      await decideOk(h, harmless.caseId, {
        actions: [{ type: 'dismiss' }],
        explanation: 'Nothing against the rules here.',
      })
    ).id;
    // A scam the default scanner removes on its own: a fully automated decision.
    const scam = await seedContent(h, { text: 'send 0.5 BTC and we will return 1 BTC', public: true });
    const automated = await h.ctx.store.db
      .selectFrom('decisions')
      .select('id')
      .where('subject_id', '=', scam.content.id)
      .executeTakeFirst();
    assert.ok(automated, 'the scanner removed the scam');
    made.automated = automated.id;
  });

  it('answers one valid statement per line for every restricting decision of the range, oldest first', async () => {
    const h = get();
    const today = day(Date.now());
    const start = at(`${today}T00:00:00Z`);
    const { statements } = await exportRange(h, today, today);
    const expected = await restrictingDecisions(h, start, start + DAY);
    assert.ok(expected.length >= 7, `decisions were made: ${expected.length}`);
    assert.equal(statements.length, expected.length, 'one line per restricting decision');
    assert.deepEqual(
      statements.map((s) => s.puid),
      expected,
      'in decided order',
    );
    for (const s of statements) assert.deepEqual(validateStatement(s), [], JSON.stringify(s));
    assert.ok(!statements.some((s) => s.puid === dismissed), 'a dismissal restricts nothing and has no statement');
    for (const id of Object.values(made)) assert.ok(expected.includes(id), `${id} is in the range`);

    const byPuid = new Map(statements.map((s) => [s.puid, s]));
    // The stored statement, unchanged.
    const stored = await h.call('GET', `/v1/decisions/${made.removal}/statement`, { token: h.tokens.auditor });
    assert.deepEqual(byPuid.get(made.removal), stored.data.statement);
    assert.deepEqual(byPuid.get(made.labelled)?.decision_visibility, ['DECISION_VISIBILITY_CONTENT_LABELLED']);
    assert.equal(byPuid.get(made.warning)?.decision_visibility_other, 'Formal warning to the account');
    assert.equal(byPuid.get(made.suspension)?.decision_account, 'DECISION_ACCOUNT_SUSPENDED');
    assert.match(byPuid.get(made.suspension)?.end_date_account_restriction, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(byPuid.get(made.ban)?.decision_account, 'DECISION_ACCOUNT_TERMINATED');
    assert.equal(byPuid.get(made.ban)?.illegal_content_legal_ground, 'Article 3 of Directive (EU) 2017/541');
    assert.equal(byPuid.get(made.flagged)?.source_type, 'SOURCE_TRUSTED_FLAGGER');
    assert.equal(byPuid.get(made.automated)?.automated_decision, 'AUTOMATED_DECISION_FULLY');
    assert.equal(byPuid.get(made.automated)?.automated_detection, 'Yes');
    assert.equal(byPuid.get(made.automated)?.source_type, 'SOURCE_VOLUNTARY');

    // The admin may read it too; a range with nothing in it is an empty answer.
    assert.equal((await exportRange(h, today, today, h.tokens.admin)).statements.length, expected.length);
    assert.equal((await exportRange(h, '2021-01-01', '2021-12-31')).res.body, '');
  });

  it('covers whole UTC days, both ends included', async () => {
    const h = get();
    const first = await decidedAtTime(h, at('2025-03-10T00:00:00.000Z'));
    const middle = await decidedAtTime(h, at('2025-03-20T12:00:00.000Z'));
    const last = await decidedAtTime(h, at('2025-03-31T23:59:59.999Z'));
    const before = await decidedAtTime(h, at('2025-03-09T23:59:59.999Z'));
    const afterwards = await decidedAtTime(h, at('2025-04-01T00:00:00.000Z'));
    const march = await exportRange(h, '2025-03-10', '2025-03-31');
    assert.deepEqual(
      march.statements.map((s) => s.puid),
      [first, middle, last],
    );
    assert.deepEqual(await restrictingDecisions(h, at('2025-03-10T00:00:00Z'), at('2025-04-01T00:00:00Z')), [
      first,
      middle,
      last,
    ]);
    assert.equal(march.statements[2]?.application_date, '2025-03-31');
    assert.deepEqual(
      (await exportRange(h, '2025-04-01', '2025-04-01')).statements.map((s) => s.puid),
      [afterwards],
    );
    assert.deepEqual(
      (await exportRange(h, '2025-03-09', '2025-03-09')).statements.map((s) => s.puid),
      [before],
    );
  });

  it('reads page after page without losing or repeating decisions made in the same millisecond', async () => {
    const h = get();
    const same = at('2025-05-05T08:00:00.000Z');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await decidedAtTime(h, same));
    ids.push(await decidedAtTime(h, same + 1));
    const range = { from: at('2025-05-05T00:00:00Z'), to: at('2025-05-06T00:00:00Z') };
    const paged: string[] = [];
    for await (const chunk of statementLines(h.ctx.store.db, range, () => assert.fail('all are valid'), 2)) {
      for (const line of chunk.split('\n').filter(Boolean)) paged.push(JSON.parse(line).puid);
    }
    assert.equal(paged.length, 6);
    assert.deepEqual(paged, await restrictingDecisions(h, range.from, range.to));
    assert.deepEqual(new Set(paged), new Set(ids));
    const whole = await exportRange(h, '2025-05-05', '2025-05-05');
    assert.deepEqual(
      whole.statements.map((s) => s.puid),
      paged,
    );
  });

  it('leaves out, and logs, a stored statement that breaks the rules', async () => {
    const h = get();
    const when = at('2025-06-01T10:00:00Z');
    const good = await decidedAtTime(h, when);
    // buildStatement writes out addresses a moderator quoted; a statement stored with one anyway
    // (an older build, a bug) must still not be published.
    const leaky = await decidedAtTime(h, when + 1);
    await leakAddress(h, leaky);
    const broken = await decidedAtTime(h, when + 2);
    const row = await h.ctx.store.db
      .selectFrom('decisions')
      .select('statement')
      .where('id', '=', broken)
      .executeTakeFirstOrThrow();
    const { category: _dropped, ...withoutCategory } = JSON.parse(row.statement as string);
    await h.ctx.store.db
      .updateTable('decisions')
      .set({ statement: JSON.stringify(withoutCategory) })
      .where('id', '=', broken)
      .execute();

    const logsBefore = h.logs().length;
    const { statements } = await exportRange(h, '2025-06-01', '2025-06-01');
    const stored = await restrictingDecisions(h, at('2025-06-01T00:00:00Z'), at('2025-06-02T00:00:00Z'));
    assert.deepEqual(stored, [good, leaky, broken], 'all three have a stored statement');
    assert.deepEqual(
      statements.map((s) => s.puid),
      [good],
    );
    const logged = h.logs().slice(logsBefore);
    assert.match(logged, new RegExp(`"decisionId":"${leaky}"[^\\n]*personal_data_email`));
    assert.match(logged, new RegExp(`"decisionId":"${broken}"[^\\n]*/category missing_field`));
    assert.ok(!logged.includes('dealer@example.org'), 'the log names the rule, not the address');
  });

  it('answers 422 for bad dates, a range ending before it starts, or longer than five years', async () => {
    const h = get();
    const call = (query: string) => h.call('GET', `/v1/transparency/statements?${query}`, { token: h.tokens.auditor });
    const invalid = async (query: string, path: string, code: string) => {
      const res = await call(query);
      const error = assertErrorBody(res, 422, 'validation_failed');
      const details = error.details as Array<{ path: string; code: string }>;
      assert.ok(
        details.some((d) => d.path === path && d.code === code),
        `${query}: ${JSON.stringify(details)}`,
      );
    };
    await invalid('from=2026-02-30&to=2026-03-01', '/querystring/from', 'invalid_format');
    await invalid('from=2026-02-01&to=yesterday', '/querystring/to', 'invalid_format');
    await invalid('from=2026-1-5&to=2026-02-01', '/querystring/from', 'invalid_format');
    await invalid('from=2026-01-05T00:00:00Z&to=2026-02-01', '/querystring/from', 'invalid_format');
    await invalid('to=2026-02-01', '/querystring/from', 'missing_field');
    await invalid('from=2026-03-01&to=2026-02-28', '/querystring/to', 'before_from');
    await invalid('from=2020-01-01&to=2025-01-01', '/querystring/to', 'range_too_long');
    await invalid('from=2020-02-29&to=2025-03-01', '/querystring/to', 'range_too_long');
    // Five years to the day, less one: allowed.
    assert.equal((await call('from=2020-01-01&to=2024-12-31')).statusCode, 200);
    assert.equal((await call('from=2026-03-01&to=2026-03-01')).statusCode, 200);
    assertErrorBody(await call('from=2026-03-01&to=2026-03-02&limit=5'), 400, 'unknown_field');
    assertErrorBody(
      await h.call('GET', '/v1/transparency/statements?from=2026-03-01&to=2026-03-02', { token: h.tokens.moderator }),
      403,
      'forbidden',
    );
  });
});

describeEachStore('DSA statements of reasons submission', (get) => {
  let tdb: FakeDsaDatabase;
  /** The harness context, pointed at the fake database. */
  let ctx: Context;
  const REFUSED_MARK = '[rule-only-the-database-knows]';

  before(async () => {
    tdb = await startFakeDsaDatabase({
      refuses: (s) => (String(s?.decision_facts ?? '').includes(REFUSED_MARK) ? 'decision_facts' : null),
    });
    const h = get();
    ctx = {
      ...h.ctx,
      config: { ...h.ctx.config, dsaEndpoint: tdb.url, dsaToken: tdb.token, dsaSubmitIntervalMs: 1000 },
    };
  });
  after(async () => {
    await tdb?.close();
  });

  /** `n` pieces of content by one account, each reported and removed by a moderator, through the API. */
  async function removals(h: Harness, n: number, explanation?: string): Promise<string[]> {
    const account = await seedAccount(h);
    const items = Array.from({ length: n }, () => buildContent(account.id, { text: 'Meet me at the station at noon' }));
    const ingest = await h.call('POST', '/v1/ingest/content', { token: h.tokens.platform, body: { items } });
    assert.equal(ingest.statusCode, 200, ingest.body);
    const ids: string[] = [];
    for (const item of items) {
      const report = await reportAs(h, { contentId: item.id });
      ids.push((await decideOk(h, report.caseId, explanation ? { explanation } : {})).id);
    }
    return ids;
  }

  async function statuses(h: Harness, ids: string[]) {
    const rows = await h.ctx.store.db
      .selectFrom('dsa_submissions')
      .selectAll()
      .where('decision_id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.decision_id, r]));
  }

  async function pendingCount(h: Harness): Promise<number> {
    const row = await h.ctx.store.db
      .selectFrom('dsa_submissions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Runs the sender until nothing is pending, moving the clock past every backoff when nothing is due. */
  async function drain(h: Harness, start: number, options: { batch?: number } = {}) {
    let now = start;
    const rounds = [];
    for (let i = 0; i < 60; i++) {
      const round = await submitDueStatements(ctx, { now, ...options });
      rounds.push(round);
      if (round.taken > 0) continue;
      if ((await pendingCount(h)) === 0) return rounds;
      now += 2 * HOUR;
    }
    assert.fail('the sender did not finish');
  }

  it('queues a statement in the decision transaction; a dismissal has nothing to queue', async () => {
    const h = get();
    const { caseId } = await reportedContent(h);
    const decision = await decideOk(h, caseId);
    const row = (await statuses(h, [decision.id])).get(decision.id);
    assert.equal(row?.status, 'pending');
    assert.equal(row?.attempts, 0);
    const harmless = await reportedContent(h);
    const dismissal = await decideOk(h, harmless.caseId, {
      actions: [{ type: 'dismiss' }],
      explanation: 'Nothing against the rules here.',
    });
    assert.equal((await statuses(h, [dismissal.id])).size, 0);
  });

  it('sends every statement exactly once through failures and refusals, never an accepted one again', async () => {
    const h = get();
    // First in the queue: one the database refuses, one we must not send at all.
    const [refused] = await removals(h, 1, `Offer of drugs for sale. ${REFUSED_MARK}`);
    const [leaky] = await removals(h, 1);
    await leakAddress(h, leaky as string);
    const valid = await removals(h, 128);
    const pending = await h.ctx.store.db
      .selectFrom('dsa_submissions')
      .select('decision_id')
      .where('status', '=', 'pending')
      .execute();
    const expected = new Set(pending.map((r) => r.decision_id).filter((id) => id !== refused && id !== leaky));
    assert.ok(valid.every((id) => expected.has(id)));
    tdb.faults.push('unavailable', 'drop', 'reject_batch', 'ok', 'accept_then_drop');
    const auditBefore = Number(
      (await h.ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow()).seq,
    );

    const start = Date.now();
    const first = await submitDueStatements(ctx, { now: start });
    assert.equal(first.taken, DSA_BATCH_LIMIT);
    assert.equal(first.withheld, 1, 'the statement with an address is withheld');
    assert.equal(first.sent, DSA_BATCH_LIMIT - 1);
    assert.equal(first.outcome, 'HTTP 503');
    const afterFailure = await statuses(h, tdb.requests[0]?.puids ?? []);
    for (const row of afterFailure.values()) {
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 1);
      assert.equal(row.last_error, 'HTTP 503');
      assert.ok(Number(row.next_attempt_at) > start, 'retried later, not at once');
      assert.equal(row.lease_until, null);
    }
    await drain(h, start);

    // Every request was well formed, authorised and within the batch limit.
    for (const r of tdb.requests) {
      assert.ok(r.authorized && !r.malformed, `request ${r.n}`);
      assert.ok(r.puids.length >= 1 && r.puids.length <= DSA_BATCH_LIMIT, `request ${r.n}: ${r.puids.length}`);
    }
    // Each statement is in the database once; the refused and the withheld are not.
    assert.deepEqual([...tdb.created.keys()].sort(), [...expected].sort());
    for (const [puid, times] of tdb.created) assert.equal(times, 1, puid);
    assert.ok(!tdb.requests.some((r) => r.puids.includes(leaky as string)), 'personal data never left');
    // Per statement, in the order of the requests that carried it: failed ones, then the one that created it.
    for (const puid of expected) {
      const carried = tdb.requests.filter((r) => r.outcomes.has(puid));
      const outcomes = carried.map((r) => r.outcomes.get(puid) as Outcome);
      const createdAt = outcomes.indexOf('created');
      assert.ok(createdAt >= 0, puid);
      assert.ok(
        outcomes.slice(0, createdAt).every((o) => o === 'not_created'),
        `${puid}: ${outcomes}`,
      );
      // After a lost answer the sender cannot know: it sends the statement again (perhaps in a batch refused
      // for another reason) until the database names it a duplicate; after a received one, never again.
      const lost = carried[createdAt]?.status === 'dropped';
      const rest = outcomes.slice(createdAt + 1).join(',');
      if (lost) assert.match(rest, /^(not_created,)*duplicate$/, `${puid}: ${outcomes}`);
      else assert.equal(rest, '', `${puid}: ${outcomes}`);
    }
    assert.deepEqual(tdb.faults, [], 'every planned fault happened');
    const lostAnswers = tdb.requests.filter(
      (r) => r.status === 'dropped' && r.puids.some((p) => r.outcomes.get(p) === 'created'),
    );
    assert.equal(lostAnswers.length, 1, 'one answer was lost after the statements were created');
    assert.ok(
      tdb.requests.some((r) => r.status === 409 || r.status === 422),
      'the duplicates were answered as such and accepted',
    );

    const rows = await statuses(h, [...expected, refused as string, leaky as string]);
    for (const puid of expected) {
      const row = rows.get(puid);
      assert.equal(row?.status, 'accepted', puid);
      assert.ok(row?.accepted_at, puid);
      assert.equal(row?.lease_until, null);
    }
    const retried = tdb.requests[0]?.puids.filter((p) => expected.has(p)) ?? [];
    assert.ok(retried.length > 0);
    for (const puid of retried) assert.ok(Number(rows.get(puid)?.attempts) >= 2, 'the failed batch was retried');
    assert.equal(rows.get(refused as string)?.status, 'failed');
    assert.match(String(rows.get(refused as string)?.last_error), /rejected by the database: decision_facts/);
    assert.equal(rows.get(leaky as string)?.status, 'failed');
    assert.match(String(rows.get(leaky as string)?.last_error), /withheld: .*\/decision_facts personal_data_email/);
    assert.ok(!String(rows.get(leaky as string)?.last_error).includes('dealer@'));

    // Nothing is due any more, at any time: no request goes out.
    const requestsSoFar = tdb.requests.length;
    const later = await submitDueStatements(ctx, { now: start + 30 * DAY });
    assert.equal(later.taken, 0);
    assert.equal(tdb.requests.length, requestsSoFar);

    // Each request is audited, without statement contents.
    const audit = await h.ctx.store.db
      .selectFrom('audit_log')
      .select(['action', 'subject_id', 'details'])
      .where('seq', '>', auditBefore)
      .where('action', 'like', 'dsa.%')
      .orderBy('seq')
      .execute();
    const sent = audit.filter((a) => a.action === 'dsa.batch_sent');
    assert.equal(sent.length, tdb.requests.length, 'one audit entry per request');
    assert.deepEqual(
      sent.map((a) => JSON.parse(a.details).puids),
      tdb.requests.map((r) => r.puids),
    );
    assert.ok(audit.some((a) => a.action === 'dsa.statements_withheld' && a.details.includes(leaky as string)));
    for (const a of audit) assert.ok(!a.details.includes('@') && !a.details.includes('station'), a.details);
  });

  it('two senders at once never send the same statement', async () => {
    const h = get();
    const ids = await removals(h, 30);
    const from = tdb.requests.length;
    let now = Date.now();
    for (let i = 0; i < 20 && (await pendingCount(h)) > 0; i++) {
      await Promise.all([submitDueStatements(ctx, { now, batch: 7 }), submitDueStatements(ctx, { now, batch: 7 })]);
      now += 1;
    }
    assert.equal(await pendingCount(h), 0);
    const sent = tdb.requests.slice(from).flatMap((r) => r.puids);
    assert.equal(sent.length, new Set(sent).size, 'no statement went out twice');
    assert.deepEqual([...sent].sort(), [...ids].sort());
    for (const r of tdb.requests.slice(from)) assert.equal(r.status, 201);
  });

  it('runs as a background job when an endpoint is configured', async () => {
    const h = get();
    const [id] = await removals(h, 1);
    const workers = startWorkers(ctx);
    const accepted = async () => (await statuses(h, [id as string])).get(id as string)?.status === 'accepted';
    try {
      // Until the sender has recorded the answer (stopping earlier would cut its request short).
      for (let i = 0; i < 200 && !(await accepted()); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await workers.stop();
    }
    assert.equal(tdb.created.get(id as string), 1);
    assert.equal((await statuses(h, [id as string])).get(id as string)?.status, 'accepted');
  });

  it('the stand-in database refuses a malformed batch and a wrong token', async () => {
    const post = (body: unknown, token = tdb.token) =>
      fetch(tdb.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const statement = { ...validRecord(), puid: 'fake_only' };
    assert.equal((await post({ statements: [] })).status, 422);
    assert.equal((await post({ statements: Array.from({ length: 101 }, () => statement) })).status, 422);
    assert.equal((await post(statement)).status, 422);
    assert.equal((await post({ statements: [statement] }, 'wrong')).status, 401);
    const refused = await post({ statements: [statement, { ...statement, puid: 'fake two', category: 'X' }] });
    assert.equal(refused.status, 422);
    assert.deepEqual(Object.keys(((await refused.json()) as any).errors), ['statement_1']);
    assert.ok(!tdb.created.has('fake_only'), 'a batch is created whole or not at all');
  });
});
