import crypto from 'node:crypto';
import type { FeatureConfig } from './feature-hashing.js';
import { MAX_INPUT_CHARS } from './text-normalizer.js';

/**
 * The binary model file (`models/text-linear-v1.bin`). Everything that changes a verdict
 * is inside it (features, weights, biases, calibration, thresholds), so its SHA-256 is
 * the model version recorded with every verdict. Little-endian throughout:
 *
 * ```
 * offset  size        field
 * 0       8           magic "CUSTOSTL"
 * 8       2           format version (1)
 * 10      2           normaliser version: bumped whenever text-normalizer.ts changes output
 * 12      1           bucket bits (buckets = 2^bits)
 * 13      1           char n-gram min
 * 14      1           char n-gram max
 * 15      1           category count C
 * 16      4           max input chars (u32; the inference truncation the model was trained with)
 * 20      4           char n-gram window (u32; char n-grams from this many normalised code units)
 * 24      32 × C      category codes, ASCII, zero-padded
 * ..      20 × C      per category, f32: weight scale, bias, Platt a, Platt b, threshold
 * ..      2 × B × C   weights, i16, bucket-major (bucket b, category c at b*C + c);
 *                     weight = i16 × that category's weight scale
 * ..      32          SHA-256 of all preceding bytes (detects truncation and corruption)
 * ```
 */

export const MODEL_MAGIC = 'CUSTOSTL';
export const MODEL_FORMAT_VERSION = 1;
/** Bump when the normaliser's output changes: old models then refuse to load. */
export const NORMALIZER_VERSION = 1;
const CATEGORY_NAME_BYTES = 32;
const HEADER_BYTES = 24;
const PER_CATEGORY_FLOATS = 5;

export type TextModelErrorCode = 'model_missing' | 'model_corrupt' | 'model_incompatible';

/**
 * The model file is missing, damaged or from an incompatible build. The message names
 * the file and the problem; a caller at start-up turns it into a refusal to start.
 */
export class TextModelError extends Error {
  constructor(
    readonly code: TextModelErrorCode,
    readonly file: string,
    problem: string,
  ) {
    super(`text model ${file}: ${problem}`);
    this.name = 'TextModelError';
  }
}

export interface ModelCategoryParameters {
  readonly code: string;
  readonly bias: number;
  readonly plattA: number;
  readonly plattB: number;
  readonly threshold: number;
}

export interface ModelParameters {
  readonly feature: FeatureConfig;
  readonly maxInputChars: number;
  readonly categories: readonly ModelCategoryParameters[];
  /** Quantised weights, bucket-major: weight of (bucket, c) = `weights[bucket * C + c] * scales[c]`. */
  readonly weights: Int16Array;
  readonly scales: Float64Array;
}

export interface QuantisedWeights {
  /** i16 values, bucket-major. */
  readonly values: Int16Array;
  /** One scale per category. */
  readonly scales: Float32Array;
}

/** Rounds weights to i16 with one scale per category (max |w| maps to 32767). */
export function quantiseWeights(weights: Float64Array, categoryCount: number): QuantisedWeights {
  const scales = new Float32Array(categoryCount);
  for (let c = 0; c < categoryCount; c++) {
    let max = 0;
    for (let i = c; i < weights.length; i += categoryCount) max = Math.max(max, Math.abs(weights[i]!));
    scales[c] = max > 0 ? max / 32767 : 1;
  }
  const values = new Int16Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    const q = Math.round(weights[i]! / scales[i % categoryCount]!);
    values[i] = Math.max(-32767, Math.min(32767, q));
  }
  return { values, scales };
}

/** Serialises a model; the output is a pure function of the inputs (byte-identical). */
export function encodeModel(input: {
  feature: FeatureConfig;
  categories: readonly ModelCategoryParameters[];
  weights: QuantisedWeights;
}): Buffer {
  const C = input.categories.length;
  const B = 2 ** input.feature.bucketBits;
  if (input.weights.values.length !== B * C) throw new RangeError('weights do not match buckets × categories');
  const bodyBytes = HEADER_BYTES + C * CATEGORY_NAME_BYTES + C * PER_CATEGORY_FLOATS * 4 + B * C * 2;
  const buf = Buffer.alloc(bodyBytes + 32);
  buf.write(MODEL_MAGIC, 0, 'latin1');
  buf.writeUInt16LE(MODEL_FORMAT_VERSION, 8);
  buf.writeUInt16LE(NORMALIZER_VERSION, 10);
  buf.writeUInt8(input.feature.bucketBits, 12);
  buf.writeUInt8(input.feature.charMin, 13);
  buf.writeUInt8(input.feature.charMax, 14);
  buf.writeUInt8(C, 15);
  buf.writeUInt32LE(MAX_INPUT_CHARS, 16);
  buf.writeUInt32LE(input.feature.charWindow, 20);
  let o = HEADER_BYTES;
  for (const cat of input.categories) {
    if (!/^[a-z_]{1,31}$/.test(cat.code)) throw new RangeError(`bad category code ${cat.code}`);
    buf.write(cat.code, o, 'latin1');
    o += CATEGORY_NAME_BYTES;
  }
  input.categories.forEach((cat, c) => {
    buf.writeFloatLE(input.weights.scales[c]!, o);
    buf.writeFloatLE(cat.bias, o + 4);
    buf.writeFloatLE(cat.plattA, o + 8);
    buf.writeFloatLE(cat.plattB, o + 12);
    buf.writeFloatLE(cat.threshold, o + 16);
    o += PER_CATEGORY_FLOATS * 4;
  });
  const values = input.weights.values;
  for (let i = 0; i < values.length; i++, o += 2) buf.writeInt16LE(values[i]!, o);
  crypto.createHash('sha256').update(buf.subarray(0, bodyBytes)).digest().copy(buf, bodyBytes);
  return buf;
}

/** `sha256:<hex>` of the whole file: the model version. */
export function modelVersion(bytes: Uint8Array): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

/** Parses and validates a model file's bytes; throws {@link TextModelError}. */
export function decodeModel(bytes: Buffer, file: string): ModelParameters {
  const corrupt = (problem: string) => new TextModelError('model_corrupt', file, problem);
  if (bytes.length < HEADER_BYTES + 32) throw corrupt(`is too short (${bytes.length} bytes) to be a model`);
  if (bytes.toString('latin1', 0, 8) !== MODEL_MAGIC) throw corrupt('is not a Custos text model (bad magic)');
  const format = bytes.readUInt16LE(8);
  if (format !== MODEL_FORMAT_VERSION) {
    throw new TextModelError(
      'model_incompatible',
      file,
      `has format ${format}; this build reads ${MODEL_FORMAT_VERSION}`,
    );
  }
  const normalizer = bytes.readUInt16LE(10);
  if (normalizer !== NORMALIZER_VERSION) {
    throw new TextModelError(
      'model_incompatible',
      file,
      `was trained with normaliser ${normalizer}; this build has ${NORMALIZER_VERSION} (retrain: custos model train)`,
    );
  }
  const bucketBits = bytes.readUInt8(12);
  const charMin = bytes.readUInt8(13);
  const charMax = bytes.readUInt8(14);
  const C = bytes.readUInt8(15);
  const maxInputChars = bytes.readUInt32LE(16);
  const charWindow = bytes.readUInt32LE(20);
  if (
    bucketBits < 8 ||
    bucketBits > 24 ||
    charMin < 1 ||
    charMin > charMax ||
    charMax > 8 ||
    C < 1 ||
    charWindow < 16
  ) {
    throw corrupt('has an impossible header');
  }
  if (maxInputChars !== MAX_INPUT_CHARS) {
    throw new TextModelError('model_incompatible', file, `was trained on ${maxInputChars}-char inputs`);
  }
  const B = 2 ** bucketBits;
  const bodyBytes = HEADER_BYTES + C * CATEGORY_NAME_BYTES + C * PER_CATEGORY_FLOATS * 4 + B * C * 2;
  if (bytes.length !== bodyBytes + 32) {
    throw corrupt(`has ${bytes.length} bytes; its header implies ${bodyBytes + 32} (truncated or padded)`);
  }
  const digest = crypto.createHash('sha256').update(bytes.subarray(0, bodyBytes)).digest();
  if (!digest.equals(bytes.subarray(bodyBytes))) throw corrupt('fails its SHA-256 check (damaged)');
  let o = HEADER_BYTES;
  const codes: string[] = [];
  for (let c = 0; c < C; c++, o += CATEGORY_NAME_BYTES) {
    const raw = bytes.toString('latin1', o, o + CATEGORY_NAME_BYTES);
    const code = raw.replace(/\0+$/, '');
    if (!/^[a-z_]{1,31}$/.test(code)) throw corrupt(`has a malformed category name at index ${c}`);
    codes.push(code);
  }
  if (new Set(codes).size !== codes.length) throw corrupt('names a category twice');
  const scales: number[] = [];
  const categories: ModelCategoryParameters[] = [];
  for (let c = 0; c < C; c++, o += PER_CATEGORY_FLOATS * 4) {
    const [scale, bias, plattA, plattB, threshold] = [0, 4, 8, 12, 16].map((d) => bytes.readFloatLE(o + d)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    if (![scale, bias, plattA, plattB, threshold].every(Number.isFinite) || scale <= 0) {
      throw corrupt(`has non-finite parameters for ${codes[c]}`);
    }
    if (plattA <= 0) throw corrupt(`has a non-monotone calibration for ${codes[c]}`);
    if (!(threshold > 0 && threshold < 1)) throw corrupt(`has a threshold outside (0, 1) for ${codes[c]}`);
    scales.push(scale);
    categories.push({ code: codes[c]!, bias, plattA, plattB, threshold });
  }
  // Kept as i16 (half the memory of f32, so more of it stays in cache); copied out because
  // the file's buffer need not be 2-byte aligned.
  const weights = new Int16Array(B * C);
  for (let i = 0; i < weights.length; i++, o += 2) weights[i] = bytes.readInt16LE(o);
  return {
    feature: { bucketBits, charMin, charMax, charWindow },
    maxInputChars,
    categories,
    weights,
    scales: Float64Array.from(scales),
  };
}
