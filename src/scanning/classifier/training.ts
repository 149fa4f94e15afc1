import type { CategoryCode } from '../../policy/policy.js';
import { chooseThreshold, fitPlatt, type PlattParameters } from './calibration.js';
import { DEFAULT_FEATURE_CONFIG, type FeatureConfig, Featurizer } from './feature-hashing.js';
import { encodeModel, type ModelCategoryParameters, quantiseWeights } from './model-file.js';
import { binaryMetrics } from './evaluation.js';
import { type CategoryMetrics, type MetricsTable, type TextModel, textModelFromBytes } from './text-model.js';
import { mulberry32 } from '../../random.js';

/** One labelled text. `labels` lists the categories it belongs to (none: benign). */
export interface LabelledExample {
  readonly text: string;
  readonly labels: readonly CategoryCode[];
  readonly lang: string;
  /** Where it came from: `handwritten`, `template:<file>#<id>`, `spamassassin:<group>/<id>`, `decision:<id>`… */
  readonly source: string;
  /** Examples sharing a group always land in the same split (one template's expansions). */
  readonly group?: string;
  /**
   * The categories whose presence or absence is known; absent means all. A SpamAssassin
   * spam mail is known to be spam but says nothing about, say, scam_fraud, so it must
   * not teach "not scam" either; a moderator's dismissal of a report is known only for
   * the reported category.
   */
  readonly known?: readonly CategoryCode[];
  /**
   * Made by recombining phrase parts (see corpus-templates.ts): used to fit weights only,
   * never held out for calibration or test, so no score is measured on recombined text.
   */
  readonly augmented?: boolean;
}

/** The classifier's categories (item 4 of issue 4), in model order. */
export const TEXT_MODEL_CATEGORIES: readonly CategoryCode[] = Object.freeze([
  'hate_speech',
  'violent_threat',
  'illegal_drugs',
  'weapons',
  'scam_fraud',
  'spam',
  'sexual_solicitation',
  'terrorism',
]);

export interface TrainOptions {
  readonly categories?: readonly CategoryCode[];
  readonly feature?: FeatureConfig;
  readonly epochs?: number;
  /** AdaGrad base learning rate. */
  readonly learningRate?: number;
  /** L2 penalty per update of an active weight. */
  readonly l2?: number;
  /** Gradient weight of positive examples (categories are rare; this lifts recall). */
  readonly positiveWeight?: number;
  /** Seed of the shuffling PRNG. */
  readonly seed?: number;
  /** Folds of the cross-fitting that yields held-out scores for calibration and thresholds. */
  readonly folds?: number;
}

export const DEFAULT_TRAIN_OPTIONS = Object.freeze({
  categories: TEXT_MODEL_CATEGORIES,
  feature: DEFAULT_FEATURE_CONFIG,
  epochs: 5,
  learningRate: 0.4,
  l2: 3e-3,
  positiveWeight: 2,
  seed: 20240611,
  folds: 4,
}) satisfies Required<TrainOptions>;

export interface TrainedTextModel {
  readonly model: TextModel;
  /** The model file's bytes (`text-linear-v1.bin`). */
  readonly bytes: Buffer;
  readonly calibration: Readonly<Record<string, PlattParameters>>;
  readonly thresholds: Readonly<Record<string, number>>;
  readonly options: Required<TrainOptions>;
  /**
   * Precision/recall/F1 of the cross-fitted held-out scores at the chosen thresholds: the
   * figure to tune options on (the test split is for reporting only). Slightly optimistic,
   * since the thresholds were chosen on these same scores.
   */
  readonly crossValidation: MetricsTable;
}

const UNKNOWN = 255;
/** Gradients below this are not applied (saves most updates after the first epoch). */
const SKIP_GRADIENT = 0.01;

interface SparseSet {
  readonly offsets: Int32Array;
  readonly buckets: Int32Array;
  readonly values: Float64Array;
  /** N × C: 1 positive, 0 negative, 255 unknown. */
  readonly labels: Uint8Array;
}

/** Featurises examples once; duplicate features within a text are summed. */
function sparsify(examples: readonly LabelledExample[], categories: readonly CategoryCode[], f: Featurizer): SparseSet {
  const C = categories.length;
  const offsets = new Int32Array(examples.length + 1);
  const chunks: Array<{ b: Int32Array; v: Float64Array }> = [];
  const labels = new Uint8Array(examples.length * C);
  const merged = new Map<number, number>();
  let total = 0;
  examples.forEach((ex, i) => {
    const n = f.extract(ex.text);
    const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
    merged.clear();
    for (let k = 0; k < n; k++) {
      const b = f.buckets[k]!;
      merged.set(b, (merged.get(b) ?? 0) + f.signs[k]! * scale);
    }
    const b = new Int32Array(merged.size);
    const v = new Float64Array(merged.size);
    let k = 0;
    for (const [bucket, value] of merged) {
      b[k] = bucket;
      v[k] = value;
      k++;
    }
    chunks.push({ b, v });
    total += merged.size;
    offsets[i + 1] = total;
    const known = ex.known ? new Set(ex.known) : undefined;
    categories.forEach((cat, c) => {
      labels[i * C + c] = known && !known.has(cat) ? UNKNOWN : ex.labels.includes(cat) ? 1 : 0;
    });
  });
  const buckets = new Int32Array(total);
  const values = new Float64Array(total);
  let o = 0;
  for (const chunk of chunks) {
    buckets.set(chunk.b, o);
    values.set(chunk.v, o);
    o += chunk.b.length;
  }
  return { offsets, buckets, values, labels };
}

/**
 * Fits one-vs-rest logistic regression for every category at once over shared hashed
 * features, with AdaGrad and an L2 penalty applied to the weights a step touches.
 * Deterministic: the example order comes from a seeded PRNG and all arithmetic is IEEE
 * double in a fixed order, so the same inputs give bit-identical weights.
 */
function fitWeights(
  set: SparseSet,
  rows: Int32Array,
  C: number,
  bucketCount: number,
  opts: Required<TrainOptions>,
): { weights: Float64Array; bias: Float64Array } {
  const N = rows.length;
  // Weights and AdaGrad accumulators interleaved per bucket ([w × C, g² × C]), so one
  // feature touches two adjacent cache lines instead of two far-apart ones.
  const stride = 2 * C;
  const state = new Float64Array(bucketCount * stride);
  const bias = new Float64Array(C);
  const biasG2 = new Float64Array(C);
  const grad = new Float64Array(C);
  const order = Int32Array.from(rows);
  const random = mulberry32(opts.seed);
  const { learningRate: lr, l2, positiveWeight } = opts;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = N - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let k = 0; k < N; k++) {
      const ex = order[k]!;
      const from = set.offsets[ex]!;
      const to = set.offsets[ex + 1]!;
      for (let c = 0; c < C; c++) grad[c] = bias[c]!;
      for (let f = from; f < to; f++) {
        const base = set.buckets[f]! * stride;
        const v = set.values[f]!;
        for (let c = 0; c < C; c++) grad[c]! += v * state[base + c]!;
      }
      for (let c = 0; c < C; c++) {
        const y = set.labels[ex * C + c]!;
        if (y === UNKNOWN) {
          grad[c] = 0;
          continue;
        }
        const p = 1 / (1 + Math.exp(-grad[c]!));
        const g = y === 1 ? (p - 1) * positiveWeight : p;
        // A well-classified example moves nothing worth its memory traffic.
        grad[c] = Math.abs(g) < SKIP_GRADIENT ? 0 : g;
        const gb = grad[c]!;
        biasG2[c]! += gb * gb;
        bias[c]! -= (lr * gb) / (Math.sqrt(biasG2[c]!) + 1e-8);
      }
      for (let f = from; f < to; f++) {
        const base = set.buckets[f]! * stride;
        const v = set.values[f]!;
        for (let c = 0; c < C; c++) {
          const d = grad[c]!;
          if (d === 0) continue;
          const w = base + c;
          const g = d * v + l2 * state[w]!;
          state[w + C]! += g * g;
          state[w]! -= (lr * g) / (Math.sqrt(state[w + C]!) + 1e-8);
        }
      }
    }
  }
  const weights = new Float64Array(bucketCount * C);
  for (let b = 0; b < bucketCount; b++) {
    for (let c = 0; c < C; c++) weights[b * C + c] = state[b * stride + c]!;
  }
  return { weights, bias };
}

/** Raw logits of rows of a sparse set under float weights, row-major (rows × C). */
function sparseLogits(set: SparseSet, rows: Int32Array, C: number, fit: { weights: Float64Array; bias: Float64Array }) {
  const out = new Float64Array(rows.length * C);
  rows.forEach((ex, r) => {
    for (let c = 0; c < C; c++) out[r * C + c] = fit.bias[c]!;
    for (let f = set.offsets[ex]!; f < set.offsets[ex + 1]!; f++) {
      const base = set.buckets[f]! * C;
      const v = set.values[f]!;
      for (let c = 0; c < C; c++) out[r * C + c]! += v * fit.weights[base + c]!;
    }
  });
  return out;
}

/**
 * The cross-fitting fold of an example, from FNV-1a (seeded) of its split key (group
 * or text) with the seed, so one template's expansions share a fold like they share a split.
 */
function foldOf(ex: LabelledExample, folds: number, seed: number): number {
  const key = ex.group ? `group:${ex.group}` : `text:${ex.text}`;
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % folds;
}

/**
 * Trains a model on `examples` (the corpus's train split, plus any extra labelled
 * examples such as moderator decisions): weights on all of them, and calibration and
 * thresholds on held-out scores from K-fold cross-fitting — each example is scored by a
 * model that did not see its fold (nor any example of its template), Platt scaling is
 * fitted on those scores and the per-category thresholds are chosen on the calibrated
 * ones. Same examples and options → byte-identical model file.
 */
export function trainTextModel(examples: readonly LabelledExample[], options: TrainOptions = {}): TrainedTextModel {
  const opts: Required<TrainOptions> = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const categories = opts.categories;
  const C = categories.length;
  if (C === 0 || C > 255) throw new RangeError('a model needs 1..255 categories');
  if (examples.length === 0) throw new RangeError('no training examples');
  if (!Number.isInteger(opts.folds) || opts.folds < 2) throw new RangeError('folds must be an integer >= 2');
  const featurizer = new Featurizer(opts.feature);
  const bucketCount = 2 ** opts.feature.bucketBits;
  const set = sparsify(examples, categories, featurizer);
  const N = examples.length;
  // Augmented examples are in every fold's training part and in no held-out part.
  const fold = Int32Array.from(examples, (ex) => (ex.augmented ? -1 : foldOf(ex, opts.folds, opts.seed)));

  // Held-out raw scores of every example, from the model trained without its fold.
  const heldOut = new Float64Array(N * C);
  for (let k = 0; k < opts.folds; k++) {
    const inside: number[] = [];
    const outside: number[] = [];
    fold.forEach((f, i) => {
      (f === k ? outside : inside).push(i);
    });
    if (inside.length === 0 || outside.length === 0) continue;
    const rows = Int32Array.from(outside);
    const logits = sparseLogits(set, rows, C, fitWeights(set, Int32Array.from(inside), C, bucketCount, opts));
    rows.forEach((ex, r) => {
      heldOut.set(logits.subarray(r * C, (r + 1) * C), ex * C);
    });
  }
  const all = Int32Array.from({ length: N }, (_, i) => i);
  const { weights, bias } = fitWeights(set, all, C, bucketCount, opts);
  const quantised = quantiseWeights(weights, C);

  const platt: PlattParameters[] = [];
  const thresholds: number[] = [];
  const cv: Partial<Record<CategoryCode, CategoryMetrics>> = {};
  categories.forEach((category, c) => {
    const z: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < N; i++) {
      const label = set.labels[i * C + c]!;
      if (label === UNKNOWN || fold[i] === -1) continue;
      z.push(heldOut[i * C + c]!);
      y.push(label);
    }
    const fitted = fitPlatt(z, y);
    const p = { a: Math.fround(fitted.a), b: Math.fround(fitted.b) };
    platt.push(p);
    const probs = z.map((v) => 1 / (1 + Math.exp(-(p.a * v + p.b))));
    const threshold = Math.fround(chooseThreshold(probs, y));
    thresholds.push(threshold);
    cv[category] = binaryMetrics(
      probs.map((q) => q >= threshold),
      y,
    );
  });
  const cvF1 = categories.reduce((sum, c) => sum + cv[c]!.f1, 0) / C;
  const bytes = encodeModel({
    feature: opts.feature,
    weights: quantised,
    categories: categories.map(
      (code, c): ModelCategoryParameters => ({
        code,
        bias: bias[c]!,
        plattA: platt[c]!.a,
        plattB: platt[c]!.b,
        threshold: thresholds[c]!,
      }),
    ),
  });
  return {
    model: textModelFromBytes(bytes),
    bytes,
    calibration: Object.fromEntries(categories.map((c, i) => [c, platt[i]!])),
    thresholds: Object.fromEntries(categories.map((c, i) => [c, thresholds[i]!])),
    options: opts,
    crossValidation: { perCategory: cv, macroF1: Math.round(cvF1 * 10000) / 10000 },
  };
}
