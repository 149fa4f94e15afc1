import { MAX_NORMALISED_CHARS, TextNormalizer } from './text-normalizer.js';

/**
 * Feature hashing ("the hashing trick", Weinberger et al. 2009) over normalised text:
 * character 3- to 5-grams (across word boundaries, with the space) and word unigrams
 * and bigrams. Each feature is hashed with 32-bit FNV-1a (Fowler, Noll and Vo; public
 * domain, http://www.isthe.com/chongo/tech/comp/fnv/) over its UTF-16 code units, then
 * mixed with MurmurHash3's `fmix32` finaliser (Austin Appleby, public domain) because
 * FNV-1a's low bits are weak. The top bits pick the bucket; the lowest bit picks a ±1
 * sign, so colliding features tend to cancel instead of adding up.
 *
 * Extraction writes into preallocated typed arrays: no allocation per message.
 */

export interface FeatureConfig {
  /** log2 of the number of buckets. */
  readonly bucketBits: number;
  readonly charMin: number;
  readonly charMax: number;
  /**
   * Character n-grams come from the first `charWindow` normalised code units only; word
   * features from the whole (truncated) text. A 4 KB post then costs about a third of
   * what it would, and chat lines (nearly all shorter) are unaffected.
   */
  readonly charWindow: number;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = Object.freeze({
  bucketBits: 18,
  charMin: 3,
  charMax: 5,
  charWindow: 1024,
});

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Distinct starting states keep a word and a char n-gram with the same letters apart.
const CHAR_SEED = FNV_OFFSET;
const WORD_SEED = (FNV_OFFSET ^ 0x5bd1e995) >>> 0;
const BIGRAM_SEED = 0x27d4eb2f;

/** MurmurHash3 fmix32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Featurizer {
  readonly normalizer = new TextNormalizer();
  /** Bucket of each extracted feature; valid up to the count returned by {@link extract}. */
  readonly buckets: Int32Array;
  /** ±1 sign of each extracted feature (integers: no int-to-float conversion per feature). */
  readonly signs: Int32Array;
  private readonly shift: number;

  constructor(readonly config: FeatureConfig = DEFAULT_FEATURE_CONFIG) {
    if (!Number.isInteger(config.bucketBits) || config.bucketBits < 8 || config.bucketBits > 24) {
      throw new RangeError(`bucketBits must be an integer in 8..24, got ${config.bucketBits}`);
    }
    if (!(config.charMin >= 1 && config.charMin <= config.charMax && config.charMax <= 8)) {
      throw new RangeError('character n-gram range must satisfy 1 <= charMin <= charMax <= 8');
    }
    if (!Number.isInteger(config.charWindow) || config.charWindow < 16) {
      throw new RangeError('charWindow must be an integer >= 16');
    }
    this.shift = 32 - config.bucketBits;
    // Per position: one feature per n-gram length; words add at most one unigram and
    // one bigram per two positions (a token and its separating space).
    const capacity = (MAX_NORMALISED_CHARS + 2) * (config.charMax - config.charMin + 2);
    this.buckets = new Int32Array(capacity);
    this.signs = new Int32Array(capacity);
  }

  /** Extracts the hashed features of `text`; returns how many were written. */
  extract(text: string): number {
    const len = this.normalizer.normalize(text);
    const s = this.normalizer.out;
    const buckets = this.buckets;
    const signs = this.signs;
    const shift = this.shift;
    const { charMin, charMax } = this.config;
    let n = 0;
    if (len <= 1) return 0;
    // Character n-grams, extended one code unit at a time from each start.
    const charEnd = Math.min(len, this.config.charWindow);
    for (let i = 0; i + charMin <= charEnd; i++) {
      let h = CHAR_SEED;
      const stop = Math.min(i + charMax, charEnd);
      for (let j = i; j < stop; j++) {
        h = Math.imul(h ^ s[j]!, FNV_PRIME);
        if (j - i + 1 >= charMin) {
          const m = fmix32(h);
          buckets[n] = m >>> shift;
          signs[n] = ((m & 1) << 1) - 1;
          n++;
        }
      }
    }
    // Word unigrams and bigrams (tokens are separated by exactly one space).
    let prev = 0;
    let hasPrev = false;
    let h = WORD_SEED;
    let inWord = false;
    for (let i = 1; i < len; i++) {
      const c = s[i]!;
      if (c !== 0x20) {
        h = Math.imul(h ^ c, FNV_PRIME);
        inWord = true;
        continue;
      }
      if (!inWord) continue;
      const m = fmix32(h);
      buckets[n] = m >>> shift;
      signs[n] = ((m & 1) << 1) - 1;
      n++;
      if (hasPrev) {
        const b = fmix32(Math.imul(prev ^ BIGRAM_SEED, FNV_PRIME) ^ h);
        buckets[n] = b >>> shift;
        signs[n] = ((b & 1) << 1) - 1;
        n++;
      }
      prev = h;
      hasPrev = true;
      h = WORD_SEED;
      inWord = false;
    }
    return n;
  }
}
