import { mulberry32 } from '../src/random.js';

/** Milliseconds since an arbitrary origin, with sub-microsecond resolution. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The middle value; the mean of the two middle values when there is an even number. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Latency summary of a series of timings, in milliseconds, rounded for a results file. */
export interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function latency(samples: readonly number[]): Latency {
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: samples.length,
    p50: r(percentile(samples, 50)),
    p90: r(percentile(samples, 90)),
    p99: r(percentile(samples, 99)),
    // A loop, not Math.max(...samples): spreading 100,000+ samples overflows the call stack.
    max: r(samples.reduce((m, v) => Math.max(m, v), Number.NEGATIVE_INFINITY)),
    mean: r(mean(samples)),
  };
}

/** Deterministic, so two runs generate the same data and pick the same accounts. */
export const rng = mulberry32;
