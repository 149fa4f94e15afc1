import type { Dialect } from '../src/db/database.js';
import { intakeGrowthPoint, scanningGrowthPoint } from './growth-paths.js';
import { runMatcherBench } from './pdq-matcher.js';
import { QUEUE_DEFAULTS, runQueue } from './queue-listing.js';
import { LOOKUP_DEFAULTS, runLookup } from './session-lookup.js';
import { nowMs } from './stats.js';
import { TRANSPARENCY_DEFAULTS, runTransparency } from './transparency.js';

/**
 * How the cost of the hot paths grows with the data behind them: each path timed at
 * three sizes in one run, beside its baseline of the same run at the same size, so
 * the growth order shows (flat for an index lookup, logarithmic for a B-tree, linear
 * for a scan). The paths:
 *
 * - disclosure lookup: an account's sessions in a 30-day period (session-lookup.ts),
 *   by rows in the sessions table; baseline `select 1`;
 * - moderation queue: its first page (queue-listing.ts), by open cases; baseline
 *   `select 1`;
 * - transparency: a quarter's request figures and the DSA year (transparency.ts), by
 *   moderation decisions in the store (and a tenth as many legal orders); baseline
 *   `select 1` alternating with the report;
 * - hash matching: a PDQ query that matches nothing (the costly half) in the index
 *   (pdq-matcher.ts), by hashes in the banks; baseline the linear scan;
 * - report intake: one report filed in-process (`fileReport`), by reports already
 *   filed the same way; baseline `select 1` alternating with it (growth-paths.ts);
 * - content scanning: a message through the default pipeline, by keywords in the
 *   policy (a scan reads no stored data; the policy is what grows); baseline the
 *   naive matcher, every keyword looked for in the text (growth-paths.ts).
 *
 * Report intake's and content scanning's throughput under load are in their own
 * benchmarks (report-intake.ts over HTTP, content-scanning.ts per CPU-second).
 */

export type GrowthPath =
  | 'lookup'
  | 'queue'
  | 'intake'
  | 'transparencyQuarter'
  | 'transparencyDsaYear'
  | 'matching'
  | 'scanning';

export interface GrowthPoint {
  size: number;
  /** The path's median, ms. */
  ms: number;
  /** The baseline's median at the same size in the same run, ms. */
  baselineMs: number;
}

export interface GrowthSeries {
  path: GrowthPath;
  /** The store, or `memory` for the hash index. */
  store: Dialect | 'memory';
  points: GrowthPoint[];
}

export interface GrowthResult {
  /** Rows (or reports) in the store, hashes in the banks, keywords in the policy (older results: none). */
  sizes: { store: number[]; hashes: number[]; keywords?: number[] };
  series: GrowthSeries[];
  seconds: number;
}

export const GROWTH_SIZES = {
  quick: {
    store: [1_000, 10_000, 100_000],
    hashes: [10_000, 100_000, 1_000_000],
    keywords: [1_000, 10_000, 100_000],
  },
  full: {
    store: [10_000, 100_000, 1_000_000],
    hashes: [100_000, 1_000_000, 10_000_000],
    keywords: [10_000, 100_000, 1_000_000],
  },
};

/** What each path measures, for tables and charts: what is counted, what is timed, and against what. */
export const GROWTH_PATHS: Record<GrowthPath, { title: string; size: string; timed: string; baseline: string }> = {
  lookup: {
    title: 'Disclosure lookup',
    size: 'sessions stored',
    timed: "an account's sessions in 30 days, p50",
    baseline: 'select 1',
  },
  queue: { title: 'Moderation queue', size: 'open cases', timed: 'first page, p50', baseline: 'select 1' },
  intake: { title: 'Report intake', size: 'reports stored', timed: 'one report filed, p50', baseline: 'select 1' },
  transparencyQuarter: {
    title: "Transparency: a quarter's request figures",
    size: 'decisions stored (orders: a tenth)',
    timed: 'median',
    baseline: 'select 1',
  },
  transparencyDsaYear: {
    title: 'Transparency: the DSA year',
    size: 'decisions stored (orders: a tenth)',
    timed: 'median',
    baseline: 'select 1',
  },
  matching: {
    title: 'Hash matching',
    size: 'PDQ hashes in the banks',
    timed: 'a query matching nothing, p50',
    baseline: 'linear scan',
  },
  scanning: {
    title: 'Content scanning',
    size: 'keywords in the policy',
    timed: 'a message through the default pipeline, p50',
    baseline: 'every keyword looked for in the text',
  },
};

export async function runGrowth(stores: Dialect[], sizes: GrowthResult['sizes']): Promise<GrowthResult> {
  const started = nowMs();
  const series: GrowthSeries[] = [];
  const add = (path: GrowthPath, store: GrowthSeries['store'], point: GrowthPoint) => {
    let s = series.find((x) => x.path === path && x.store === store);
    if (!s) {
      s = { path, store, points: [] };
      series.push(s);
    }
    s.points.push(point);
  };
  for (const store of stores) {
    for (const size of sizes.store) {
      process.stderr.write(`  growth: ${store}: ${size.toLocaleString('en')} rows…\n`);
      const lookup = await runLookup(store, {
        ...LOOKUP_DEFAULTS,
        sessions: size,
        lookups: Math.min(500, Math.floor(size / LOOKUP_DEFAULTS.sessionsPerAccount / 2)),
        warmup: 50,
      });
      add('lookup', store, {
        size,
        ms: lookup.latencyMs.sessionsInPeriod.p50,
        baselineMs: lookup.latencyMs.select1.p50,
      });
      const queue = await runQueue(store, {
        ...QUEUE_DEFAULTS,
        cases: size,
        calls: 100,
        deepOffset: Math.min(QUEUE_DEFAULTS.deepOffset, Math.floor(size / 4)),
        budgetSeconds: 10,
      });
      add('queue', store, { size, ms: queue.latencyMs.firstPage.p50, baselineMs: queue.latencyMs.select1.p50 });
      add('intake', store, await intakeGrowthPoint(store, size, 300));
      const t = await runTransparency(store, {
        ...TRANSPARENCY_DEFAULTS,
        decisions: size,
        orders: Math.max(1000, Math.floor(size / 10)),
        repetitions: 3,
        budgetSeconds: 20,
      });
      add('transparencyQuarter', store, {
        size,
        ms: t.reports.quarter.medianMs,
        baselineMs: t.reports.quarter.select1.medianMs,
      });
      add('transparencyDsaYear', store, {
        size,
        ms: t.reports.dsaYear.medianMs,
        baselineMs: t.reports.dsaYear.select1.medianMs,
      });
    }
  }
  process.stderr.write(`  growth: hash matching at ${sizes.hashes.map((n) => n.toLocaleString('en')).join(', ')}…\n`);
  const matcher = await runMatcherBench({
    sizes: sizes.hashes,
    datasets: ['random'],
    queries: 500,
    linearQueries: 50,
    linearQueriesLarge: 10,
    extraThresholds: [],
  });
  for (const row of matcher.rows) {
    add('matching', 'memory', { size: row.size, ms: row.index.miss.p50, baselineMs: row.linear.miss.p50 });
  }
  for (const size of sizes.keywords ?? []) {
    process.stderr.write(`  growth: content scanning with ${size.toLocaleString('en')} keywords…\n`);
    add('scanning', 'memory', await scanningGrowthPoint(size));
  }
  return { sizes, series, seconds: Math.round((nowMs() - started) / 1000) };
}

/**
 * The growth order between the smallest and the largest size: the exponent k in
 * time ∝ size^k, from the two end points (0: flat, 1: linear).
 */
export function growthExponent(points: GrowthPoint[]): number | null {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || first.size === last.size || first.ms <= 0 || last.ms <= 0) return null;
  return Math.log(last.ms / first.ms) / Math.log(last.size / first.size);
}
