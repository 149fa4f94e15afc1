/**
 * PDQ perceptual image hashing, written from the published algorithm: Meta's
 * "The TMK+PDQF Video-Hashing Algorithm and the PDQ Image Similarity Algorithm"
 * (pdqhash-2017-10-09.pdf, facebook/ThreatExchange, folder `pdq`), following the
 * structure of its reference C++ hasher (`pdq/cpp/hashing`, `pdq/cpp/downscaling`):
 *
 * 1. luminance Y = 0.299 R + 0.587 G + 0.114 B, as floats;
 * 2. a Jarosz filter: two passes of a 1-D box filter along rows then columns
 *    (a box convolved with itself is a tent), window ceil(dimension / 128);
 * 3. decimation to 64×64 by sampling at the centres ((i + 0.5) · dimension / 64);
 * 4. a quality score from the 64×64 image's gradients;
 * 5. the DCT-II basis rows 1..16 (the DC row skipped) applied on both sides: 16×16;
 * 6. one bit per coefficient: set when it is above the median of the 256.
 *
 * Two more things the reference tool does around the hash are here too, because
 * computing them together is much cheaper: its reduction of an image with a side
 * over 512 px to 512×512 by nearest neighbour (`PdqHasher.fromImage`), and the
 * hashes of the picture's eight rotations and flips (dihedral variants), either
 * exactly as the tool would hash a file holding each of them (`fromImage` with
 * eight orientations), or from the one 16×16 DCT as the reference library's
 * pdqDihedralHash256es does (`dihedral*`): flipping an axis multiplies the
 * coefficient of frequency k along it by (−1)^k and a transposition swaps the
 * indices. The reference's sampling is not symmetric (the nearest-neighbour grid is
 * anchored at the top left, even box windows reach one further ahead, the decimation
 * points sit off centre), so the DCT shortcut lands 0–18 bits from the hash of the
 * actually rotated file on the reference test images; the exact way lands on it.
 *
 * Pure arithmetic on pixel buffers; decoding lives in decode.ts.
 */
import { type Orientation, composeOrientations, isOrientation, storedAxes } from './orientation.js';

/** Bytes in a PDQ hash. */
export const PDQ_HASH_BYTES = 32;
/** Hex digits in a formatted PDQ hash. */
export const PDQ_HEX_LENGTH = 64;
/** The published guidance: hashes below this quality are too featureless to match on. */
export const PDQ_MIN_USEFUL_QUALITY = 50;

/** Images narrower or shorter than this hash to all zeros with quality 0, as in the reference. */
const MIN_HASHABLE_DIM = 5;
/** The reference tool reduces images with a side over this to this × this. */
export const REFERENCE_REDUCED_SIDE = 512;

/** Luminance as the reference computes it (ITU-R BT.601 weights). */
const lumaOf = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/**
 * A 256-bit PDQ hash: 32 bytes in the order of its 64-digit hex form (byte 0 is the
 * first two hex digits). The reference prints its sixteen 16-bit words from the
 * highest to the lowest, and bit `k` of the hash (DCT row k >> 4, column k & 15) is
 * bit `k & 15` of word `k >> 4`.
 */
export type PdqHash = Uint8Array;

export interface PdqResult {
  hash: PdqHash;
  /** 0..100; the reference's gradient heuristic (below 50: featureless, do not match on it). */
  quality: number;
}

/** The names of the eight dihedral variants, as the reference names them. */
export const DIHEDRAL_VARIANTS = [
  'original',
  'rotate90',
  'rotate180',
  'rotate270',
  'flipX',
  'flipY',
  'flipPlus1',
  'flipMinus1',
] as const;
export type DihedralVariant = (typeof DIHEDRAL_VARIANTS)[number];

export interface PdqDihedralResult {
  hashes: Record<DihedralVariant, PdqHash>;
  quality: number;
}

/** Row-major 8-bit pixels: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) channels; alpha is ignored. */
export interface PixelImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * The EXIF orientation that performs each variant on an upright picture, as the
 * reference names them and its test images show (`bridge-2-rotate-90` …): its
 * rotate90 turns the picture a quarter anticlockwise, flipX flips it top to bottom,
 * flipPlus1 transposes it.
 */
export const DIHEDRAL_ORIENTATION: Readonly<Record<DihedralVariant, Orientation>> = Object.freeze({
  original: 1,
  rotate90: 8,
  rotate180: 3,
  rotate270: 6,
  flipX: 4,
  flipY: 2,
  flipPlus1: 5,
  flipMinus1: 7,
});

/**
 * How each variant's 16×16 DCT derives from the original's: whether the indices are
 * swapped, and which coefficients change sign. Index i stands for frequency i + 1, so
 * an even index is an odd frequency, the one a flip along that axis negates.
 * (The reference's dct16OriginalTo* functions; checked against its rotated and flipped
 * test images in test/pdq.test.ts.)
 */
const DIHEDRAL_RULES: Record<DihedralVariant, { transpose: boolean; negate: (i: number, j: number) => boolean }> = {
  original: { transpose: false, negate: () => false },
  rotate90: { transpose: true, negate: (_i, j) => (j & 1) === 0 },
  rotate180: { transpose: false, negate: (i, j) => ((i + j) & 1) === 1 },
  rotate270: { transpose: true, negate: (i) => (i & 1) === 0 },
  flipX: { transpose: false, negate: (i) => (i & 1) === 0 },
  flipY: { transpose: false, negate: (_i, j) => (j & 1) === 0 },
  flipPlus1: { transpose: true, negate: () => false },
  flipMinus1: { transpose: true, negate: (i, j) => ((i + j) & 1) === 1 },
};

/** The 16×64 DCT-II basis, rows for frequencies 1..16: sqrt(2/64) · cos(π/128 · (i+1) · (2j+1)). */
const DCT_16x64 = (() => {
  const m = new Float64Array(16 * 64);
  const scale = Math.sqrt(2 / 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) m[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return m;
})();

/**
 * A PDQ hasher with its working buffers allocated once and grown as needed, so a
 * stream of images allocates little beyond the 32-byte results. Not re-entrant:
 * hashing is synchronous, so one per process will do.
 */
export class PdqHasher {
  /** Per stored-axis direction (0 forward, 1 reversed): 64 column samples of every needed row. */
  private readonly rowSamples = [new Float64Array(0), new Float64Array(0)];
  private neededRows = new Uint8Array(0);
  /** Per direction combination (rows reversed · 2 + columns reversed): the 64×64 buffer and its DCT. */
  private readonly grids = [0, 1, 2, 3].map(() => new Float64Array(64 * 64));
  private readonly dcts = [0, 1, 2, 3].map(() => new Float64Array(16 * 16));
  private readonly qualities = new Int32Array(4);
  private readonly buf16x64 = new Float64Array(16 * 64);
  private readonly aux16 = new Float64Array(16 * 16);
  private readonly sorted = new Float64Array(16 * 16);

  /** PDQ of a row-major luminance buffer (values 0..255), as is (no reduction); `luma` is only read. */
  fromLuma(luma: Float32Array, width: number, height: number): PdqResult {
    checkSize(width, height, luma.length, 1);
    const [dct] = this.transform({ luma, width, height }, [1], Number.POSITIVE_INFINITY);
    return { hash: this.bits(dct!.dct), quality: dct!.quality };
  }

  /** PDQ of 8-bit pixels (1 to 4 channels, alpha ignored), as they are (no reduction). */
  fromPixels(pixels: Uint8Array, width: number, height: number, channels: number): PdqResult {
    const [r] = this.fromImage({ data: pixels, width, height, channels }, [1], Number.POSITIVE_INFINITY);
    return r!;
  }

  /**
   * PDQ of `image` in each of `orientations` (EXIF codes; 1 is the image as it is),
   * as the reference tool hashes a file holding the picture that way: when a side is
   * over `reduceAbove` (512), reduced to reduceAbove × reduceAbove by nearest
   * neighbour, output x taking input pixel floor(x · width / 512) (CImg's default
   * resize), then hashed. All orientations come from one pass over the pixels: the
   * reduction, the filter and the decimation act on rows and columns separately, so
   * every orientation is one of four direction combinations, possibly transposed.
   */
  fromImage(image: PixelImage, orientations: readonly number[], reduceAbove = REFERENCE_REDUCED_SIDE): PdqResult[] {
    checkImage(image);
    return this.transform(image, orientations, reduceAbove).map(({ dct, quality }) => ({
      hash: this.bits(dct),
      quality,
    }));
  }

  /**
   * The eight variants from the one DCT of `image` in `orientation` (reduced as in
   * fromImage): the reference library's cheap way; see the module comment for how far
   * it lands from the exact hashes.
   */
  dihedralFromImage(
    image: PixelImage,
    orientation: number = 1,
    reduceAbove = REFERENCE_REDUCED_SIDE,
  ): PdqDihedralResult {
    checkImage(image);
    const [r] = this.transform(image, [orientation], reduceAbove);
    return { hashes: this.dihedralBits(r!.dct), quality: r!.quality };
  }

  /** The eight variants from the one DCT of a luminance buffer (no reduction). */
  dihedralFromLuma(luma: Float32Array, width: number, height: number): PdqDihedralResult {
    checkSize(width, height, luma.length, 1);
    const [r] = this.transform({ luma, width, height }, [1], Number.POSITIVE_INFINITY);
    return { hashes: this.dihedralBits(r!.dct), quality: r!.quality };
  }

  /**
   * The 16×16 DCT and quality of the source in each orientation. A returned DCT may be
   * one of this hasher's buffers: read it before the next call.
   */
  private transform(
    source: PixelImage | { luma: Float32Array; width: number; height: number },
    orientations: readonly number[],
    reduceAbove: number,
  ): Array<{ dct: Float64Array; quality: number }> {
    const { width, height } = source;
    const reduce = width > reduceAbove || height > reduceAbove;
    const across = reduce ? reduceAbove : width;
    const down = reduce ? reduceAbove : height;
    const wanted = orientations.map((o) => {
      if (!isOrientation(o)) throw new RangeError(`PDQ: an orientation is an EXIF code 1 to 8, got ${o}`);
      const axes = storedAxes(o);
      return { combo: (axes.reverseRows ? 2 : 0) | (axes.reverseColumns ? 1 : 0), transposed: axes.transposed };
    });
    if (across < MIN_HASHABLE_DIM || down < MIN_HASHABLE_DIM) {
      return wanted.map(() => ({ dct: new Float64Array(256), quality: 0 }));
    }

    const combos = new Set(wanted.map((w) => w.combo));
    const columnPlans: Array<AxisPlan | undefined> = [undefined, undefined];
    const rowPlans: Array<AxisPlan | undefined> = [undefined, undefined];
    for (const c of combos) {
      columnPlans[c & 1] ??= axisPlan(width, across, (c & 1) === 1);
      rowPlans[c >> 1] ??= axisPlan(height, down, c >> 1 === 1);
    }

    // Which stored rows any row sample reads.
    if (this.neededRows.length < height) this.neededRows = new Uint8Array(height);
    const needed = this.neededRows;
    needed.fill(0, 0, height);
    for (const plan of rowPlans) if (plan) for (const r of plan.index) needed[r] = 1;

    // Along each needed row: the 64 column samples, per column direction.
    for (let dir = 0; dir < 2; dir++) {
      const plan = columnPlans[dir];
      if (!plan) continue;
      if (this.rowSamples[dir]!.length < height * 64) this.rowSamples[dir] = new Float64Array(height * 64);
      const out = this.rowSamples[dir]!;
      if ('luma' in source) sampleLumaRows(source.luma, width, height, needed, plan, out);
      else sampleRows(source, needed, plan, out);
    }

    // Down the columns: the 64×64 grid per combination, its quality and its DCT.
    for (const c of combos) {
      const grid = this.grids[c]!;
      sampleColumns(this.rowSamples[c & 1]!, rowPlans[c >> 1]!, grid);
      this.qualities[c] = qualityOf(grid);
      dct64To16(grid, this.buf16x64, this.dcts[c]!);
    }

    return wanted.map(({ combo, transposed }) => {
      const dct = this.dcts[combo]!;
      // The DCT of a transposed grid is the transposed DCT (B = D·A·Dᵀ); the quality
      // heuristic sums both directions, so it is the same.
      return { dct: transposed ? transpose16(dct) : dct, quality: this.qualities[combo]! };
    });
  }

  private bits(dct: Float64Array): PdqHash {
    const sorted = this.sorted;
    sorted.set(dct);
    sorted.sort();
    // The lower median (the 128th smallest), as Torben's method in the reference returns.
    const median = sorted[127]!;
    const hash = new Uint8Array(PDQ_HASH_BYTES);
    for (let k = 0; k < 256; k++) {
      if (dct[k]! > median) hash[byteOfBit(k)]! |= 1 << (k & 7);
    }
    return hash;
  }

  private dihedralBits(a: Float64Array): Record<DihedralVariant, PdqHash> {
    const out = {} as Record<DihedralVariant, PdqHash>;
    const b = this.aux16;
    for (const variant of DIHEDRAL_VARIANTS) {
      const rule = DIHEDRAL_RULES[variant];
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < 16; j++) {
          const v = rule.negate(i, j) ? -a[i * 16 + j]! : a[i * 16 + j]!;
          b[rule.transpose ? j * 16 + i : i * 16 + j] = v;
        }
      }
      out[variant] = this.bits(b);
    }
    return out;
  }
}

function transpose16(a: Float64Array): Float64Array {
  const b = new Float64Array(256);
  for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) b[j * 16 + i] = a[i * 16 + j]!;
  return b;
}

/** The hash's byte holding bit k (see PdqHash for the layout). */
function byteOfBit(k: number): number {
  const word = k >> 4;
  // Word w is hex digits (15 - w) * 4 .. + 4, i.e. bytes 2(15 - w) (high) and 2(15 - w) + 1 (low).
  return 2 * (15 - word) + ((k & 15) < 8 ? 1 : 0);
}

function checkImage({ data, width, height, channels }: PixelImage): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new RangeError(`PDQ: channels must be 1 to 4, got ${channels}`);
  }
  checkSize(width, height, data.length, channels);
}

function checkSize(width: number, height: number, length: number, channels: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PDQ: width and height must be positive integers, got ${width}×${height}`);
  }
  if (length < width * height * channels) {
    throw new RangeError(`PDQ: buffer holds ${length} values, ${width}×${height}×${channels} needed`);
  }
}

/**
 * Fills `out` (row-major, width × height) with the luminance of 8-bit pixels; alpha,
 * if any, is ignored.
 */
export function lumaFromPixels(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  out: Float32Array = new Float32Array(width * height),
): Float32Array {
  const n = width * height;
  if (channels >= 3) {
    for (let p = 0, q = 0; p < n; p++, q += channels) {
      out[p] = lumaOf(pixels[q]!, pixels[q + 1]!, pixels[q + 2]!);
    }
  } else {
    for (let p = 0, q = 0; p < n; p++, q += channels) out[p] = pixels[q]!;
  }
  return out;
}

/** Box window per pass so that two passes cover about 1/64 of the dimension: ceil(n / 128). */
function jaroszWindow(dimension: number): number {
  return Math.floor((dimension + 2 * 64 - 1) / (2 * 64));
}

/**
 * One axis of the pipeline as 64 weighted sums of input samples: the reference
 * tool's nearest-neighbour reduction from n to m samples (none when m = n), read
 * forwards or backwards, then PDQ's Jarosz filter and decimation.
 *
 * The reference filters the whole (reduced) image with a box twice along rows and
 * twice along columns, then keeps the samples at floor((k + 0.5) · m / 64). Those
 * steps are linear and act on rows and columns separately, so each kept sample is a
 * fixed weighted sum along each axis: the box applied to the box (2 · ceil(m / 128) − 1
 * taps), each tap mapped back through the nearest-neighbour reduction. Computing only
 * those gives the reference's values (up to float rounding) for a fraction of the work.
 *
 * The box is the reference's: window w, h = floor((w + 2) / 2); output p is the mean
 * of inputs p − (w − h) … p + (h − 1) that exist (centred, one more ahead for an
 * even w, fewer at the ends).
 */
interface AxisPlan {
  /** Sample k's taps are index[offset[k]] … index[offset[k + 1] − 1], with their weights. */
  offset: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

const axisPlans = new Map<string, AxisPlan>();

function axisPlan(n: number, m: number, reversed: boolean): AxisPlan {
  const key = `${n}:${m}:${reversed ? 'r' : 'f'}`;
  let plan = axisPlans.get(key);
  if (plan) return plan;
  const w = jaroszWindow(m);
  const half = (w + 2) >> 1;
  const lo = (p: number) => Math.max(0, p - (w - half));
  const hi = (p: number) => Math.min(m - 1, p + half - 1);
  const source = (p: number) => {
    const s = m === n ? p : Math.floor((p * n) / m);
    return reversed ? n - 1 - s : s;
  };
  const offset = new Int32Array(65);
  const index: number[] = [];
  const weight: number[] = [];
  const span = new Float64Array(2 * w - 1);
  for (let k = 0; k < 64; k++) {
    const centre = Math.floor(((k + 0.5) * m) / 64);
    const first = lo(lo(centre));
    const last = hi(hi(centre));
    span.fill(0);
    // The outer box at the sample, the inner box at each position it averages.
    const outer = 1 / (hi(centre) - lo(centre) + 1);
    for (let q = lo(centre); q <= hi(centre); q++) {
      const inner = outer / (hi(q) - lo(q) + 1);
      for (let c = lo(q); c <= hi(q); c++) span[c - first]! += inner;
    }
    offset[k] = index.length;
    for (let p = first; p <= last; p++) {
      const s = source(p);
      // Reduction can read one input for several neighbouring positions: one tap.
      if (index.length > offset[k]! && index[index.length - 1] === s) weight[weight.length - 1]! += span[p - first]!;
      else {
        index.push(s);
        weight.push(span[p - first]!);
      }
    }
  }
  offset[64] = index.length;
  plan = { offset, index: Int32Array.from(index), weight: Float64Array.from(weight) };
  // A handful of shapes recur (512 above all); do not keep every size ever seen.
  if (axisPlans.size >= 64) axisPlans.clear();
  axisPlans.set(key, plan);
  return plan;
}

/** For each needed row of 8-bit pixels: the 64 samples along it, luminance computed as read. */
function sampleRows(image: PixelImage, needed: Uint8Array, plan: AxisPlan, out: Float64Array): void {
  const { data, width, height, channels } = image;
  const { offset, index, weight } = plan;
  const stride = width * channels;
  for (let r = 0; r < height; r++) {
    if (needed[r] === 0) continue;
    const base = r * stride;
    const o = r * 64;
    if (channels >= 3) {
      for (let k = 0; k < 64; k++) {
        let s = 0;
        for (let t = offset[k]!; t < offset[k + 1]!; t++) {
          const p = base + index[t]! * channels;
          s += weight[t]! * lumaOf(data[p]!, data[p + 1]!, data[p + 2]!);
        }
        out[o + k] = s;
      }
    } else {
      for (let k = 0; k < 64; k++) {
        let s = 0;
        for (let t = offset[k]!; t < offset[k + 1]!; t++) s += weight[t]! * data[base + index[t]! * channels]!;
        out[o + k] = s;
      }
    }
  }
}

/** As sampleRows, from a luminance buffer. */
function sampleLumaRows(
  luma: Float32Array,
  width: number,
  height: number,
  needed: Uint8Array,
  plan: AxisPlan,
  out: Float64Array,
): void {
  const { offset, index, weight } = plan;
  for (let r = 0; r < height; r++) {
    if (needed[r] === 0) continue;
    const base = r * width;
    for (let k = 0; k < 64; k++) {
      let s = 0;
      for (let t = offset[k]!; t < offset[k + 1]!; t++) s += weight[t]! * luma[base + index[t]!]!;
      out[r * 64 + k] = s;
    }
  }
}

/** Down the 64 sample columns: the 64×64 grid. */
function sampleColumns(rowSamples: Float64Array, plan: AxisPlan, grid: Float64Array): void {
  const { offset, index, weight } = plan;
  for (let i = 0; i < 64; i++) {
    const g = i * 64;
    grid.fill(0, g, g + 64);
    for (let t = offset[i]!; t < offset[i + 1]!; t++) {
      const w = weight[t]!;
      const src = index[t]! * 64;
      for (let j = 0; j < 64; j++) grid[g + j]! += w * rowSamples[src + j]!;
    }
  }
}

/**
 * The reference's heuristic: the sum over neighbouring pairs (down and right) of
 * |difference| as an integer percentage of 255, divided by 90, capped at 100.
 */
function qualityOf(b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) sum += Math.abs(Math.trunc(((b[i * 64 + j]! - b[(i + 1) * 64 + j]!) * 100) / 255));
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) sum += Math.abs(Math.trunc(((b[i * 64 + j]! - b[i * 64 + j + 1]!) * 100) / 255));
  }
  return Math.min(100, Math.floor(sum / 90));
}

/** B = D · A · Dᵀ with D the 16×64 basis: the 16×16 low frequencies (DC excluded). */
function dct64To16(a: Float64Array, t: Float64Array, b: Float64Array): void {
  const d = DCT_16x64;
  // T = D · A (16×64): T[i][j] = Σk D[i][k] A[k][j], accumulated row by row of A.
  t.fill(0);
  for (let i = 0; i < 16; i++) {
    const ti = i * 64;
    for (let k = 0; k < 64; k++) {
      const dik = d[i * 64 + k]!;
      const ak = k * 64;
      for (let j = 0; j < 64; j++) t[ti + j]! += dik * a[ak + j]!;
    }
  }
  // B = T · Dᵀ (16×16): B[i][j] = Σk T[i][k] D[j][k].
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let s = 0;
      for (let k = 0; k < 64; k++) s += t[i * 64 + k]! * d[j * 64 + k]!;
      b[i * 16 + j] = s;
    }
  }
}

let shared: PdqHasher | undefined;
function sharedHasher(): PdqHasher {
  shared ??= new PdqHasher();
  return shared;
}

/** The PDQ hash and quality of a row-major luminance buffer (0..255 values). */
export function pdqFromLuma(luma: Float32Array, width: number, height: number): PdqResult {
  return sharedHasher().fromLuma(luma, width, height);
}

/** The PDQ hash and quality of row-major 8-bit pixels (1 to 4 channels; alpha ignored), as they are. */
export function pdqFromPixels(pixels: Uint8Array, width: number, height: number, channels: number): PdqResult {
  return sharedHasher().fromPixels(pixels, width, height, channels);
}

/**
 * The PDQ hash of a decoded image as the reference tool computes it (reduced to
 * 512×512 by nearest neighbour when a side is over 512), in orientation
 * `orientation` (an EXIF code; 1 for the image as it is).
 */
export function pdqFromImage(image: PixelImage, orientation: number = 1): PdqResult {
  return sharedHasher().fromImage(image, [orientation])[0]!;
}

/**
 * The hashes of the eight rotations and flips of the image, computed from its one DCT
 * (no re-hashing of rotated pixels), with the (shared) quality.
 */
export function pdqDihedral(luma: Float32Array, width: number, height: number): PdqDihedralResult {
  return sharedHasher().dihedralFromLuma(luma, width, height);
}

/**
 * The eight variants of a decoded image's hash, each exactly as the reference tool
 * hashes a file holding the picture turned or flipped that way (reduction included).
 */
export function pdqDihedralFromImage(image: PixelImage, orientation: number = 1): PdqDihedralResult {
  if (!isOrientation(orientation)) {
    throw new RangeError(`PDQ: an orientation is an EXIF code 1 to 8, got ${orientation}`);
  }
  const results = sharedHasher().fromImage(
    image,
    DIHEDRAL_VARIANTS.map((v) => composeOrientations(orientation, DIHEDRAL_ORIENTATION[v])),
  );
  const hashes = {} as Record<DihedralVariant, PdqHash>;
  DIHEDRAL_VARIANTS.forEach((v, i) => {
    hashes[v] = results[i]!.hash;
  });
  return { hashes, quality: results[0]!.quality };
}

const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

/** The number of differing bits between two PDQ hashes (0..256). */
export function hammingDistance(a: PdqHash, b: PdqHash): number {
  if (a.length !== PDQ_HASH_BYTES || b.length !== PDQ_HASH_BYTES) {
    throw new RangeError(`PDQ: hashes are ${PDQ_HASH_BYTES} bytes, got ${a.length} and ${b.length}`);
  }
  let d = 0;
  for (let i = 0; i < PDQ_HASH_BYTES; i++) d += POPCOUNT[a[i]! ^ b[i]!]!;
  return d;
}

/** The reference's text form: 64 lower-case hex digits. */
export function formatPdqHex(hash: PdqHash): string {
  if (hash.length !== PDQ_HASH_BYTES) {
    throw new RangeError(`PDQ: a hash is ${PDQ_HASH_BYTES} bytes, got ${hash.length}`);
  }
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex');
}

const HEX_RE = /^[0-9a-fA-F]{64}$/;

/** Whether `text` is a PDQ hash in hex (exactly 64 hex digits, either case). */
export function isPdqHex(text: string): boolean {
  return HEX_RE.test(text);
}

/** Thrown by parsePdqHex for text that is not 64 hex digits. */
export class PdqHexError extends Error {
  constructor(readonly input: string) {
    super(
      `not a PDQ hash: expected 64 hex digits, got ${input.length > 80 ? `${input.slice(0, 80)}… (${input.length} characters)` : JSON.stringify(input)}`,
    );
    this.name = 'PdqHexError';
  }
}

/** Parses 64 hex digits (either case, no prefix or spaces) into a hash; PdqHexError otherwise. */
export function parsePdqHex(text: string): PdqHash {
  if (!HEX_RE.test(text)) throw new PdqHexError(text);
  return new Uint8Array(Buffer.from(text, 'hex'));
}
