import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATEGORY_CODES, type CategoryCode } from '../../policy/policy.js';
import { Featurizer } from './feature-hashing.js';
import { TextModelError, decodeModel, modelVersion, type ModelParameters } from './model-file.js';

export { TextModelError } from './model-file.js';

/**
 * Features summed per block: each block's weight rows are first touched in a tight loop, then
 * summed (see {@link TextModel.logitsInto}); 256 rows are 256 cache lines, 16 KiB, which stay in L1.
 */
const BLOCK = 256;
/** Where the touching loop leaves its result, so that the compiler keeps its loads. */
const touchedSink = { value: 0 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const here = path.dirname(fileURLToPath(import.meta.url));
/** The folder of shipped models (`models/` at the repository root). */
export const MODELS_DIR = path.resolve(here, '../../../models');
/** The shipped model's weights; its metadata is the sibling `.json`. */
export const DEFAULT_TEXT_MODEL_FILE = path.join(MODELS_DIR, 'text-linear-v1.bin');

/** Calibrated probability per category the model knows. */
export type TextScores = { readonly [C in CategoryCode]?: number };

export interface FlaggedCategory {
  readonly category: CategoryCode;
  readonly probability: number;
  readonly threshold: number;
}

export interface TextDecision {
  /** Categories at or above their threshold, most probable first. */
  readonly flagged: readonly FlaggedCategory[];
  /** The most probable flagged category, or null when none is flagged. */
  readonly category: CategoryCode | null;
  /** The probability of `category`, or the highest probability when none is flagged. */
  readonly probability: number;
}

/** Per-category precision/recall/F1 as stored in the metadata and printed by `model eval`. */
export interface CategoryMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Positive examples of the category in the split. */
  readonly support: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export interface MetricsTable {
  readonly perCategory: { readonly [C in CategoryCode]?: CategoryMetrics };
  /** Mean F1 over the categories the table covers. */
  readonly macroF1: number;
}

/** The human-readable sidecar (`text-linear-v1.json`) written by `custos model train`. */
export interface TextModelMetadata {
  readonly name: string;
  readonly version: string;
  readonly weightsFile: string;
  readonly categories: readonly CategoryCode[];
  readonly thresholds: { readonly [C in CategoryCode]?: number };
  readonly calibration: { readonly [C in CategoryCode]?: { readonly a: number; readonly b: number } };
  readonly features: Readonly<Record<string, unknown>>;
  readonly training: Readonly<Record<string, unknown>> & { readonly dataHash: string };
  readonly metrics: {
    readonly split: string;
    readonly examples: number;
    readonly model: MetricsTable;
    readonly keywordRules: MetricsTable;
    readonly obscenity: MetricsTable & { readonly covers: readonly CategoryCode[] };
  };
}

/**
 * The linear text classifier, loaded and ready. `score` is safe to call from one thread
 * at a time (it reuses buffers); Node runs it on one thread, so one instance per process
 * is right.
 */
export class TextModel {
  readonly categories: readonly CategoryCode[];
  readonly thresholds: Readonly<Record<string, number>>;
  private readonly featurizer: Featurizer;
  private readonly weights: Int16Array;
  /**
   * The same weights read two at a time (little-endian: the low half of each 32-bit word is the
   * weight of the even category): one load per pair instead of two. Null on a big-endian platform.
   */
  private readonly weightPairs: Int32Array | null;
  private readonly scales: Float64Array;
  private readonly bias: Float64Array;
  private readonly plattA: Float64Array;
  private readonly plattB: Float64Array;
  private readonly threshold: Float64Array;
  private readonly acc: Float64Array;
  private readonly probs: Float64Array;

  constructor(
    params: ModelParameters,
    /** `sha256:<hex>` of the model file; recorded with every verdict. */
    readonly version: string,
    readonly metadata?: TextModelMetadata,
  ) {
    this.categories = params.categories.map((c) => c.code as CategoryCode);
    this.featurizer = new Featurizer(params.feature);
    this.weights = params.weights;
    this.weightPairs =
      LITTLE_ENDIAN && this.weights.byteOffset % 4 === 0 && this.weights.length % 2 === 0
        ? new Int32Array(this.weights.buffer, this.weights.byteOffset, this.weights.length / 2)
        : null;
    this.scales = params.scales;
    const C = this.categories.length;
    this.bias = Float64Array.from(params.categories, (c) => c.bias);
    this.plattA = Float64Array.from(params.categories, (c) => c.plattA);
    this.plattB = Float64Array.from(params.categories, (c) => c.plattB);
    this.threshold = Float64Array.from(params.categories, (c) => c.threshold);
    this.thresholds = Object.freeze(Object.fromEntries(params.categories.map((c) => [c.code, c.threshold])));
    this.acc = new Float64Array(C);
    this.probs = new Float64Array(C);
  }

  /**
   * Raw (uncalibrated) logits into `out`, in {@link categories} order. No allocation.
   * Features are scaled by 1/sqrt(count) so long and short texts score alike. The i16
   * weights are summed as integers (exact in a double) and scaled once per category.
   */
  logitsInto(text: string, out: Float64Array): void {
    const C = this.categories.length;
    const n = this.featurizer.extract(text);
    const acc = this.acc;
    acc.fill(0);
    const buckets = this.featurizer.buckets;
    const signs = this.featurizer.signs;
    const w = this.weights;
    const pairs = this.weightPairs;
    if (C === 8 && pairs !== null) {
      // The shipped model's eight categories, unrolled into locals: the JIT keeps the
      // sums in registers instead of loading and storing `acc` for every weight. A bucket's
      // eight i16 weights are 16 contiguous bytes (never across a cache line), read as four
      // 32-bit words. The table is 4 MiB and the rows a message needs are scattered over it:
      // most of the classifier's time is waiting for them. So each block of features is done
      // in two loops: the first only loads one word of each row (a few instructions per row, so
      // the processor has many of the misses in flight at once), the second sums the rows,
      // now in the cache. The sign multiplies instead of branching: signs are random, so a
      // branch on them mispredicts half the time. Integer sums (at most 32767 per feature,
      // far below 2^53) are exact in any order: the result is the one of the plain loop below.
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let a4 = 0;
      let a5 = 0;
      let a6 = 0;
      let a7 = 0;
      for (let from = 0; from < n; from += BLOCK) {
        const to = Math.min(n, from + BLOCK);
        let touched = 0;
        for (let i = from; i < to; i++) touched |= pairs[buckets[i]! << 2]!;
        touchedSink.value = touched;
        for (let i = from; i < to; i++) {
          const base = buckets[i]! << 2;
          const s = signs[i]!;
          const p0 = pairs[base]!;
          const p1 = pairs[base + 1]!;
          const p2 = pairs[base + 2]!;
          const p3 = pairs[base + 3]!;
          a0 += s * ((p0 << 16) >> 16);
          a1 += s * (p0 >> 16);
          a2 += s * ((p1 << 16) >> 16);
          a3 += s * (p1 >> 16);
          a4 += s * ((p2 << 16) >> 16);
          a5 += s * (p2 >> 16);
          a6 += s * ((p3 << 16) >> 16);
          a7 += s * (p3 >> 16);
        }
      }
      acc[0] = a0;
      acc[1] = a1;
      acc[2] = a2;
      acc[3] = a3;
      acc[4] = a4;
      acc[5] = a5;
      acc[6] = a6;
      acc[7] = a7;
    } else {
      for (let i = 0; i < n; i++) {
        const base = buckets[i]! * C;
        const s = signs[i]!;
        for (let c = 0; c < C; c++) acc[c]! += s * w[base + c]!;
      }
    }
    const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let c = 0; c < C; c++) out[c] = this.bias[c]! + acc[c]! * this.scales[c]! * scale;
  }

  /** Calibrated probabilities into `out`, in {@link categories} order. No allocation. */
  scoreInto(text: string, out: Float64Array): void {
    this.logitsInto(text, out);
    for (let c = 0; c < out.length && c < this.categories.length; c++) {
      out[c] = 1 / (1 + Math.exp(-(this.plattA[c]! * out[c]! + this.plattB[c]!)));
    }
  }

  /** Calibrated probability per category, each in [0, 1]. */
  score(text: string): TextScores {
    this.scoreInto(text, this.probs);
    const scores: Partial<Record<CategoryCode, number>> = {};
    this.categories.forEach((code, c) => {
      scores[code] = this.probs[c]!;
    });
    return scores;
  }

  /** Applies the per-category thresholds (F1-optimal on cross-fitted held-out scores). */
  decide(scores: TextScores): TextDecision {
    const flagged: FlaggedCategory[] = [];
    let best = 0;
    this.categories.forEach((category, c) => {
      const probability = scores[category] ?? 0;
      best = Math.max(best, probability);
      if (probability >= this.threshold[c]!) flagged.push({ category, probability, threshold: this.threshold[c]! });
    });
    flagged.sort((a, b) => b.probability - a.probability);
    const top = flagged[0];
    return { flagged, category: top?.category ?? null, probability: top?.probability ?? best };
  }
}

/** Builds a model from file bytes (already read); validates like {@link loadTextModel}. */
export function textModelFromBytes(bytes: Buffer, file = '<memory>', metadata?: TextModelMetadata): TextModel {
  const params = decodeModel(bytes, file);
  for (const c of params.categories) {
    if (!(CATEGORY_CODES as readonly string[]).includes(c.code)) {
      throw new TextModelError('model_incompatible', file, `names category ${c.code}, which the taxonomy lacks`);
    }
  }
  const version = modelVersion(bytes);
  if (metadata && metadata.version !== version) {
    throw new TextModelError(
      'model_corrupt',
      file,
      `its metadata describes ${metadata.version} but the weights are ${version} (stale or mixed files)`,
    );
  }
  return new TextModel(params, version, metadata);
}

/** The metadata file beside a weights file (`x.bin` → `x.json`). */
export function metadataFileOf(weightsFile: string): string {
  return weightsFile.replace(/\.bin$/, '') + '.json';
}

/**
 * Loads and validates a model: the weights file (`.bin`) and, when present beside it,
 * its metadata (`.json`, whose version must match). A missing, truncated, damaged or
 * incompatible file throws {@link TextModelError} with the path and the problem, so the
 * caller can refuse to start.
 */
export function loadTextModel(file: string = DEFAULT_TEXT_MODEL_FILE): TextModel {
  const weightsFile = file.endsWith('.json') ? file.replace(/\.json$/, '.bin') : file;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(weightsFile);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TextModelError(
      code === 'ENOENT' ? 'model_missing' : 'model_corrupt',
      weightsFile,
      code === 'ENOENT' ? 'does not exist (run `custos model train`)' : `cannot be read (${(error as Error).message})`,
    );
  }
  const metaFile = metadataFileOf(weightsFile);
  let metadata: TextModelMetadata | undefined;
  if (fs.existsSync(metaFile)) {
    try {
      metadata = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as TextModelMetadata;
    } catch (error) {
      throw new TextModelError('model_corrupt', metaFile, `is not valid JSON (${(error as Error).message})`);
    }
    if (typeof metadata !== 'object' || metadata === null || typeof metadata.version !== 'string') {
      throw new TextModelError('model_corrupt', metaFile, 'lacks a version');
    }
  }
  return textModelFromBytes(bytes, weightsFile, metadata);
}
