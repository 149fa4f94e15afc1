import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ScanPipeline } from '../src/scanning/pipeline.js';
import type { ScanItem, Scanner, Signal } from '../src/scanning/scanner.js';
import { scanningPolicy } from '../src/scanning/scanning-policy.js';
import { LanguageScanner } from '../src/scanning/language.js';
import { runScanJobs } from '../src/scanning/jobs.js';
import { loadPolicy } from '../src/policy/policy.js';
import type { CategoryCode } from '../src/policy/policy.js';
import { buildAccount, scanItem, brokenScanner } from './helpers/factories.js';
import { type Harness, describeEachStore } from './helpers/harness.js';

/** A deterministic scanner for pipeline tests: flags a marker word with a fixed score. */
class MarkerScanner implements Scanner {
  readonly version = 'marker-1';
  calls = 0;
  constructor(
    readonly name: string,
    readonly cost: number,
    private readonly marker: string,
    private readonly category: CategoryCode,
    private readonly score: number,
  ) {}
  accepts(item: ScanItem) {
    return item.text !== null;
  }
  scan(item: ScanItem): Signal[] {
    this.calls += 1;
    return item.text?.includes(this.marker)
      ? [{ scanner: this.name, category: this.category, score: this.score, detail: { matched: this.marker } }]
      : [];
  }
}

function policyWith(scanning: unknown) {
  const base = loadPolicy();
  return { ...base, document: { ...base.document, scanning } } as typeof base;
}

const item = (text: string, isPublic = false): ScanItem => scanItem(text, isPublic);

it('turns scores into allow, review and remove with per-category and per-surface thresholds', async () => {
  const policy = policyWith({
    thresholds: {
      default: { review: 0.5, remove: 0.95 },
      categories: { spam: { review: 0.7, remove: 0.9, private: { remove: 1.01 } } },
    },
  });
  const scanning = scanningPolicy(policy);
  const spam = new ScanPipeline([new MarkerScanner('m', 1, 'buy', 'spam', 0.92)], scanning, policy.version);
  assert.equal((await spam.scan(item('buy now', true))).action, 'remove', 'public: 0.92 ≥ 0.9');
  assert.equal((await spam.scan(item('buy now', false))).action, 'review', 'private chats never auto-remove spam');
  assert.equal((await spam.scan(item('hello'))).action, 'allow');
  const drugs = new ScanPipeline([new MarkerScanner('m', 1, 'pills', 'illegal_drugs', 0.6)], scanning, policy.version);
  const v = await drugs.scan(item('pills here'));
  assert.equal(v.action, 'review');
  assert.equal(v.category, 'illegal_drugs');
  assert.equal(v.policyVersion, policy.version);
  assert.deepEqual(v.versions, { m: 'marker-1' });
});

it('stops at a decisive signal: costlier scanners do not run', async () => {
  const policy = policyWith({ thresholds: { default: { review: 0.5, remove: 0.9 } } });
  const cheap = new MarkerScanner('cheap', 1, 'bomb', 'terrorism', 0.99);
  const costly = new MarkerScanner('costly', 5, 'bomb', 'terrorism', 0.5);
  const pipeline = new ScanPipeline([costly, cheap], scanningPolicy(policy), policy.version);
  const v = await pipeline.scan(item('bomb'));
  assert.equal(v.action, 'remove');
  assert.equal(cheap.calls, 1);
  assert.equal(costly.calls, 0, 'the expensive scanner was skipped');
  await pipeline.scan(item('harmless'));
  assert.equal(costly.calls, 1, 'without a decisive signal every scanner runs');
});

it('records shadow signals without acting on them', async () => {
  const policy = policyWith({
    thresholds: { default: { review: 0.5, remove: 0.9 } },
    shadow: { categories: ['weapons'] },
  });
  const pipeline = new ScanPipeline(
    [new MarkerScanner('m', 1, 'rifle', 'weapons', 0.99)],
    scanningPolicy(policy),
    policy.version,
  );
  const v = await pipeline.scan(item('rifle for sale'));
  assert.equal(v.action, 'allow');
  assert.equal(v.signals.length, 1);
  assert.equal(v.signals[0]?.shadow, true);
});

it('refuses a scanning section with an unknown category', () => {
  const policy = policyWith({
    thresholds: { default: { review: 0.5, remove: 0.9 }, categories: { gossip: { review: 0.1 } } },
  });
  assert.throws(() => scanningPolicy(policy), /gossip: unknown category/);
});

it('bounds the text it scans, whatever its size', async () => {
  const policy = policyWith({ thresholds: { default: { review: 0.5, remove: 0.9 } }, maxTextChars: 1000 });
  let seen = 0;
  const probe: Scanner = {
    name: 'probe',
    cost: 1,
    version: '1',
    accepts: () => true,
    scan: (i) => {
      seen = i.text?.length ?? 0;
      return [];
    },
  };
  await new ScanPipeline([probe], scanningPolicy(policy), policy.version).scan(item('x'.repeat(1_048_576)));
  assert.equal(seen, 1000);
});

it('identifies languages, and says nothing for emoji, digits or empty text', async () => {
  const lid = await LanguageScanner.load();
  const cases: Array<[string, string]> = [
    ['Does anyone know when the next train to the airport leaves?', 'en'],
    ['Кто-нибудь знает, когда уходит следующий поезд в аэропорт?', 'ru'],
    ['¿Alguien sabe cuándo sale el próximo tren al aeropuerto?', 'es'],
    ['هل يعرف أحد متى يغادر القطار التالي إلى المطار؟', 'ar'],
    ['क्या किसी को पता है कि हवाई अड्डे के लिए अगली ट्रेन कब निकलती है?', 'hi'],
    ['کسی می‌داند قطار بعدی به فرودگاه کی حرکت می‌کند؟', 'fa'],
    ['Alguém sabe quando sai o próximo trem para o aeroporto?', 'pt'],
  ];
  for (const [text, language] of cases) assert.equal(lid.identify(text)?.language, language, text);
  for (const text of ['🎉🎉🎉', '12345', '', '   ']) assert.equal(lid.identify(text), null, JSON.stringify(text));
  assert.doesNotThrow(() => lid.identify('\uD800 broken surrogate and עברית mixed with English'));
});

async function withScanner(h: Harness, scanners: Scanner[], scanning: unknown) {
  const policy = policyWith(scanning);
  (h.ctx as { scanner: ScanPipeline }).scanner = new ScanPipeline(
    [...scanners, await LanguageScanner.load()],
    scanningPolicy(policy),
    policy.version,
  );
  (h.ctx as { scanning: ReturnType<typeof scanningPolicy> }).scanning = scanningPolicy(policy);
}

describeEachStore('content scanning', (get) => {
  const postContent = (h: Harness, items: unknown[], query = '') =>
    h.call('POST', `/v1/ingest/content${query}`, { token: h.tokens.platform, body: { items } });

  it('answers a verdict per item with the language, opens a case on review, removes automatically on remove', async () => {
    const h = get();
    await withScanner(
      h,
      [
        new MarkerScanner('marker', 1, 'cocaine', 'illegal_drugs', 0.97),
        new MarkerScanner('marker2', 1, 'pills', 'illegal_drugs', 0.7),
      ],
      {
        thresholds: { default: { review: 0.6, remove: 0.95 } },
      },
    );
    const a = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    const at = new Date(Date.now() - 60_000).toISOString();
    const res = await postContent(h, [
      {
        id: 'ok-1',
        accountId: a.id,
        kind: 'text',
        text: 'See you tomorrow at the station, bring the tickets',
        createdAt: at,
      },
      { id: 'rev-1', accountId: a.id, kind: 'text', text: 'pills available, write me', createdAt: at, public: true },
      { id: 'rm-1', accountId: a.id, kind: 'text', text: 'cocaine delivery tonight', createdAt: at },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const [ok, rev, rm] = res.data.results;
    assert.equal(ok.verdict.action, 'allow');
    assert.equal(ok.verdict.language, 'en');
    assert.ok(ok.verdict.signals.some((s: Signal) => s.scanner === 'language'));
    assert.equal(rev.verdict.action, 'review');
    assert.equal(rev.verdict.category, 'illegal_drugs');
    assert.equal(rm.verdict.action, 'remove');

    const cases = await h.call('GET', '/v1/cases?status=open&limit=200', { token: h.tokens.moderator });
    const reviewCase = cases.data.cases.find((c: { subject: { id: string } }) => c.subject.id === 'rev-1');
    assert.ok(reviewCase, 'review opens a case');
    const detail = await h.call('GET', `/v1/cases/${reviewCase.id}`, { token: h.tokens.moderator });
    assert.ok(
      detail.data.signals.some((s: Signal) => s.scanner === 'marker2' && s.score === 0.7),
      'the case shows the signals',
    );

    const closed = await h.call('GET', '/v1/cases?status=closed&limit=200', { token: h.tokens.moderator });
    const removed = closed.data.cases.find((c: { subject: { id: string } }) => c.subject.id === 'rm-1');
    assert.ok(removed, 'remove decides the case');
    const statement = await h.call('GET', `/v1/decisions/${removed.decisionId}/statement`, { token: h.tokens.auditor });
    assert.equal(statement.data.statement.automated_detection, 'Yes');
    assert.equal(statement.data.statement.automated_decision, 'AUTOMATED_DECISION_FULLY');
    const violations = await h.call('GET', `/v1/accounts/${a.id}/violations`, { token: h.tokens.legal });
    assert.ok(violations.data.violations.some((v: { decisionId: string }) => v.decisionId === removed.decisionId));

    // A moderator confirming the flagged item decides partly automatically.
    const d = await h.call('POST', `/v1/cases/${reviewCase.id}/decisions`, {
      token: h.tokens.moderator,
      body: {
        actions: [{ type: 'remove_content' }],
        category: 'illegal_drugs',
        ground: 'illegal',
        explanation: 'Offer of pills for sale.',
      },
    });
    assert.equal(d.statusCode, 201, d.body);
    const st2 = await h.call('GET', `/v1/decisions/${d.data.id}/statement`, { token: h.tokens.auditor });
    assert.equal(st2.data.statement.automated_decision, 'AUTOMATED_DECISION_PARTIALLY');
    assert.equal(st2.data.statement.content_language, 'EN');

    // Re-sending the same items acts once: the stored verdicts come back.
    const again = await postContent(h, [
      { id: 'rm-1', accountId: a.id, kind: 'text', text: 'cocaine delivery tonight', createdAt: at },
    ]);
    assert.equal(again.data.results[0].status, 'unchanged');
    assert.equal(again.data.results[0].verdict.action, 'remove');
    const decisions = await h.ctx.store.db
      .selectFrom('decisions')
      .select('id')
      .where('subject_id', '=', 'rm-1')
      .execute();
    assert.equal(decisions.length, 1);
  });

  it('with ?async=true stores and queues (202); the worker scans the queue; nothing is left behind', async () => {
    const h = get();
    await withScanner(h, [new MarkerScanner('marker', 1, 'scam', 'scam_fraud', 0.8)], {
      thresholds: { default: { review: 0.6, remove: 1.01 } },
    });
    const a = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    const at = new Date(Date.now() - 60_000).toISOString();
    const res = await postContent(
      h,
      [{ id: 'async-1', accountId: a.id, kind: 'text', text: 'a scam offer', createdAt: at }],
      '?async=true',
    );
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.data.results[0].verdict, undefined);
    const pending = await h.ctx.store.db
      .selectFrom('scan_jobs')
      .selectAll()
      .where('content_id', '=', 'async-1')
      .executeTakeFirstOrThrow();
    assert.equal(pending.status, 'pending');
    const round = await runScanJobs(h.ctx);
    assert.ok(round.done >= 1);
    const result = await h.ctx.store.db
      .selectFrom('scan_results')
      .selectAll()
      .where('content_id', '=', 'async-1')
      .executeTakeFirstOrThrow();
    assert.equal(result.action, 'review');
    const job = await h.ctx.store.db
      .selectFrom('scan_jobs')
      .selectAll()
      .where('content_id', '=', 'async-1')
      .executeTakeFirstOrThrow();
    assert.equal(job.status, 'done');
  });

  it('retries a failing scan and dead-letters it with the error after the last attempt', async () => {
    const h = get();
    const broken = brokenScanner();
    await withScanner(h, [broken], { thresholds: { default: { review: 0.6, remove: 1.01 } } });
    const a = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    const res = await postContent(
      h,
      [
        {
          id: 'dead-1',
          accountId: a.id,
          kind: 'text',
          text: 'anything',
          createdAt: new Date(Date.now() - 1000).toISOString(),
        },
      ],
      '?async=true',
    );
    assert.equal(res.statusCode, 202);
    let now = Date.now();
    for (let i = 0; i < 5; i++) {
      await runScanJobs(h.ctx, { now });
      now += 3_600_000;
    }
    const job = await h.ctx.store.db
      .selectFrom('scan_jobs')
      .selectAll()
      .where('content_id', '=', 'dead-1')
      .executeTakeFirstOrThrow();
    assert.equal(job.status, 'dead');
    assert.equal(job.attempts, 5);
    assert.match(job.last_error ?? '', /model exploded/);
  });
});
