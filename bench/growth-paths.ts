import { type Insertable, sql } from 'kysely';
import type { Actor } from '../src/audit/actor.js';
import type { Dialect } from '../src/db/database.js';
import type { ContentTable } from '../src/db/schema.js';
import { CATEGORY_CODES, type Policy, loadPolicy } from '../src/policy/policy.js';
import { type ReportInput, fileReport } from '../src/reports/service.js';
import { buildScanning } from '../src/scanning/build.js';
import { SCAN_DEFAULTS, buildScanMix } from './content-scanning.js';
import { pseudoKeywords } from './keywords.js';
import { log } from './server.js';
import { median, nowMs, rng } from './stats.js';
import { openBenchStore } from './store.js';

/**
 * The two growth paths whose cost is not a query over a big table:
 *
 * - report intake (`fileReport`, src/reports/service.ts, in-process) by the
 *   reports already stored: the store is filled through the same function (so
 *   every table a report writes grows as in production: reports, cases, events,
 *   the audit chain, reporter statistics), then single reports are timed one at
 *   a time, alternating with `select 1` on the same store;
 * - content scanning (the default pipeline, `buildScanning`) by the size of the
 *   policy: the shipped policy plus one keyword rule of N generated keywords
 *   (none of which occurs in the messages, so no scan stops early), against the
 *   naive matcher, every keyword looked for in the lower-cased text.
 */

export interface PathPoint {
  size: number;
  ms: number;
  baselineMs: number;
}

const ITEMS_PER_REPORT = 4;
const AUTHORS_PER_ITEM = 5;
const REPORTERS = 100_000;
/** Reports filed at once while filling (they are committed in groups, as under load). */
const FILL_CONCURRENCY = 500;
const PLATFORM: Actor = { id: 'tok_bench_platform', role: 'platform' };

function itemId(n: number): string {
  return `gc${String(n).padStart(9, '0')}`;
}

/** A report of the fill or the timed run: a random item, category and reporting user. */
function reportFor(r: () => number, items: number): ReportInput {
  return {
    subject: { contentId: itemId(Math.floor(r() * items)) },
    category: CATEGORY_CODES[Math.floor(r() * CATEGORY_CODES.length)]!,
    reporter: { accountId: `gr${Math.floor(r() * REPORTERS)}` },
  };
}

/** Report intake with `size` reports stored: the p50 of single reports against the p50 of `select 1`. */
export async function intakeGrowthPoint(dialect: Dialect, size: number, timed: number): Promise<PathPoint> {
  const store = await openBenchStore(dialect);
  try {
    const items = Math.max(100, Math.floor(size / ITEMS_PER_REPORT));
    const db = store.ctx.store.db;
    const start = Date.now() - 86_400_000;
    for (let lo = 0; lo < items; lo += 1000) {
      const rows: Insertable<ContentTable>[] = [];
      for (let n = lo; n < Math.min(items, lo + 1000); n++) {
        rows.push({
          id: itemId(n),
          account_id: `ga${Math.floor(n / AUTHORS_PER_ITEM)}`,
          chat_id: null,
          kind: 'text',
          text: `message ${n}`,
          image: null,
          media_ref: null,
          image_sha256: null,
          image_md5: null,
          is_public: n % 5 === 0 ? 1 : 0,
          language: 'en',
          state: 'visible',
          fingerprint: `fp${n}`,
          created_at: start,
          received_at: start,
        });
      }
      await db.insertInto('content').values(rows).execute();
    }
    const r = rng(size);
    const fillStarted = nowMs();
    for (let done = 0; done < size; ) {
      const batch = Math.min(FILL_CONCURRENCY, size - done);
      await Promise.all(
        Array.from({ length: batch }, () => fileReport(store.ctx, PLATFORM, reportFor(r, items), '127.0.0.1')),
      );
      done += batch;
      if (done % 100_000 === 0) log(`growth: ${dialect}: intake: ${done.toLocaleString('en')} reports filed`);
    }
    log(
      `growth: ${dialect}: intake: ${size.toLocaleString('en')} reports filed in ${((nowMs() - fillStarted) / 1000).toFixed(0)} s`,
    );
    const stored = await db
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(stored.n) !== size) throw new Error(`the store holds ${stored.n} reports, not ${size}`);
    if (dialect === 'postgres') await sql`analyze`.execute(db);

    const reportMs: number[] = [];
    const selectMs: number[] = [];
    for (let i = 0; i < timed + 20; i++) {
      let t = nowMs();
      await fileReport(store.ctx, PLATFORM, reportFor(r, items), '127.0.0.1');
      const report = nowMs() - t;
      t = nowMs();
      await sql`select 1`.execute(db);
      const select = nowMs() - t;
      if (i < 20) continue; // warm-up
      reportMs.push(report);
      selectMs.push(select);
    }
    return { size, ms: median(reportMs), baselineMs: median(selectMs) };
  } finally {
    await store.destroy();
  }
}

const GENERATED_RULE = 'growth-generated';

/** The shipped policy with one more keyword rule holding `keywords`. */
function policyWithKeywords(policy: Policy, keywords: string[]): Policy {
  const scanning = (policy.document as { scanning?: { rules?: unknown[] } }).scanning ?? {};
  const generated = { id: GENERATED_RULE, category: 'spam', kind: 'keywords', terms: keywords };
  return {
    ...policy,
    document: { ...policy.document, scanning: { ...scanning, rules: [...(scanning.rules ?? []), generated] } },
  } as Policy;
}

/** Messages of the scan mix timed per size (the naive matcher: fewer at large sizes, at least 20). */
const SCAN_MESSAGES = 2000;
const NAIVE_BUDGET = 5e7;

/** Content scanning with `size` generated keywords in the policy: p50 per message, against the naive matcher. */
export async function scanningGrowthPoint(size: number): Promise<PathPoint> {
  const mix = buildScanMix({ ...SCAN_DEFAULTS, messages: SCAN_MESSAGES });
  // Pseudo-words that happen to be words of the messages are left out.
  const words = new Set(mix.items.flatMap((m) => m.text!.toLowerCase().split(/[^\p{L}\p{N}]+/u)));
  const keywords = pseudoKeywords(Math.ceil(size * 1.05) + 100, size)
    .filter((k) => !k.split(' ').some((w) => words.has(w)))
    .slice(0, size);
  if (keywords.length < size) throw new Error(`only ${keywords.length} of ${size} generated keywords are usable`);
  const { scanner } = await buildScanning(policyWithKeywords(loadPolicy(), keywords));
  // Warm-up, and a check: no generated keyword matches a message (such a scan could stop early).
  for (const item of mix.items) {
    const verdict = await scanner.scan(item);
    if (verdict.signals.some((sig) => sig.detail?.ruleId === GENERATED_RULE)) {
      throw new Error(`a generated keyword matches message ${item.id}: it would stop its scan early`);
    }
  }
  const pipelineMs: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (const item of mix.items) {
      const t = nowMs();
      await scanner.scan(item);
      pipelineMs.push(nowMs() - t);
    }
  }
  const naiveItems = mix.items.slice(0, Math.max(20, Math.min(SCAN_MESSAGES, Math.floor(NAIVE_BUDGET / size))));
  const naiveMs: number[] = [];
  let found = 0; // substrings of words count here, not in the rule: kept so the loop is not optimised away
  for (const item of naiveItems) {
    const t = nowMs();
    const text = item.text!.toLowerCase();
    for (const k of keywords) if (text.includes(k)) found++;
    naiveMs.push(nowMs() - t);
  }
  if (found < 0) throw new Error('unreachable');
  return { size, ms: median(pipelineMs), baselineMs: median(naiveMs) };
}
