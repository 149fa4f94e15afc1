/**
 * Aho–Corasick multi-pattern matching: A. V. Aho and M. J. Corasick, "Efficient
 * string matching: an aid to bibliographic search", Communications of the ACM
 * 18(6):333–340, 1975.
 *
 * All keywords are compiled once into one trie with failure links (the longest
 * proper suffix of a node's string that is also in the trie) and dictionary
 * links (the nearest node down the failure chain that ends a keyword). A scan
 * reads each UTF-16 unit of the text once; the failure transitions it takes are
 * bounded by the units read, so the cost is linear in the text plus the matches
 * reported — whatever the number of keywords.
 *
 * Layout, chosen for a flat memory profile at 10,000+ keywords: a dense
 * 65,536-entry table for the root (most units of most texts leave the root or
 * fall back to it), and for every other node its children as a sorted slice of
 * two typed arrays (units, targets), searched linearly when short and by
 * bisection when long.
 */

export interface KeywordPattern {
  /** The (already normalised) text to find. */
  readonly text: string;
  /** The unit before the match must not be a word unit (or the match starts the text). */
  readonly wordStart: boolean;
  /** The unit after the match must not be a word unit (or the match ends the text). */
  readonly wordEnd: boolean;
}

/** Called for each match: the pattern's index in the build list and the match's [start, end) in the text. */
export type MatchHandler = (pattern: number, start: number, end: number) => void;

export interface AutomatonStats {
  readonly nodes: number;
  readonly patterns: number;
  /** Number of scan() calls so far. */
  readonly scans: number;
  /** State transitions (goto and failure) taken by the last scan: at most twice its length. */
  readonly lastScanSteps: number;
}

const LINEAR_SEARCH_MAX = 8;

export class AhoCorasick {
  private readonly rootNext: Int32Array;
  private readonly childStart: Int32Array;
  private readonly childUnits: Uint16Array;
  private readonly childTargets: Int32Array;
  private readonly fail: Int32Array;
  /** Next node down the failure chain (self excluded) that ends a pattern, or -1. */
  private readonly dictLink: Int32Array;
  private readonly outStart: Int32Array;
  /** The node itself when it ends a pattern, else its dictionary link: the first node to report from. */
  private readonly outLink: Int32Array;
  private readonly outPatterns: Int32Array;
  private readonly patternLength: Int32Array;
  private readonly patternWordStart: Uint8Array;
  private readonly patternWordEnd: Uint8Array;
  private scans = 0;
  private lastScanSteps = 0;

  /**
   * Builds the automaton. `isWordUnit` decides what a word boundary is for the
   * patterns that ask for one. Empty patterns are ignored.
   */
  constructor(
    patterns: readonly KeywordPattern[],
    private readonly isWordUnit: (unit: number) => boolean,
  ) {
    // 1. The trie. Edges live in one Map keyed by node * 65536 + unit while building.
    const edges = new Map<number, number>();
    const ends: number[][] = [[]];
    let nodeCount = 1;
    this.patternLength = new Int32Array(patterns.length);
    this.patternWordStart = new Uint8Array(patterns.length);
    this.patternWordEnd = new Uint8Array(patterns.length);
    patterns.forEach((p, index) => {
      this.patternLength[index] = p.text.length;
      this.patternWordStart[index] = p.wordStart ? 1 : 0;
      this.patternWordEnd[index] = p.wordEnd ? 1 : 0;
      if (p.text.length === 0) return;
      let node = 0;
      for (let i = 0; i < p.text.length; i++) {
        const key = node * 65536 + p.text.charCodeAt(i);
        let next = edges.get(key);
        if (next === undefined) {
          next = nodeCount++;
          edges.set(key, next);
          ends.push([]);
        }
        node = next;
      }
      ends[node]!.push(index);
    });

    // 2. Children as sorted slices (CSR), and the root's dense table.
    const sorted = [...edges.entries()].sort((a, b) => a[0] - b[0]);
    this.childStart = new Int32Array(nodeCount + 1);
    this.childUnits = new Uint16Array(sorted.length);
    this.childTargets = new Int32Array(sorted.length);
    this.rootNext = new Int32Array(65536);
    let e = 0;
    for (let node = 0; node < nodeCount; node++) {
      this.childStart[node] = e;
      while (e < sorted.length && Math.floor(sorted[e]![0] / 65536) === node) {
        const unit = sorted[e]![0] % 65536;
        this.childUnits[e] = unit;
        this.childTargets[e] = sorted[e]![1];
        if (node === 0) this.rootNext[unit] = sorted[e]![1];
        e++;
      }
    }
    this.childStart[nodeCount] = e;

    // 3. Failure and dictionary links, breadth first.
    this.fail = new Int32Array(nodeCount);
    this.dictLink = new Int32Array(nodeCount).fill(-1);
    const queue = new Int32Array(nodeCount);
    let head = 0;
    let tail = 0;
    for (let k = this.childStart[0]!; k < this.childStart[1]!; k++) queue[tail++] = this.childTargets[k]!;
    while (head < tail) {
      const node = queue[head++]!;
      for (let k = this.childStart[node]!; k < this.childStart[node + 1]!; k++) {
        const unit = this.childUnits[k]!;
        const child = this.childTargets[k]!;
        let f = this.fail[node]!;
        let target = this.step(f, unit);
        while (target < 0 && f !== 0) {
          f = this.fail[f]!;
          target = this.step(f, unit);
        }
        const failTo = target > 0 && target !== child ? target : 0;
        this.fail[child] = failTo;
        this.dictLink[child] = ends[failTo]!.length > 0 ? failTo : this.dictLink[failTo]!;
        queue[tail++] = child;
      }
    }

    // 4. Outputs (CSR).
    this.outStart = new Int32Array(nodeCount + 1);
    let total = 0;
    for (let node = 0; node < nodeCount; node++) {
      this.outStart[node] = total;
      total += ends[node]!.length;
    }
    this.outStart[nodeCount] = total;
    this.outPatterns = new Int32Array(total);
    for (let node = 0; node < nodeCount; node++) this.outPatterns.set(ends[node]!, this.outStart[node]!);
    this.outLink = new Int32Array(nodeCount);
    for (let node = 0; node < nodeCount; node++)
      this.outLink[node] = ends[node]!.length > 0 ? node : this.dictLink[node]!;
  }

  /** The child of `node` along `unit`, or -1 (from the root: 0 when there is none). */
  private step(node: number, unit: number): number {
    if (node === 0) return this.rootNext[unit]!;
    let lo = this.childStart[node]!;
    let hi = this.childStart[node + 1]!;
    if (hi - lo <= LINEAR_SEARCH_MAX) {
      for (; lo < hi; lo++) if (this.childUnits[lo] === unit) return this.childTargets[lo]!;
      return -1;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const u = this.childUnits[mid]!;
      if (u === unit) return this.childTargets[mid]!;
      if (u < unit) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  /** One pass over `text`, calling `onMatch` for every occurrence of every pattern (overlaps included). */
  scan(text: string, onMatch: MatchHandler): void {
    const units = new Uint16Array(text.length);
    for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
    this.scanUnits(units, onMatch);
  }

  /** The same over UTF-16 units (what the normaliser produces, without decoding it into a string). */
  scanUnits(text: Uint16Array, onMatch: MatchHandler): void {
    const n = text.length;
    const rootNext = this.rootNext;
    const childStart = this.childStart;
    const childUnits = this.childUnits;
    const childTargets = this.childTargets;
    const fail = this.fail;
    const outLink = this.outLink;
    let state = 0;
    let steps = 0;
    for (let i = 0; i < n; i++) {
      const unit = text[i]!;
      for (;;) {
        steps++;
        if (state === 0) {
          state = rootNext[unit]!;
          break;
        }
        // Children of a node: a short sorted slice, searched in place (bisection when long).
        let lo = childStart[state]!;
        const hi = childStart[state + 1]!;
        let next = -1;
        if (hi - lo <= LINEAR_SEARCH_MAX) {
          for (; lo < hi; lo++) {
            if (childUnits[lo] === unit) {
              next = childTargets[lo]!;
              break;
            }
          }
        } else {
          next = this.step(state, unit);
        }
        if (next >= 0) {
          state = next;
          break;
        }
        state = fail[state]!;
      }
      let out = outLink[state]!;
      while (out > 0) {
        for (let k = this.outStart[out]!; k < this.outStart[out + 1]!; k++) {
          this.report(text, this.outPatterns[k]!, i + 1, onMatch);
        }
        out = this.dictLink[out]!;
      }
    }
    this.scans++;
    this.lastScanSteps = steps;
  }

  private report(text: Uint16Array, pattern: number, end: number, onMatch: MatchHandler): void {
    const start = end - this.patternLength[pattern]!;
    if (this.patternWordStart[pattern] === 1 && start > 0 && this.isWordUnit(text[start - 1]!)) return;
    if (this.patternWordEnd[pattern] === 1 && end < text.length && this.isWordUnit(text[end]!)) return;
    onMatch(pattern, start, end);
  }

  get stats(): AutomatonStats {
    return {
      nodes: this.fail.length,
      patterns: this.patternLength.length,
      scans: this.scans,
      lastScanSteps: this.lastScanSteps,
    };
  }
}
