/**
 * Exact nearest-match search over PDQ hash banks (256-bit hashes, Hamming distance).
 *
 * Multi-index hashing: Norouzi, Punjani, Fleet, "Fast Search in Hamming Space with
 * Multi-Index Hashing", CVPR 2012, with the tighter pigeonhole bound of their
 * journal version ("Fast Exact Search in Hamming Space with Multi-Index Hashing",
 * IEEE TPAMI 2014). The 256 bits are cut into 16 chunks of 16 bits; chunk k is
 * the high (k even) or low (k odd) half of word k/2, word 0 being the first 8 hex
 * digits. For a threshold t write t = 16·r + a (0 ≤ a < 16). If two hashes are at
 * most t apart, then one of chunks 0..a differs in at most r bits, or one of chunks
 * a+1..15 in at most r − 1 bits: otherwise the distance would be at least
 * (a+1)(r+1) + (15−a)·r = t + 1. So a search probes, in chunk k's table, every
 * value within `chunkRadius(t, k)` bits of the query's chunk, and checks each
 * entry found with the full 256-bit distance: it finds everything within t, and
 * returns nothing further. Radii of 0..3 bits cover t ≤ 63, the maximum
 * (MAX_PDQ_THRESHOLD); radius 3 is already 697 probes per chunk, and beyond it the
 * index would read about as many hashes as a linear scan.
 *
 * Layout (typed arrays only, nothing per entry on the JS heap):
 * - segments of up to 2^24 built entries: hashes (8 words each), ids (uint32) and
 *   banks (uint16), stored in the order of chunk 0, so chunk 0's table needs no
 *   posting list (a bucket is a range of slots); for chunks 1..15, compressed
 *   tables: 65,537 offsets and a posting list of 3-byte slot numbers each (hence
 *   2^24 entries a segment). 83 bytes per entry plus 4 MiB of offsets a segment.
 * - a delta: entries added since the last flush, unindexed, read linearly by
 *   every query. Adding takes effect at once; `maintain()` later indexes the delta
 *   as a segment of its own and merges small segments into larger ones, in time
 *   proportional to what changed (radix sorts, no comparisons); `rebuild()` redoes all.
 * - removal marks a built slot dead in a bitset (it goes when its segment is
 *   rewritten) or takes the entry out of the delta; disabling a bank acts through
 *   its threshold.
 *
 * Nearest means smallest distance, then lowest id, then lowest bank. While a
 * search runs, the best distance so far becomes the bound for the rest (radii
 * shrink with it and the search stays exact), so a near-duplicate stops it early.
 */

/** Words (uint32) in a PDQ hash. */
export const PDQ_WORDS = 8;
/** Threshold a bank gets unless it sets its own: PDQ's recommended match distance. */
export const DEFAULT_PDQ_THRESHOLD = 31;
/** The largest threshold the index is exact for (chunk radius 3); larger ones are refused. */
export const MAX_PDQ_THRESHOLD = 63;
/** Banks are numbered 0..MAX_PDQ_BANK. */
export const MAX_PDQ_BANK = 0xffff;
/** Entries a segment holds at most: its posting lists store 3-byte slot numbers. */
export const MAX_SEGMENT_ENTRIES = 1 << 24;

const CHUNKS = 16;
const CHUNK_VALUES = 1 << 16;
const TABLE = CHUNK_VALUES + 1;
const MAX_RADIUS = 3;
const POSTING_BYTES = 3;

/** A hash within the threshold of its bank: which entry, which bank, how many bits apart. */
export interface PdqMatch {
  id: number;
  bank: number;
  distance: number;
}

/** A hash as the index takes it: 8 words, 32 bytes (as src/images/pdq.ts holds it) or 64 hex digits. */
export type PdqHashInput = Uint32Array | Uint8Array | string;

/** Entries in flat arrays, as `linearScan` reads them: hash i is words 8i..8i+7. */
export interface PdqEntries {
  count: number;
  hashes: Uint32Array;
  ids: Uint32Array;
  banks: Uint16Array;
}

/** A hash that is not 64 hex digits, 32 bytes or 8 words. */
export class PdqHashFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PdqHashFormatError';
  }
}

/** A threshold that is not a whole number from 0 to MAX_PDQ_THRESHOLD. */
export class PdqThresholdError extends RangeError {
  constructor(readonly threshold: unknown) {
    super(
      `PDQ threshold must be a whole number from 0 to ${MAX_PDQ_THRESHOLD} (the largest the index searches exactly), got ${String(threshold)}`,
    );
    this.name = 'PdqThresholdError';
  }
}

const HEX = /^[0-9a-fA-F]{64}$/;

/** Parses 64 hex digits (either case) into 8 words, the first 8 digits being word 0; PdqHashFormatError otherwise. */
export function pdqWordsFromHex(hex: string): Uint32Array {
  if (typeof hex !== 'string' || !HEX.test(hex)) {
    const shown = typeof hex === 'string' ? JSON.stringify(hex.length > 80 ? `${hex.slice(0, 80)}…` : hex) : typeof hex;
    throw new PdqHashFormatError(`not a PDQ hash: expected 64 hex digits, got ${shown}`);
  }
  const words = new Uint32Array(PDQ_WORDS);
  for (let w = 0; w < PDQ_WORDS; w++) words[w] = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
  return words;
}

/** The 64 lower-case hex digits of a hash given as 8 words. */
export function pdqHexFromWords(words: Uint32Array): string {
  if (words.length !== PDQ_WORDS) throw new PdqHashFormatError(`a PDQ hash is 8 words, got ${words.length}`);
  let hex = '';
  for (let w = 0; w < PDQ_WORDS; w++) hex += words[w]!.toString(16).padStart(8, '0');
  return hex;
}

/** A hash as 8 words; a Uint32Array of 8 is returned as it is (not copied). */
export function toPdqWords(hash: PdqHashInput): Uint32Array {
  if (typeof hash === 'string') return pdqWordsFromHex(hash);
  if (hash instanceof Uint32Array) {
    if (hash.length !== PDQ_WORDS) throw new PdqHashFormatError(`a PDQ hash is 8 words, got ${hash.length}`);
    return hash;
  }
  if (hash instanceof Uint8Array) {
    if (hash.length !== PDQ_WORDS * 4) throw new PdqHashFormatError(`a PDQ hash is 32 bytes, got ${hash.length}`);
    const words = new Uint32Array(PDQ_WORDS);
    for (let w = 0; w < PDQ_WORDS; w++) {
      const b = w * 4;
      words[w] = ((hash[b]! << 24) | (hash[b + 1]! << 16) | (hash[b + 2]! << 8) | hash[b + 3]!) >>> 0;
    }
    return words;
  }
  throw new PdqHashFormatError('a PDQ hash is 64 hex digits, 32 bytes or 8 words');
}

/** Throws PdqThresholdError unless `threshold` is a whole number from 0 to MAX_PDQ_THRESHOLD. */
export function checkPdqThreshold(threshold: number): number {
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > MAX_PDQ_THRESHOLD) {
    throw new PdqThresholdError(threshold);
  }
  return threshold;
}

/**
 * The radius chunk k (0..15) is searched with for threshold t, by the pigeonhole
 * bound above; −1 means the chunk need not be searched. Over the 16 chunks,
 * Σ (radius + 1) = t + 1: the least that keeps the search exact. Never smaller for a
 * larger t, which lets a search shrink its radii as its bound shrinks.
 */
export function chunkRadius(threshold: number, chunk: number): number {
  const r = Math.floor(threshold / CHUNKS);
  return chunk <= threshold % CHUNKS ? r : r - 1;
}

// Population count in SWAR steps, kept apart so that words share the last ones:
// nibble counts of three words add without overflow (3 × 4 < 16), and a final
// multiply sums four byte counts as long as the total stays below 256 — so a full
// distance is summed in two parts of three and five words (at most 96 and 160).

/** Bits set in each nibble of x (0..4 per nibble). */
function nibbleCounts(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  return (x & 0x33333333) + ((x >>> 2) & 0x33333333);
}

/** Sums nibble counts into byte counts. */
function byteCounts(nibbles: number): number {
  return (nibbles & 0x0f0f0f0f) + ((nibbles >>> 4) & 0x0f0f0f0f);
}

/** Sums the four byte counts (the total must be below 256). */
function sumBytes(bytes: number): number {
  return Math.imul(bytes, 0x01010101) >>> 24;
}

/** Bits set in a uint32. */
function popcount32(x: number): number {
  return sumBytes(byteCounts(nibbleCounts(x)));
}

/** Distance over words a, b, c of the hash at `o` (0..96): the cheap first look at a candidate. */
function distance3(h: Uint32Array, o: number, a: number, qa: number, b: number, qb: number, c: number, qc: number) {
  return sumBytes(
    byteCounts(nibbleCounts(h[o + a]! ^ qa) + nibbleCounts(h[o + b]! ^ qb) + nibbleCounts(h[o + c]! ^ qc)),
  );
}

/** Full distance (0..256) between the hash at words o..o+7 of `h` and the query `q`. */
function distanceAt(h: Uint32Array, o: number, q: Uint32Array): number {
  return (
    sumBytes(
      byteCounts(nibbleCounts(h[o]! ^ q[0]!) + nibbleCounts(h[o + 1]! ^ q[1]!) + nibbleCounts(h[o + 2]! ^ q[2]!)),
    ) +
    sumBytes(
      byteCounts(nibbleCounts(h[o + 3]! ^ q[3]!) + nibbleCounts(h[o + 4]! ^ q[4]!) + nibbleCounts(h[o + 5]! ^ q[5]!)) +
        byteCounts(nibbleCounts(h[o + 6]! ^ q[6]!) + nibbleCounts(h[o + 7]! ^ q[7]!)),
    )
  );
}

/** Every 16-bit mask of at most MAX_RADIUS bits, fewest bits first; MASKS_WITHIN[r] of them have at most r bits. */
const { MASKS, MASKS_WITHIN } = (() => {
  const byWeight: number[][] = Array.from({ length: MAX_RADIUS + 1 }, () => []);
  for (let m = 0; m < CHUNK_VALUES; m++) {
    const w = popcount32(m);
    if (w <= MAX_RADIUS) byWeight[w]!.push(m);
  }
  const within = new Int32Array(MAX_RADIUS + 1);
  let n = 0;
  for (let w = 0; w <= MAX_RADIUS; w++) {
    n += byWeight[w]!.length;
    within[w] = n;
  }
  return { MASKS: Uint16Array.from(byWeight.flat()), MASKS_WITHIN: within };
})();

/** Masks to probe in chunk k for a bound: 0 when the chunk is skipped. */
function probesFor(bound: number, chunk: number): number {
  const r = chunkRadius(bound, chunk);
  return r < 0 ? 0 : MASKS_WITHIN[r]!;
}

/** Whether (d, id, bank) ranks before (bd, bid, bbank): nearer, then lower id, then lower bank. */
function ranksBefore(d: number, id: number, bank: number, bd: number, bid: number, bbank: number): boolean {
  return d < bd || (d === bd && (id < bid || (id === bid && bank < bbank)));
}

/** Compares two matches in rank order (for sorting). */
export function compareMatches(a: PdqMatch, b: PdqMatch): number {
  return a.distance - b.distance || a.id - b.id || a.bank - b.bank;
}

/** One threshold for every bank, or each bank's (negative: the bank is disabled). */
export type PdqThresholds = number | ((bank: number) => number);

/**
 * The reference search: every entry read in turn, each distance computed in full
 * unless its first three words already exceed the best so far. Returns the nearest
 * entry within its bank's threshold (lowest id, then bank, on a tie) or null. The
 * tests hold the index to it; the benchmark times it beside the index.
 */
export function linearScan(entries: PdqEntries, query: PdqHashInput, thresholds: PdqThresholds): PdqMatch | null {
  const q = toPdqWords(query);
  const q0 = q[0]!;
  const q1 = q[1]!;
  const q2 = q[2]!;
  const fixed = typeof thresholds === 'number' ? checkPdqThreshold(thresholds) : -1;
  const thresholdOf = typeof thresholds === 'function' ? thresholds : null;
  const { hashes, ids, banks, count } = entries;
  let bestDistance = MAX_PDQ_THRESHOLD + 1;
  let bestId = 0;
  let bestBank = 0;
  for (let i = 0; i < count; i++) {
    const o = i * PDQ_WORDS;
    if (distance3(hashes, o, 0, q0, 1, q1, 2, q2) > bestDistance) continue;
    const d = distanceAt(hashes, o, q);
    if (d > bestDistance) continue;
    const bank = banks[i]!;
    if (d > (thresholdOf ? thresholdOf(bank) : fixed)) continue;
    const id = ids[i]!;
    if (ranksBefore(d, id, bank, bestDistance, bestId, bestBank)) {
      bestDistance = d;
      bestId = id;
      bestBank = bank;
    }
  }
  return bestDistance > MAX_PDQ_THRESHOLD ? null : { id: bestId, bank: bestBank, distance: bestDistance };
}

/** Every entry within its bank's threshold, by a full read, in rank order (see `linearScan`). */
export function linearScanAll(entries: PdqEntries, query: PdqHashInput, thresholds: PdqThresholds): PdqMatch[] {
  const q = toPdqWords(query);
  const fixed = typeof thresholds === 'number' ? checkPdqThreshold(thresholds) : -1;
  const out: PdqMatch[] = [];
  for (let i = 0; i < entries.count; i++) {
    const d = distanceAt(entries.hashes, i * PDQ_WORDS, q);
    const bank = entries.banks[i]!;
    if (d <= (typeof thresholds === 'function' ? thresholds(bank) : fixed)) {
      out.push({ id: entries.ids[i]!, bank, distance: d });
    }
  }
  return out.sort(compareMatches);
}

/** Options of a search. */
export interface PdqQueryOptions {
  /**
   * One threshold (0..MAX_PDQ_THRESHOLD) for every enabled bank instead of each
   * bank's own. Disabled banks stay out either way.
   */
  threshold?: number;
}

/** How the index shares out its bytes (see `PdqIndex.memory`). */
export interface PdqIndexMemory {
  /** All typed arrays the index holds, capacity included. */
  bytes: number;
  /** Hashes, ids and banks of the built segments. */
  entries: number;
  /** Offsets and posting lists of the chunk tables, and the dead-slot bitsets. */
  tables: number;
  /** The delta's arrays (their capacity) and the per-bank arrays. */
  other: number;
}

/** Settings of an index. */
export interface PdqIndexOptions {
  /** Entries per built segment, at most (and by default) MAX_SEGMENT_ENTRIES; smaller only to test segment boundaries. */
  segmentEntries?: number;
  /** Pending adds at which `maintain()` indexes the delta as a segment of its own (default 32,768). */
  flushAt?: number;
  /**
   * Most live entries `maintain()` rewrites in one merge (default 1,048,576: about
   * a second on a small machine); larger consolidations are left to `rebuild()`.
   */
  maintainEntries?: number;
  /**
   * Probes left in a search from which a segment is read whole instead
   * (DEFAULT_LINEAR_SCAN_PROBES). Infinity never reads it whole; 0 does as soon as
   * a search goes past the exact matches of chunks.
   */
  linearScanProbes?: number;
}

/**
 * A probe reads count / 65,536 entries of a segment on average, at random places,
 * each costing several times the next entry of a linear read (measured at 1 and 10
 * million random hashes: 6 and 18 times): with more than 65,536 / 12 probes left,
 * reading the whole segment is about as cheap. In practice: a search for 53 bits or
 * more that found nothing within 15 bits.
 */
export const DEFAULT_LINEAR_SCAN_PROBES = Math.ceil(CHUNK_VALUES / 12);

/** Built entries, sorted by chunk 0, with the tables of chunks 1..15. Immutable but for `dead`. */
interface Segment {
  count: number;
  hashes: Uint32Array;
  ids: Uint32Array;
  banks: Uint16Array;
  /** CHUNKS × TABLE: chunk k's bucket v holds posting positions offsets[k·TABLE + v] up to the next one. */
  offsets: Uint32Array;
  /** Per chunk, slot numbers of 3 bytes (little-endian) in bucket order; chunk 0's is empty (slot = position). */
  postings: Uint8Array[];
  dead: Uint32Array;
  deadCount: number;
}

function bitIsSet(bits: Uint32Array, i: number): boolean {
  return ((bits[i >>> 5]! >>> (i & 31)) & 1) === 1;
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new RangeError(`PDQ index: an entry id is a whole number from 0 to 2^32 - 1, got ${id}`);
  }
}

function checkBank(bank: number): void {
  if (!Number.isInteger(bank) || bank < 0 || bank > MAX_PDQ_BANK) {
    throw new RangeError(`PDQ index: a bank is a whole number from 0 to ${MAX_PDQ_BANK}, got ${bank}`);
  }
}

/** Work arrays of `radixOrder`, reused across the chunks of a segment. */
interface RadixScratch {
  /** After the first pass: indexes by their low byte. */
  order: Uint32Array;
  keys: Uint16Array;
  /** The result: indexes in the order of their keys. */
  sorted: Uint32Array;
}

/**
 * Orders 0..n−1 by the 16-bit `keys` into `scratch.sorted`, stably, in two passes
 * over 8-bit digits (least significant first): each pass writes to 256 places at a
 * time, which the caches keep up with, where one pass would scatter over 65,536.
 * Counts the keys into `offsets` (65,537 from `base`, as a prefix sum) on the way.
 */
function radixOrder(keys: Uint16Array, n: number, offsets: Uint32Array, base: number, scratch: RadixScratch): void {
  const low = new Uint32Array(256);
  const high = new Uint32Array(256);
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    offsets[base + key + 1]!++;
    low[key & 255]!++;
    high[key >>> 8]!++;
  }
  for (let v = 0; v < CHUNK_VALUES; v++) offsets[base + v + 1]! += offsets[base + v]!;
  for (let d = 0, lowSum = 0, highSum = 0; d < 256; d++) {
    const l = low[d]!;
    low[d] = lowSum;
    lowSum += l;
    const h = high[d]!;
    high[d] = highSum;
    highSum += h;
  }
  const { order, keys: byLow, sorted } = scratch;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const at = low[key & 255]!++;
    order[at] = i;
    byLow[at] = key;
  }
  for (let j = 0; j < n; j++) sorted[high[byLow[j]! >>> 8]!++] = order[j]!;
}

/** Indexes `count` entries starting at entry `from` of `source` into a new segment. */
function buildSegment(source: PdqEntries, from: number, count: number): Segment {
  const hashes = new Uint32Array(count * PDQ_WORDS);
  const ids = new Uint32Array(count);
  const banks = new Uint16Array(count);
  const offsets = new Uint32Array(CHUNKS * TABLE);
  const keys = new Uint16Array(count);
  const scratch: RadixScratch = {
    order: new Uint32Array(count),
    keys: new Uint16Array(count),
    sorted: new Uint32Array(count),
  };
  const { sorted } = scratch;
  const src = source.hashes;

  // Chunk 0: the entries themselves in the order of their first 16 bits.
  for (let i = 0; i < count; i++) keys[i] = src[(from + i) * PDQ_WORDS]! >>> 16;
  radixOrder(keys, count, offsets, 0, scratch);
  for (let slot = 0; slot < count; slot++) {
    const i = from + sorted[slot]!;
    const o = i * PDQ_WORDS;
    const to = slot * PDQ_WORDS;
    for (let w = 0; w < PDQ_WORDS; w++) hashes[to + w] = src[o + w]!;
    ids[slot] = source.ids[i]!;
    banks[slot] = source.banks[i]!;
  }

  // Chunks 1..15: slots in the order of the chunk, ascending within a bucket (the sort is stable).
  const postings: Uint8Array[] = [new Uint8Array(0)];
  for (let k = 1; k < CHUNKS; k++) {
    const word = k >>> 1;
    const shift = k & 1 ? 0 : 16;
    for (let s = 0; s < count; s++) keys[s] = hashes[s * PDQ_WORDS + word]! >>> shift;
    radixOrder(keys, count, offsets, k * TABLE, scratch);
    const list = new Uint8Array(count * POSTING_BYTES);
    for (let at = 0, p = 0; at < count; at++, p += POSTING_BYTES) {
      const s = sorted[at]!;
      list[p] = s;
      list[p + 1] = s >>> 8;
      list[p + 2] = s >>> 16;
    }
    postings.push(list);
  }
  return { count, hashes, ids, banks, offsets, postings, dead: new Uint32Array(Math.ceil(count / 32)), deadCount: 0 };
}

/**
 * The in-memory matcher of the PDQ hash banks. Entries are (id, bank, hash); ids are
 * the caller's (a bank entry's number, say) and should be unique: `remove(id)`
 * removes every entry holding that id. Each bank has a threshold (default 31) and can
 * be disabled. Not shared between threads.
 */
export class PdqIndex {
  private readonly segmentEntries: number;
  private readonly flushAt: number;
  private readonly maintainEntries: number;
  private readonly linearScanProbes: number;
  private segments: Segment[] = [];

  // The delta: entries added since the last flush, unindexed.
  private deltaCount = 0;
  private deltaHashes = new Uint32Array(0);
  private deltaIds = new Uint32Array(0);
  private deltaBanks = new Uint16Array(0);

  // Banks: threshold, disabled flag, live entries.
  private readonly thresholds = new Uint8Array(MAX_PDQ_BANK + 1).fill(DEFAULT_PDQ_THRESHOLD);
  private readonly disabled = new Uint8Array(MAX_PDQ_BANK + 1);
  private readonly liveByBank = new Uint32Array(MAX_PDQ_BANK + 1);
  /** Largest threshold among enabled banks holding entries (−1: none), recomputed when stale. */
  private searchLimit = -1;
  private searchLimitStale = false;

  // The best match of the running search: fields, so the delta pass and the table passes share it.
  private bestDistance = 0;
  private bestId = 0;
  private bestBank = 0;

  constructor(options: PdqIndexOptions = {}) {
    const per = options.segmentEntries ?? MAX_SEGMENT_ENTRIES;
    if (!Number.isInteger(per) || per < 1 || per > MAX_SEGMENT_ENTRIES) {
      throw new RangeError(`PDQ index: segmentEntries is a whole number from 1 to ${MAX_SEGMENT_ENTRIES}`);
    }
    this.segmentEntries = per;
    this.flushAt = options.flushAt ?? 32_768;
    if (!Number.isInteger(this.flushAt) || this.flushAt < 1) {
      throw new RangeError('PDQ index: flushAt is a whole number from 1');
    }
    this.maintainEntries = options.maintainEntries ?? 1 << 20;
    if (!Number.isInteger(this.maintainEntries) || this.maintainEntries < 1) {
      throw new RangeError('PDQ index: maintainEntries is a whole number from 1');
    }
    this.linearScanProbes = options.linearScanProbes ?? DEFAULT_LINEAR_SCAN_PROBES;
    if (Number.isNaN(this.linearScanProbes) || this.linearScanProbes < 0) {
      throw new RangeError('PDQ index: linearScanProbes is a number from 0');
    }
  }

  /** Live entries (added and not removed). */
  get size(): number {
    let n = this.deltaCount;
    for (const seg of this.segments) n += seg.count - seg.deadCount;
    return n;
  }

  /** Entries added since the last flush or rebuild, which every query reads one by one. */
  get pendingAdds(): number {
    return this.deltaCount;
  }

  /** Built segments: each query probes each one's tables. */
  get segmentCount(): number {
    return this.segments.length;
  }

  /** Removed entries still taking room in the tables until their segment is rewritten. */
  get pendingRemovals(): number {
    let n = 0;
    for (const seg of this.segments) n += seg.deadCount;
    return n;
  }

  /** Sets a bank's threshold (0..MAX_PDQ_THRESHOLD) and whether it is enabled; the next query sees it. */
  configureBank(bank: number, settings: { threshold?: number; enabled?: boolean }): void {
    checkBank(bank);
    if (settings.threshold !== undefined) this.thresholds[bank] = checkPdqThreshold(settings.threshold);
    if (settings.enabled !== undefined) this.disabled[bank] = settings.enabled ? 0 : 1;
    this.searchLimitStale = true;
  }

  /** A bank's threshold and whether it is enabled. */
  bankSettings(bank: number): { threshold: number; enabled: boolean } {
    checkBank(bank);
    return { threshold: this.thresholds[bank]!, enabled: this.disabled[bank] === 0 };
  }

  /** Adds an entry; queries see it at once (it waits in the delta until the next flush). */
  add(id: number, bank: number, hash: PdqHashInput): void {
    checkId(id);
    checkBank(bank);
    const words = toPdqWords(hash);
    this.reserveDelta(this.deltaCount + 1);
    this.deltaHashes.set(words, this.deltaCount * PDQ_WORDS);
    this.deltaIds[this.deltaCount] = id;
    this.deltaBanks[this.deltaCount] = bank;
    this.deltaCount++;
    this.counted(bank);
  }

  /**
   * Adds many entries (hash i is words 8i..8i+7 of `hashes`), for a bank import or a
   * start-up load; follow with `rebuild()` (or `flush()`) to index them.
   */
  addMany(ids: ArrayLike<number>, banks: ArrayLike<number>, hashes: Uint32Array): void {
    const n = ids.length;
    if (banks.length !== n || hashes.length !== n * PDQ_WORDS) {
      throw new RangeError(`PDQ index: ${n} ids need ${n} banks and ${n * PDQ_WORDS} hash words`);
    }
    for (let i = 0; i < n; i++) {
      checkId(ids[i]!);
      checkBank(banks[i]!);
    }
    this.reserveDelta(this.deltaCount + n);
    this.deltaHashes.set(hashes, this.deltaCount * PDQ_WORDS);
    this.deltaIds.set(ids, this.deltaCount);
    this.deltaBanks.set(banks, this.deltaCount);
    this.deltaCount += n;
    for (let i = 0; i < n; i++) this.counted(banks[i]!);
  }

  /**
   * Removes every entry holding `id` and returns how many there were (0 for an
   * unknown id). Reads the ids one by one (milliseconds at 10 million): removal is rare.
   */
  remove(id: number): number {
    return this.removeWhere('ids', id);
  }

  /**
   * Removes every entry holding one of `ids` and returns how many there were: one
   * read of all ids for the lot (a few hundred milliseconds at 10 million), where a
   * `remove` per id would read them all each time.
   */
  removeMany(ids: Iterable<number>): number {
    const wanted = new Set(ids);
    if (wanted.size <= 8) {
      let removed = 0;
      for (const id of wanted) removed += this.remove(id);
      return removed;
    }
    let removed = 0;
    for (const seg of this.segments) {
      for (let s = 0; s < seg.count; s++) {
        if (!wanted.has(seg.ids[s]!) || bitIsSet(seg.dead, s)) continue;
        seg.dead[s >>> 5]! |= 1 << (s & 31);
        seg.deadCount++;
        this.uncounted(seg.banks[s]!);
        removed++;
      }
    }
    for (let i = 0; i < this.deltaCount; ) {
      if (wanted.has(this.deltaIds[i]!)) {
        removed++;
        this.dropDelta(i);
      } else {
        i++;
      }
    }
    return removed;
  }

  /** Removes every entry of a bank and returns how many. (To stop a bank matching but keep it, disable it.) */
  removeBank(bank: number): number {
    checkBank(bank);
    return this.removeWhere('banks', bank);
  }

  private removeWhere(field: 'ids' | 'banks', value: number): number {
    let removed = 0;
    // indexOf: the engine's own search of a typed array, several times faster than a loop here.
    for (const seg of this.segments) {
      const values = seg[field];
      for (let s = values.indexOf(value); s !== -1; s = values.indexOf(value, s + 1)) {
        if (bitIsSet(seg.dead, s)) continue;
        seg.dead[s >>> 5]! |= 1 << (s & 31);
        seg.deadCount++;
        this.uncounted(seg.banks[s]!);
        removed++;
      }
    }
    // The entry moved into a hole is looked at next.
    const values = field === 'ids' ? this.deltaIds : this.deltaBanks;
    for (let i = values.subarray(0, this.deltaCount).indexOf(value); i !== -1; ) {
      removed++;
      this.dropDelta(i);
      const next = values.subarray(i, this.deltaCount).indexOf(value);
      i = next === -1 ? -1 : i + next;
    }
    return removed;
  }

  /** Takes entry i out of the delta, which has no order to keep: its last entry fills the hole. */
  private dropDelta(i: number): void {
    this.uncounted(this.deltaBanks[i]!);
    const last = --this.deltaCount;
    this.deltaHashes.copyWithin(i * PDQ_WORDS, last * PDQ_WORDS, (last + 1) * PDQ_WORDS);
    this.deltaIds[i] = this.deltaIds[last]!;
    this.deltaBanks[i] = this.deltaBanks[last]!;
  }

  /** One more live entry in `bank`: the search limit can only grow. */
  private counted(bank: number): void {
    this.liveByBank[bank]!++;
    if (!this.searchLimitStale && this.disabled[bank] === 0 && this.thresholds[bank]! > this.searchLimit) {
      this.searchLimit = this.thresholds[bank]!;
    }
  }

  /** One live entry fewer in `bank`: the limit may shrink once the bank is empty. */
  private uncounted(bank: number): void {
    if (--this.liveByBank[bank]! === 0) this.searchLimitStale = true;
  }

  private reserveDelta(need: number): void {
    if (need <= this.deltaIds.length) return;
    const capacity = Math.max(need, 1024, Math.ceil(this.deltaIds.length * 1.5));
    const hashes = new Uint32Array(capacity * PDQ_WORDS);
    hashes.set(this.deltaHashes.subarray(0, this.deltaCount * PDQ_WORDS));
    const ids = new Uint32Array(capacity);
    ids.set(this.deltaIds.subarray(0, this.deltaCount));
    const banks = new Uint16Array(capacity);
    banks.set(this.deltaBanks.subarray(0, this.deltaCount));
    this.deltaHashes = hashes;
    this.deltaIds = ids;
    this.deltaBanks = banks;
  }

  /**
   * Keeps the index fast at a cost in proportion to what changed, for a timer or the
   * end of an import; returns whether it did anything. Indexes the delta as a new
   * segment once it holds `flushAt` entries; then merges the newest segment into the
   * one before it while it is at least half that size (as a counter carries: sizes
   * grow geometrically, so an entry is rewritten a logarithmic number of times over
   * its life and there are few segments); and rewrites a segment more than a quarter
   * removed. It rewrites at most `maintainEntries` live entries in one merge or
   * rewrite, so that it never holds the thread for long; consolidating beyond that
   * is `rebuild()`'s, at a quiet time.
   */
  maintain(): boolean {
    let changed = false;
    if (this.deltaCount >= this.flushAt) {
      this.flush();
      changed = true;
    }
    const live = (seg: Segment) => seg.count - seg.deadCount;
    for (;;) {
      const n = this.segments.length;
      const newest = this.segments[n - 1];
      const before = this.segments[n - 2];
      if (!newest || !before || live(newest) * 2 < live(before)) break;
      if (live(newest) + live(before) > Math.min(this.segmentEntries, this.maintainEntries)) break;
      this.segments.splice(n - 2, 2, ...this.buildSegments(this.liveEntries([before, newest], false)));
      changed = true;
    }
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.deadCount * 4 <= seg.count || live(seg) > this.maintainEntries) continue;
      const rewritten = this.buildSegments(this.liveEntries([seg], false));
      this.segments.splice(i, 1, ...rewritten);
      i += rewritten.length - 1;
      changed = true;
    }
    return changed;
  }

  /** Indexes the pending adds as a new segment (in time proportional to their number). */
  flush(): void {
    if (this.deltaCount === 0) return;
    this.segments.push(...this.buildSegments(this.liveEntries([], true)));
    this.clearDelta();
  }

  /**
   * Indexes every live entry afresh, into as few segments as they fit: the delta
   * joins the tables and removed entries go. Linear time (radix sorts), about a
   * second per million entries on a small machine, during which the old and the new
   * arrays both exist. For a start-up load or an import; `maintain()` otherwise.
   */
  rebuild(): void {
    this.segments = this.buildSegments(this.liveEntries(this.segments, true));
    this.clearDelta();
  }

  private clearDelta(): void {
    this.deltaCount = 0;
    this.deltaHashes = new Uint32Array(0);
    this.deltaIds = new Uint32Array(0);
    this.deltaBanks = new Uint16Array(0);
  }

  private buildSegments(source: PdqEntries): Segment[] {
    const segments: Segment[] = [];
    for (let from = 0; from < source.count; from += this.segmentEntries) {
      segments.push(buildSegment(source, from, Math.min(this.segmentEntries, source.count - from)));
    }
    return segments;
  }

  /** The live entries of some segments and, if asked, the delta; the delta's own arrays when it is alone. */
  private liveEntries(segments: Segment[], withDelta: boolean): PdqEntries {
    if (segments.length === 0 && withDelta) {
      return { count: this.deltaCount, hashes: this.deltaHashes, ids: this.deltaIds, banks: this.deltaBanks };
    }
    let n = withDelta ? this.deltaCount : 0;
    for (const seg of segments) n += seg.count - seg.deadCount;
    const out: PdqEntries = {
      count: n,
      hashes: new Uint32Array(n * PDQ_WORDS),
      ids: new Uint32Array(n),
      banks: new Uint16Array(n),
    };
    let i = 0;
    for (const seg of segments) {
      for (let s = 0; s < seg.count; s++) {
        if (bitIsSet(seg.dead, s)) continue;
        for (let w = 0; w < PDQ_WORDS; w++) out.hashes[i * PDQ_WORDS + w] = seg.hashes[s * PDQ_WORDS + w]!;
        out.ids[i] = seg.ids[s]!;
        out.banks[i] = seg.banks[s]!;
        i++;
      }
    }
    if (withDelta) {
      out.hashes.set(this.deltaHashes.subarray(0, this.deltaCount * PDQ_WORDS), i * PDQ_WORDS);
      out.ids.set(this.deltaIds.subarray(0, this.deltaCount), i);
      out.banks.set(this.deltaBanks.subarray(0, this.deltaCount), i);
    }
    return out;
  }

  /** Bytes held, from the typed arrays' sizes (the few JS objects around them are left out). */
  memory(): PdqIndexMemory {
    let entries = 0;
    let tables = 0;
    for (const seg of this.segments) {
      entries += seg.hashes.byteLength + seg.ids.byteLength + seg.banks.byteLength;
      tables += seg.offsets.byteLength + seg.dead.byteLength;
      for (const list of seg.postings) tables += list.byteLength;
    }
    const other =
      this.deltaHashes.byteLength +
      this.deltaIds.byteLength +
      this.deltaBanks.byteLength +
      this.thresholds.byteLength +
      this.disabled.byteLength +
      this.liveByBank.byteLength;
    return { bytes: entries + tables + other, entries, tables, other };
  }

  /** The live entries in flat arrays (a copy): for `linearScan`, a snapshot, a check. */
  entries(): PdqEntries {
    const all = this.liveEntries(this.segments, true);
    if (all.hashes !== this.deltaHashes) return all;
    return {
      count: all.count,
      hashes: all.hashes.slice(0, all.count * PDQ_WORDS),
      ids: all.ids.slice(0, all.count),
      banks: all.banks.slice(0, all.count),
    };
  }

  /** The threshold a search runs with: the largest among enabled banks holding entries (−1: nothing can match). */
  private limit(override: number): number {
    if (this.searchLimitStale) {
      let limit = -1;
      for (let b = 0; b <= MAX_PDQ_BANK; b++) {
        if (this.liveByBank[b]! > 0 && this.disabled[b] === 0 && this.thresholds[b]! > limit) {
          limit = this.thresholds[b]!;
        }
      }
      this.searchLimit = limit;
      this.searchLimitStale = false;
    }
    return this.searchLimit < 0 ? -1 : override >= 0 ? override : this.searchLimit;
  }

  /** The threshold an entry of `bank` is held to in this search (−1: the bank is disabled). */
  private thresholdOf(bank: number, override: number): number {
    return this.disabled[bank] === 1 ? -1 : override >= 0 ? override : this.thresholds[bank]!;
  }

  /**
   * The nearest entry within its bank's threshold (or within `options.threshold`,
   * for every enabled bank), or null. Ties go to the lowest id, then the lowest bank.
   * Given the hash as 8 words, allocates nothing but the match it returns.
   */
  query(hash: PdqHashInput, options?: PdqQueryOptions): PdqMatch | null {
    const q = toPdqWords(hash);
    const override = options?.threshold === undefined ? -1 : checkPdqThreshold(options.threshold);
    const limit = this.limit(override);
    if (limit < 0) return null;
    this.bestDistance = limit + 1;
    this.bestId = 0;
    this.bestBank = 0;
    for (let i = 0; i < this.deltaCount; i++) {
      const d = distanceAt(this.deltaHashes, i * PDQ_WORDS, q);
      if (d <= this.bestDistance) this.consider(d, this.deltaIds[i]!, this.deltaBanks[i]!, override);
    }
    for (const seg of this.segments) this.searchSegment(seg, q, Math.min(this.bestDistance, limit), override);
    return this.bestDistance > limit ? null : { id: this.bestId, bank: this.bestBank, distance: this.bestDistance };
  }

  /** Takes (d, id, bank) as the best match if its bank admits it and it ranks first; says whether it did. */
  private consider(d: number, id: number, bank: number, override: number): boolean {
    if (d > this.thresholdOf(bank, override)) return false;
    if (!ranksBefore(d, id, bank, this.bestDistance, this.bestId, this.bestBank)) return false;
    this.bestDistance = d;
    this.bestId = id;
    this.bestBank = bank;
    return true;
  }

  /**
   * Probes one segment's tables for entries at most `bound` away (the best distance
   * so far, or the limit while nothing is found), by rising mask weight: every
   * chunk's own bucket first, then the buckets one bit away, and so on, so that a
   * near-duplicate (within 15 bits, it agrees exactly on some chunk) is met first and
   * shrinks the bound, and with it the radii, for the rest. Exact: an entry at most D
   * away (D ≤ bound all along) agrees within chunkRadius(D, k) on some chunk k, and
   * chunk k is probed at every weight up to chunkRadius(bound, k) ≥ chunkRadius(D, k).
   * When the probes still to make would cost more than reading the whole segment
   * (`linearScanProbes`), the segment is read instead — which is exact too.
   * Each candidate is first judged on three words outside its chunk: most fail there.
   */
  private searchSegment(seg: Segment, q: Uint32Array, bound: number, override: number): void {
    const { hashes, ids, banks, dead, offsets } = seg;
    const anyDead = seg.deadCount > 0;
    for (let weight = 0; weight <= MAX_RADIUS; weight++) {
      const first = weight === 0 ? 0 : MASKS_WITHIN[weight - 1]!;
      if (weight > 0) {
        let left = 0;
        for (let k = 0; k < CHUNKS; k++) {
          const r = chunkRadius(bound, k);
          if (r >= weight) left += MASKS_WITHIN[r]! - first;
        }
        if (left === 0) return;
        if (left >= this.linearScanProbes) {
          this.scanSegment(seg, q, bound, override);
          return;
        }
      }
      const last = MASKS_WITHIN[weight]!;
      for (let k = 0; k < CHUNKS; k++) {
        if (chunkRadius(bound, k) < weight) continue;
        const word = k >>> 1;
        const value = k & 1 ? q[word]! & 0xffff : q[word]! >>> 16;
        const a = (word + 1) & 7;
        const b = (word + 2) & 7;
        const c = (word + 3) & 7;
        const qa = q[a]!;
        const qb = q[b]!;
        const qc = q[c]!;
        const base = k * TABLE;
        const list = seg.postings[k]!;
        for (let p = first; p < last; p++) {
          const bucket = base + (value ^ MASKS[p]!);
          const end = offsets[bucket + 1]!;
          for (let at = offsets[bucket]!; at < end; at++) {
            const s =
              k === 0
                ? at
                : list[at * POSTING_BYTES]! |
                  (list[at * POSTING_BYTES + 1]! << 8) |
                  (list[at * POSTING_BYTES + 2]! << 16);
            const o = s * PDQ_WORDS;
            if (distance3(hashes, o, a, qa, b, qb, c, qc) > bound) continue;
            const d = distanceAt(hashes, o, q);
            if (d > bound || (anyDead && bitIsSet(dead, s))) continue;
            if (this.consider(d, ids[s]!, banks[s]!, override) && d < bound) {
              bound = d;
              // This chunk needs no more masks of this weight: end after this bucket.
              if (chunkRadius(bound, k) < weight) p = last;
            }
          }
        }
      }
    }
  }

  /** Reads a whole segment, for searches too wide for its tables. */
  private scanSegment(seg: Segment, q: Uint32Array, bound: number, override: number): void {
    const { hashes, ids, banks, dead } = seg;
    const anyDead = seg.deadCount > 0;
    const q0 = q[0]!;
    const q1 = q[1]!;
    const q2 = q[2]!;
    for (let s = 0; s < seg.count; s++) {
      const o = s * PDQ_WORDS;
      if (distance3(hashes, o, 0, q0, 1, q1, 2, q2) > bound) continue;
      const d = distanceAt(hashes, o, q);
      if (d > bound || (anyDead && bitIsSet(dead, s))) continue;
      if (this.consider(d, ids[s]!, banks[s]!, override) && d < bound) bound = d;
    }
  }

  /**
   * Every entry within its bank's threshold (or `options.threshold`), nearest first,
   * then by id and bank. Allocates its result; `query` is the matcher's hot path.
   */
  queryAll(hash: PdqHashInput, options?: PdqQueryOptions): PdqMatch[] {
    const q = toPdqWords(hash);
    const override = options?.threshold === undefined ? -1 : checkPdqThreshold(options.threshold);
    const limit = this.limit(override);
    const out: PdqMatch[] = [];
    if (limit < 0) return out;
    const accept = (d: number, id: number, bank: number) => {
      if (d <= this.thresholdOf(bank, override)) out.push({ id, bank, distance: d });
    };
    for (let i = 0; i < this.deltaCount; i++) {
      accept(distanceAt(this.deltaHashes, i * PDQ_WORDS, q), this.deltaIds[i]!, this.deltaBanks[i]!);
    }
    let allProbes = 0;
    for (let k = 0; k < CHUNKS; k++) allProbes += probesFor(limit, k);
    for (const seg of this.segments) {
      if (allProbes >= this.linearScanProbes) {
        for (let s = 0; s < seg.count; s++) {
          if (!bitIsSet(seg.dead, s)) accept(distanceAt(seg.hashes, s * PDQ_WORDS, q), seg.ids[s]!, seg.banks[s]!);
        }
        continue;
      }
      // A slot can turn up in several chunks; it is taken once.
      const seen = new Set<number>();
      for (let k = 0; k < CHUNKS; k++) {
        const probes = probesFor(limit, k);
        const value = k & 1 ? q[k >>> 1]! & 0xffff : q[k >>> 1]! >>> 16;
        const list = seg.postings[k]!;
        for (let p = 0; p < probes; p++) {
          const bucket = k * TABLE + (value ^ MASKS[p]!);
          for (let at = seg.offsets[bucket]!; at < seg.offsets[bucket + 1]!; at++) {
            const s = k === 0 ? at : list[at * 3]! | (list[at * 3 + 1]! << 8) | (list[at * 3 + 2]! << 16);
            if (seen.has(s) || bitIsSet(seg.dead, s)) continue;
            seen.add(s);
            accept(distanceAt(seg.hashes, s * PDQ_WORDS, q), seg.ids[s]!, seg.banks[s]!);
          }
        }
      }
    }
    return out.sort(compareMatches);
  }
}
