import fs from 'node:fs';

/**
 * Prediction with a supervised fastText model (Joulin et al., "Bag of Tricks for
 * Efficient Text Classification", 2016) in TypeScript, for the language-identification
 * model lid.176.ftz: the model file is read as fastText writes it (binary format
 * version 12, a product-quantised input matrix as in Joulin et al., "FastText.zip",
 * 2016) and a line is scored as fastText's `predict` scores it: whitespace-separated
 * tokens, each an in-vocabulary word with its character 2- to 4-grams or, out of
 * vocabulary, the n-grams alone, hashed with 32-bit FNV-1a over UTF-8 bytes into
 * the model's buckets and mapped through its pruning table; the average of their
 * rows; the hierarchical softmax's Huffman tree searched depth first for the best
 * label. The format and the algorithm are those of facebookresearch/fastText
 * (src/dictionary.cc, src/quantmatrix.cc, src/productquantizer.cc, src/loss.cc).
 *
 * Why not the package's WebAssembly build, which reads the same file: each call
 * through it copies the line into the wasm heap, parses it with a C++ stream, builds
 * a C++ string per n-gram and hands a vector back to JavaScript, which costs about
 * twice the arithmetic. Here a line is encoded into one reused buffer and nothing is
 * allocated per call but the answer. test/fasttext.test.ts checks that both give the
 * same language and probability on every text of the shipped corpus.
 */

const MAGIC = 793712314;
const VERSION = 12;
const LOSS_HS = 1;
const MODEL_SUP = 3;
/** Centroids per sub-quantiser (fastText quantises with 8 bits). */
const KSUB = 256;
const LABEL_PREFIX = '__label__';
/** Deeper label trees are refused (lid.176's is 21 deep; a chain of 1,000 labels would be 999). */
const MAX_TREE_DEPTH = 1024;
const EOS = '</s>';
/** fastText's smoothed log, `real std_log(real x) { return std::log(x + 1e-5); }` (src/loss.cc), in float32 as there. */
const stdLog = (x: number) => Math.fround(Math.log(Math.fround(x) + 1e-5));

export class FastTextFormatError extends Error {}

export interface FastTextPrediction {
  /** The label without fastText's `__label__` prefix (for lid.176, the language code). */
  label: string;
  probability: number;
}

/** Reads fastText's binary file (little-endian, as fastText writes on every platform it runs on). */
class Reader {
  offset = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly file: string,
  ) {}
  private need(n: number): void {
    if (!(n >= 0) || this.offset + n > this.bytes.length) {
      throw new FastTextFormatError(`${this.file}: truncated at byte ${this.offset} (needs ${n} more)`);
    }
  }
  i32(): number {
    this.need(4);
    const v = this.bytes.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  /** A count or size; `allowMinusOne` for fastText's "none" (an unpruned dictionary's pruning count). */
  i64(allowMinusOne = false): number {
    this.need(8);
    const v = this.bytes.readBigInt64LE(this.offset);
    this.offset += 8;
    if (allowMinusOne && v === -1n) return -1;
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FastTextFormatError(`${this.file}: implausible size ${v} at byte ${this.offset - 8}`);
    }
    return Number(v);
  }
  /** Bytes left to read. */
  get left(): number {
    return this.bytes.length - this.offset;
  }
  f64(): number {
    this.need(8);
    const v = this.bytes.readDoubleLE(this.offset);
    this.offset += 8;
    return v;
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }
  cString(): Buffer {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0) throw new FastTextFormatError(`${this.file}: unterminated word at byte ${this.offset}`);
    const s = this.bytes.subarray(this.offset, end);
    this.offset = end + 1;
    return s;
  }
  /** Floats, every one finite (a NaN or infinite weight would turn every answer into NaN). */
  f32s(count: number): Float32Array {
    this.need(count * 4);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = this.bytes.readFloatLE(this.offset + i * 4);
      if (!Number.isFinite(v))
        throw new FastTextFormatError(`${this.file}: a weight at byte ${this.offset + i * 4} is ${v}`);
      out[i] = v;
    }
    this.offset += count * 4;
    return out;
  }
  u8s(count: number): Uint8Array {
    this.need(count);
    const out = this.bytes.subarray(this.offset, this.offset + count).slice();
    this.offset += count;
    return out;
  }
}

interface ProductQuantizer {
  dim: number;
  nsubq: number;
  dsub: number;
  lastdsub: number;
  centroids: Float32Array;
}

function readQuantizer(r: Reader, file: string): ProductQuantizer {
  const dim = r.i32();
  const nsubq = r.i32();
  const dsub = r.i32();
  const lastdsub = r.i32();
  if (dim <= 0 || nsubq <= 0 || dsub <= 0 || lastdsub <= 0 || (nsubq - 1) * dsub + lastdsub !== dim) {
    throw new FastTextFormatError(`${file}: inconsistent product quantiser (${dim}, ${nsubq}, ${dsub}, ${lastdsub})`);
  }
  return { dim, nsubq, dsub, lastdsub, centroids: r.f32s(dim * KSUB) };
}

/** Centroid `i` of sub-quantiser `m` starts here in `centroids` (ProductQuantizer::get_centroids). */
function centroidOffset(pq: ProductQuantizer, m: number, i: number): number {
  return m === pq.nsubq - 1 ? m * KSUB * pq.dsub + i * pq.lastdsub : (m * KSUB + i) * pq.dsub;
}

/** FNV-1a as fastText's Dictionary::hash: each byte sign-extended (`int8_t`) before the xor. */
function fnvStep(h: number, byte: number): number {
  // Kept a signed 32-bit integer (the same bits as fastText's uint32_t): `>>> 0` only where it is used as a number.
  return Math.imul(h ^ ((byte << 24) >> 24), 0x01000193);
}
const FNV_OFFSET = 2166136261 | 0;

/** `hash % bucket` with the hash as fastText's uint32_t, without a floating-point remainder (exact: both are below 2^32). */
function modulo(hash: number, bucket: number): number {
  const h = hash >>> 0;
  return h - Math.floor(h / bucket) * bucket;
}

function isSpace(b: number): boolean {
  // Dictionary::readWord's separators: space, \n, \r, \t, \v, \f, \0.
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0b || b === 0x0c || b === 0x00;
}

/** Power of two with at least twice `n` slots: open addressing stays short. */
function tableSize(n: number): number {
  let size = 16;
  while (size < n * 2) size *= 2;
  return size;
}

export class FastTextModel {
  readonly dim: number;
  private readonly minn: number;
  private readonly maxn: number;
  private readonly bucket: number;
  private readonly nwords: number;
  private readonly labels: string[];
  /** Every input row decoded (norm × centroids, rounded to float32 as fastText computes them), row-major. */
  private readonly rows: Float32Array;
  /**
   * A quantised input matrix, read as fastText reads it: a row is its sub-quantisers' centroids (one
   * code byte each), scaled by the row's norm. lid.176's 50,000 rows take 400 KB of codes this way,
   * and the centroids stay in the cache.
   */
  private readonly quant: {
    codes: Uint8Array;
    norms: Float32Array;
    centroids: Float32Array;
    nsubq: number;
    dsub: number;
    lastdsub: number;
  } | null = null;
  /** Hierarchical softmax: the output rows of the tree's inner nodes, and each node's children. */
  private readonly output: Float32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly root: number;
  private readonly labelCount: number;
  /** Words: a hash table of their FNV hashes, and their UTF-8 bytes to compare. */
  private readonly wordSlots: Int32Array;
  private readonly wordHashes: Uint32Array;
  private readonly wordBytes: Uint8Array;
  private readonly wordStart: Int32Array;
  /** Input rows of each word (itself and its kept n-grams), `subwordStart[w]` to `subwordStart[w + 1]`. */
  private readonly subwords: Int32Array;
  private readonly subwordStart: Int32Array;
  /**
   * The pruning table: n-gram bucket → input row, open addressing; slot s holds the key (bucket + 1,
   * 0 when empty) at 2s and the row at 2s + 1, so a lookup reads one cache line.
   */
  private readonly prune: Int32Array;
  private readonly pruneMask: number;
  /** -1: not pruned (every bucket has its row); otherwise the number of kept n-grams. */
  private readonly pruneSize: number;
  /** The input row of the end-of-sentence word `</s>`, or -1 when the model lacks it. */
  private readonly eosRow: number;
  // Buffers reused by every call (one thread).
  private buffer = new Uint8Array(1024);
  private token = new Uint8Array(256);
  private readonly hidden: Float32Array;
  private count = 0;
  private bestScore = 0;
  private bestLeaf = -1;

  private constructor(bytes: Buffer, file: string) {
    const r = new Reader(bytes, file);
    if (r.i32() !== MAGIC) throw new FastTextFormatError(`${file}: not a fastText model (bad magic number)`);
    const version = r.i32();
    if (version !== VERSION)
      throw new FastTextFormatError(`${file}: fastText format version ${version}, not ${VERSION}`);
    const dim = r.i32();
    r.i32(); // ws
    r.i32(); // epoch
    r.i32(); // minCount
    r.i32(); // neg
    const wordNgrams = r.i32();
    const loss = r.i32();
    const model = r.i32();
    const bucket = r.i32();
    const minn = r.i32();
    const maxn = r.i32();
    r.i32(); // lrUpdateRate
    r.f64(); // t
    if (model !== MODEL_SUP) throw new FastTextFormatError(`${file}: not a supervised (classification) model`);
    if (loss !== LOSS_HS) throw new FastTextFormatError(`${file}: only hierarchical-softmax models are supported`);
    if (wordNgrams > 1)
      throw new FastTextFormatError(`${file}: word n-grams (wordNgrams ${wordNgrams}) are not supported`);
    if (
      !(dim > 0 && dim <= 1024 && bucket >= 0 && minn >= 0 && maxn <= 8 && (bucket > 0 || maxn < Math.max(minn, 1)))
    ) {
      throw new FastTextFormatError(
        `${file}: implausible arguments (dim ${dim}, bucket ${bucket}, n-grams ${minn}..${maxn})`,
      );
    }
    this.dim = dim;
    this.minn = minn;
    this.maxn = maxn;
    this.bucket = bucket;

    // Dictionary: words first, then labels (Dictionary::load).
    const size = r.i32();
    const nwords = r.i32();
    const nlabels = r.i32();
    r.i64(); // ntokens
    const pruneCount = r.i64(true);
    if (nwords < 0 || nlabels <= 0 || nwords + nlabels !== size) {
      throw new FastTextFormatError(
        `${file}: inconsistent dictionary (${size} entries, ${nwords} words, ${nlabels} labels)`,
      );
    }
    this.nwords = nwords;
    const words: Buffer[] = [];
    const labelCounts: number[] = [];
    this.labels = [];
    for (let i = 0; i < size; i++) {
      const word = r.cString();
      const count = r.i64();
      const type = r.u8();
      if (i < nwords) {
        if (type !== 0) throw new FastTextFormatError(`${file}: entry ${i} should be a word`);
        words.push(word);
      } else {
        const label = word.toString('utf8');
        if (type !== 1 || !label.startsWith(LABEL_PREFIX))
          throw new FastTextFormatError(`${file}: entry ${i} should be a label`);
        this.labels.push(label.slice(LABEL_PREFIX.length));
        labelCounts.push(count);
      }
    }
    this.pruneSize = pruneCount;
    // Each kept n-gram is 8 bytes of the file and one of the buckets: a count beyond either is a damaged file,
    // refused before its table is allocated.
    if (pruneCount > r.left / 8 || pruneCount > bucket) {
      throw new FastTextFormatError(`${file}: implausible pruning count ${pruneCount}`);
    }
    const slots = tableSize(Math.max(pruneCount, 1));
    this.prune = new Int32Array(slots * 2);
    this.pruneMask = slots - 1;
    for (let i = 0; i < pruneCount; i++) {
      const from = r.i32();
      const to = r.i32();
      if (from < 0 || from >= bucket || to < 0 || to >= pruneCount)
        throw new FastTextFormatError(`${file}: bad pruning entry ${i}`);
      let s = this.pruneSlot(from);
      while (this.prune[2 * s] !== 0 && this.prune[2 * s] !== from + 1) s = (s + 1) & this.pruneMask;
      this.prune[2 * s] = from + 1;
      this.prune[2 * s + 1] = nwords + to;
    }

    // Input matrix: product-quantised (QuantMatrix::load) or dense; its rows are the words, then the kept n-grams
    // (or every bucket when nothing was pruned). Its size is checked before anything of its size is allocated.
    const expectedRows = this.pruneSize >= 0 ? nwords + this.pruneSize : nwords + bucket;
    const rowsOf = (count: number) => {
      if (count !== expectedRows) {
        throw new FastTextFormatError(`${file}: input matrix has ${count} rows, the dictionary needs ${expectedRows}`);
      }
      return count;
    };
    if (r.u8() !== 0) {
      const qnorm = r.u8() !== 0;
      const rowCount = rowsOf(r.i64());
      const cols = r.i64();
      const codeSize = r.i32();
      const codes = r.u8s(codeSize);
      const pq = readQuantizer(r, file);
      if (cols !== dim || pq.dim !== dim || codeSize !== rowCount * pq.nsubq) {
        throw new FastTextFormatError(`${file}: input matrix does not match its quantiser`);
      }
      const norms = new Float32Array(rowCount).fill(1);
      if (qnorm) {
        const normCodes = r.u8s(rowCount);
        const npq = readQuantizer(r, file);
        for (let i = 0; i < rowCount; i++) norms[i] = npq.centroids[centroidOffset(npq, 0, normCodes[i]!)]!;
      }
      this.quant = { codes, norms, centroids: pq.centroids, nsubq: pq.nsubq, dsub: pq.dsub, lastdsub: pq.lastdsub };
      this.rows = new Float32Array(0);
    } else {
      if (this.pruneSize >= 0) {
        throw new FastTextFormatError(`${file}: a pruned dictionary needs a quantised input matrix`);
      }
      const rowCount = rowsOf(r.i64());
      if (r.i64() !== dim) throw new FastTextFormatError(`${file}: input matrix is not ${dim} wide`);
      this.rows = r.f32s(rowCount * dim);
    }
    if (r.u8() !== 0) throw new FastTextFormatError(`${file}: a quantised output matrix is not supported`);
    const outRows = r.i64();
    if (r.i64() !== dim || outRows !== nlabels)
      throw new FastTextFormatError(`${file}: output matrix is not ${nlabels} × ${dim}`);
    this.output = r.f32s(outRows * dim);
    if (r.offset !== bytes.length)
      throw new FastTextFormatError(`${file}: ${bytes.length - r.offset} unexpected bytes at the end`);

    // The Huffman tree over the label counts (HierarchicalSoftmaxLoss::buildTree; labels are stored most frequent first).
    const n = nlabels;
    this.labelCount = n;
    const count = new Float64Array(2 * n - 1).fill(1e15);
    this.left = new Int32Array(2 * n - 1).fill(-1);
    this.right = new Int32Array(2 * n - 1).fill(-1);
    for (let i = 0; i < n; i++) count[i] = labelCounts[i]!;
    let leaf = n - 1;
    let node = n;
    for (let i = n; i < 2 * n - 1; i++) {
      const mini = [0, 0];
      for (let j = 0; j < 2; j++) mini[j] = leaf >= 0 && count[leaf]! < count[node]! ? leaf-- : node++;
      this.left[i] = mini[0]!;
      this.right[i] = mini[1]!;
      count[i] = count[mini[0]!]! + count[mini[1]!]!;
    }
    this.root = 2 * n - 2;
    // The search recurses once per level: a tree deeper than this comes from damaged label counts.
    const depth = new Int32Array(2 * n - 1);
    for (let i = this.root; i >= n; i--) {
      depth[this.left[i]!] = depth[i]! + 1;
      depth[this.right[i]!] = depth[i]! + 1;
      if (depth[i]! + 1 > MAX_TREE_DEPTH)
        throw new FastTextFormatError(`${file}: label tree deeper than ${MAX_TREE_DEPTH}`);
    }

    // Words: lookup table and each word's rows (Dictionary::initNgrams).
    this.wordSlots = new Int32Array(tableSize(nwords)).fill(-1);
    this.wordHashes = new Uint32Array(nwords);
    this.wordStart = new Int32Array(nwords + 1);
    this.wordBytes = new Uint8Array(words.reduce((sum, w) => sum + w.length, 0));
    const subwords: number[] = [];
    this.subwordStart = new Int32Array(nwords + 1);
    let at = 0;
    for (let w = 0; w < nwords; w++) {
      const word = words[w]!;
      this.wordBytes.set(word, at);
      this.wordStart[w] = at;
      at += word.length;
      let h = FNV_OFFSET;
      for (const b of word) h = fnvStep(h, b);
      this.wordHashes[w] = h >>> 0;
      let s = h & (this.wordSlots.length - 1);
      while (this.wordSlots[s] !== -1) s = (s + 1) & (this.wordSlots.length - 1);
      this.wordSlots[s] = w;
      this.subwordStart[w] = subwords.length;
      subwords.push(w);
      if (word.toString('utf8') !== EOS) this.ngramRows(word, 0, word.length, subwords);
    }
    this.wordStart[nwords] = at;
    this.subwordStart[nwords] = subwords.length;
    this.subwords = Int32Array.from(subwords);
    const eosBytes = Buffer.from(EOS);
    const eos = this.findWord(eosBytes, 0, eosBytes.length, this.hashOf(eosBytes, 0, eosBytes.length));
    this.eosRow = eos;
    this.hidden = new Float32Array(dim);
  }

  /** Loads a `.bin` or `.ftz` supervised model; throws {@link FastTextFormatError} naming the file on anything unexpected. */
  static load(file: string): FastTextModel {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (error) {
      throw new FastTextFormatError(`${file}: cannot be read (${(error as Error).message})`);
    }
    return new FastTextModel(bytes, file);
  }

  private pruneSlot(key: number): number {
    return Math.imul(key, 0x9e3779b1) & this.pruneMask;
  }

  /** The input row of n-gram bucket `id`, or -1 when pruning dropped it (Dictionary::pushHash). */
  private rowOfBucket(id: number): number {
    if (this.pruneSize < 0) return this.nwords + id;
    if (this.pruneSize === 0) return -1;
    const prune = this.prune;
    for (let s = this.pruneSlot(id); ; s = (s + 1) & this.pruneMask) {
      const key = prune[2 * s]!;
      if (key === id + 1) return prune[2 * s + 1]!;
      if (key === 0) return -1;
    }
  }

  private hashOf(bytes: Uint8Array, from: number, to: number): number {
    let h = FNV_OFFSET;
    for (let i = from; i < to; i++) h = fnvStep(h, bytes[i]!);
    return h;
  }

  private findWord(bytes: Uint8Array, from: number, to: number, hash: number): number {
    const mask = this.wordSlots.length - 1;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const w = this.wordSlots[s]!;
      if (w < 0) return -1;
      if (this.wordHashes[w] !== hash >>> 0) continue;
      const start = this.wordStart[w]!;
      if (this.wordStart[w + 1]! - start !== to - from) continue;
      let same = true;
      for (let i = 0; i < to - from && same; i++) same = this.wordBytes[start + i] === bytes[from + i];
      if (same) return w;
    }
  }

  /**
   * The rows of the character n-grams of `<word>` (Dictionary::computeSubwords), `word` being
   * `bytes[from..to)`: n counts UTF-8 characters, not bytes; a lone `<` or `>` is no n-gram. Each
   * n-gram's hash grows byte by byte. The rows go to `out`, or into the hidden vector when null.
   */
  private ngramRows(bytes: Uint8Array, from: number, to: number, out: number[] | null): void {
    const length = to - from;
    if (this.token.length < length + 2) this.token = new Uint8Array(length + 2);
    const t = this.token;
    t[0] = 0x3c; // '<'
    for (let k = 0; k < length; k++) t[k + 1] = bytes[from + k]!;
    t[length + 1] = 0x3e; // '>'
    const end = length + 2;
    const maxn = this.maxn;
    const minn = this.minn;
    for (let i = 0; i < end; i++) {
      if ((t[i]! & 0xc0) === 0x80) continue;
      let h = FNV_OFFSET;
      let j = i;
      for (let n = 1; j < end && n <= maxn; n++) {
        h = fnvStep(h, t[j++]!);
        while (j < end && (t[j]! & 0xc0) === 0x80) h = fnvStep(h, t[j++]!);
        if (n >= minn && !(n === 1 && (i === 0 || j === end))) {
          const row = this.rowOfBucket(modulo(h, this.bucket));
          if (row < 0) continue;
          if (out === null) this.addRow(row);
          else out.push(row);
        }
      }
    }
  }

  /**
   * Adds input row `row` to the hidden vector (ProductQuantizer::addcode for a quantised matrix): each
   * product is rounded to float32 as fastText computes it, so the sums are fastText's to the bit.
   */
  private addRow(row: number): void {
    const hidden = this.hidden;
    const quant = this.quant;
    this.count++;
    if (quant === null) {
      const rows = this.rows;
      const dim = this.dim;
      const base = row * dim;
      for (let d = 0; d < dim; d++) hidden[d]! += rows[base + d]!;
      return;
    }
    const { codes, centroids, nsubq, dsub } = quant;
    const alpha = quant.norms[row]!;
    const base = row * nsubq;
    if (dsub === 2 && quant.lastdsub === 2) {
      // lid.176's shape, unrolled: sub-quantiser m adds to hidden[2m] and hidden[2m + 1].
      for (let m = 0; m < nsubq; m++) {
        const c = (m * KSUB + codes[base + m]!) * 2;
        hidden[2 * m]! += Math.fround(alpha * centroids[c]!);
        hidden[2 * m + 1]! += Math.fround(alpha * centroids[c + 1]!);
      }
      return;
    }
    for (let m = 0; m < nsubq; m++) {
      const last = m === nsubq - 1;
      const width = last ? quant.lastdsub : dsub;
      const c = last ? m * KSUB * dsub + codes[base + m]! * width : (m * KSUB + codes[base + m]!) * dsub;
      for (let n = 0; n < width; n++) hidden[m * dsub + n]! += Math.fround(alpha * centroids[c + n]!);
    }
  }

  /** The most probable label of one line of text, as `fasttext predict` with k = 1 and threshold 0 gives it. */
  predict(text: string): FastTextPrediction | null {
    if (this.buffer.length < text.length * 3 + 1) this.buffer = new Uint8Array(text.length * 3 + 1024);
    const buffer = this.buffer;
    const { written } = ENCODER.encodeInto(text, buffer);
    const hidden = this.hidden;
    const dim = this.dim;
    hidden.fill(0);
    this.count = 0;
    // Dictionary::getLine over the text and a final newline: tokens up to the end-of-sentence token.
    let i = 0;
    while (i < written) {
      const b = buffer[i]!;
      if (isSpace(b)) {
        if (b === 0x0a) break; // an empty token at a newline is the end of the sentence
        i++;
        continue;
      }
      const from = i;
      let h = FNV_OFFSET;
      while (i < written && !isSpace(buffer[i]!)) h = fnvStep(h, buffer[i++]!);
      if (isLabel(buffer, from, i)) continue; // a label in the text is not a feature
      // `</s>` written in the text ends the sentence there, as the final newline would (an HTML strike-through tag).
      if (isEos(buffer, from, i)) break;
      const w = this.findWord(buffer, from, i, h);
      if (w >= 0) {
        const end = this.subwordStart[w + 1]!;
        for (let s = this.subwordStart[w]!; s < end; s++) this.addRow(this.subwords[s]!);
      } else {
        this.ngramRows(buffer, from, i, null);
      }
    }
    if (this.eosRow >= 0) this.addRow(this.eosRow);
    if (this.count === 0) return null;
    const inv = Math.fround(1 / this.count);
    for (let d = 0; d < dim; d++) hidden[d]! *= inv;
    this.bestScore = Number.NEGATIVE_INFINITY;
    this.bestLeaf = -1;
    this.search(this.root, 0);
    if (this.bestLeaf < 0) return null;
    return { label: this.labels[this.bestLeaf]!, probability: Math.fround(Math.exp(this.bestScore)) };
  }

  /**
   * Depth-first search of the Huffman tree for the best leaf (HierarchicalSoftmaxLoss::dfs with k = 1),
   * in float32 as fastText computes it. Of two leaves with equal scores the later one is kept, as
   * fastText's one-entry heap keeps it.
   */
  private search(node: number, score: number): void {
    if (score < LOG_FLOOR || (this.bestLeaf >= 0 && score < this.bestScore)) return;
    const left = this.left[node]!;
    if (left === -1 && this.right[node] === -1) {
      if (this.bestLeaf < 0 || score >= this.bestScore) {
        this.bestScore = score;
        this.bestLeaf = node;
      }
      return;
    }
    const dim = this.dim;
    const hidden = this.hidden;
    const output = this.output;
    const base = (node - this.labelCount) * dim;
    let f = 0;
    for (let d = 0; d < dim; d++) f = Math.fround(f + Math.fround(output[base + d]! * hidden[d]!));
    f = Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-f))));
    this.search(left, Math.fround(score + stdLog(1 - f)));
    this.search(this.right[node]!, Math.fround(score + stdLog(f)));
  }
}

/** Threshold 0 in fastText's smoothed log: no label is cut for its probability alone. */
const LOG_FLOOR = stdLog(0);

const ENCODER = new TextEncoder();
const LABEL_BYTES = Buffer.from(LABEL_PREFIX);

const EOS_BYTES = Buffer.from(EOS);

function isEos(bytes: Uint8Array, from: number, to: number): boolean {
  return (
    to - from === EOS_BYTES.length &&
    bytes[from] === EOS_BYTES[0] &&
    bytes[from + 1] === EOS_BYTES[1] &&
    bytes[from + 2] === EOS_BYTES[2] &&
    bytes[from + 3] === EOS_BYTES[3]
  );
}

function isLabel(bytes: Uint8Array, from: number, to: number): boolean {
  if (to - from < LABEL_BYTES.length) return false;
  for (let i = 0; i < LABEL_BYTES.length; i++) if (bytes[from + i] !== LABEL_BYTES[i]) return false;
  return true;
}
