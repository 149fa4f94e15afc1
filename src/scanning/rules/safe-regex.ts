/**
 * Policy regexes run on every message, so a pattern that backtracks
 * catastrophically would let one crafted message stall a worker (ReDoS). Node's
 * engine backtracks and has no time limit, and re2 is a native dependency we do
 * without. Instead a pattern is checked when the policy is compiled, and refused
 * with a reason when it could backtrack badly; what passes is rewritten into an
 * equivalent-for-detection form whose work per text position is bounded:
 *
 * 1. Backreferences (`\1`, `\k<name>`) are refused: they make matching NP-hard.
 * 2. Nested repetition is refused when either repeat is unbounded (`(a+)+`,
 *    `(\w+\s?)*`, `(x{2,3}){2,}`); bounded in bounded (`(?:\d{3}[-. ]?){2}`) is
 *    polynomial and only counted (4). A repeated group may not have alternatives
 *    that can start with the same character (`(a|ab)*`).
 * 3. Unbounded repeats are bounded: `+`, `*` and `{n,}` become `{1,64}`,
 *    `{0,64}` and `{n,max(n,64)}`. `\d+` then matches at most 64 digits — for
 *    detection the first 64 are enough — and `\w+@` on a 64 KB run of letters costs
 *    64 steps per position instead of 64 K (measured: 27 ms instead of 5 s).
 * 4. What remains can still multiply: `.{0,64}a.{0,64}b` tries 65 × 65 ways at
 *    every position of "aaaa…". The checker estimates the backtracking choices
 *    per position — the product of the repeat ranges along a chain of adjacent
 *    items whose character sets overlap (disjoint neighbours, like `\w+\s+`, do
 *    not multiply: the boundary between them is forced) — and refuses a pattern
 *    above {@link MAX_CHOICES}. Character sets are compared by probing them with
 *    a sample of characters from the major scripts; a set that none of the
 *    samples falls in counts as overlapping every other set. The sample can
 *    still miss an overlap between two sets of rare characters that each
 *    contain a sample (then the estimate is low; the 64-repeat cap still bounds
 *    the work).
 *
 * The rule set also runs regexes on at most the first 64 KB of a message (see
 * rules.ts), so the worst case is bounded by 64 K positions × 256 choices × the
 * number of regex rules.
 *
 * Capturing and named groups become non-capturing (nothing reads them, and one
 * combined pattern cannot hold the same group name twice). For the `basic` text
 * level, literal characters are folded like the text (lower case, diacritics
 * stripped) and character classes gain the folded form of each member, so
 * `Кокаин` and `[A-Z]` mean what the author meant on lower-cased text.
 */

/** Largest estimated number of backtracking choices per text position. */
export const MAX_CHOICES = 256;
/** Upper bound given to unbounded repeats. */
export const REPEAT_CAP = 64;
/** Longest pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 2000;

export class UnsafePatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePatternError';
  }
}

export interface CheckedPattern {
  /** The rewritten source, to compile with the `u` flag. */
  readonly source: string;
  /** Estimated backtracking choices per text position (≤ MAX_CHOICES). */
  readonly choices: number;
}

type Node =
  | { t: 'lit'; cp: number }
  | { t: 'esc'; src: string } // \d \w \s \D \W \S \p{…} \P{…}
  | { t: 'class'; negated: boolean; items: ClassItem[] }
  | { t: 'dot' }
  | { t: 'assert'; src: string } // ^ $ \b \B
  | { t: 'group'; look: string | null; body: Alt } // look: '?=', '?!', '?<=', '?<!' or null
  | { t: 'quant'; atom: Node; min: number; max: number; lazy: boolean; src: string };

type ClassItem = { t: 'char'; cp: number } | { t: 'range'; from: number; to: number } | { t: 'esc'; src: string };

interface Alt {
  branches: Node[][];
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Alt {
    const alt = this.alternation();
    if (this.i < this.s.length) throw new UnsafePatternError(`unexpected '${this.s[this.i]}' at ${this.i}`);
    return alt;
  }

  private peek(): string | undefined {
    return this.s[this.i];
  }

  private alternation(): Alt {
    const branches: Node[][] = [this.sequence()];
    while (this.peek() === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return { branches };
  }

  private sequence(): Node[] {
    const items: Node[] = [];
    while (this.i < this.s.length && this.peek() !== '|' && this.peek() !== ')') {
      let node = this.term();
      const q = this.quantifier();
      if (q) {
        if (node.t === 'assert' || (node.t === 'group' && node.look)) {
          throw new UnsafePatternError('a quantifier on an assertion is not supported');
        }
        node = { t: 'quant', atom: node, ...q };
      }
      items.push(node);
    }
    return items;
  }

  private quantifier(): { min: number; max: number; lazy: boolean; src: string } | null {
    const start = this.i;
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : Number.POSITIVE_INFINITY;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
      if (!m) return null;
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
    } else {
      return null;
    }
    let lazy = false;
    if (this.peek() === '?') {
      lazy = true;
      this.i++;
    }
    return { min, max, lazy, src: this.s.slice(start, this.i) };
  }

  private term(): Node {
    const c = this.s.codePointAt(this.i)!;
    const ch = String.fromCodePoint(c);
    if (ch === '^' || ch === '$') {
      this.i++;
      return { t: 'assert', src: ch };
    }
    if (ch === '.') {
      this.i++;
      return { t: 'dot' };
    }
    if (ch === '[') return this.characterClass();
    if (ch === '(') return this.group();
    if (ch === '\\') return this.escape(false) as Node;
    this.i += ch.length;
    return { t: 'lit', cp: c };
  }

  private group(): Node {
    this.i++; // (
    let look: string | null = null;
    if (this.s.startsWith('?:', this.i)) this.i += 2;
    else if (this.s.startsWith('?=', this.i) || this.s.startsWith('?!', this.i)) {
      look = this.s.slice(this.i, this.i + 2);
      this.i += 2;
    } else if (this.s.startsWith('?<=', this.i) || this.s.startsWith('?<!', this.i)) {
      look = this.s.slice(this.i, this.i + 3);
      this.i += 3;
    } else if (this.s.startsWith('?<', this.i)) {
      const close = this.s.indexOf('>', this.i);
      this.i = close + 1; // a named group: kept as a plain group
    }
    const body = this.alternation();
    this.i++; // )
    return { t: 'group', look, body };
  }

  /** Parses an escape; inside a class `\b` is a backspace and assertions do not exist. */
  private escape(inClass: boolean): Node | ClassItem {
    const next = this.s[this.i + 1]!;
    this.i += 2;
    if ('dDwWsS'.includes(next)) return { t: 'esc', src: `\\${next}` };
    if (next === 'p' || next === 'P') {
      const close = this.s.indexOf('}', this.i);
      const src = `\\${next}${this.s.slice(this.i, close + 1)}`;
      this.i = close + 1;
      return { t: 'esc', src };
    }
    if (!inClass && (next === 'b' || next === 'B')) return { t: 'assert', src: `\\${next}` };
    if (/[1-9]/.test(next) || next === 'k') {
      throw new UnsafePatternError(
        'backreferences (\\1, \\k<name>) are not allowed: they cannot be matched in bounded time',
      );
    }
    const lit = (cp: number) => (inClass ? ({ t: 'char', cp } as ClassItem) : ({ t: 'lit', cp } as Node));
    switch (next) {
      case 'n':
        return lit(0x0a);
      case 'r':
        return lit(0x0d);
      case 't':
        return lit(0x09);
      case 'v':
        return lit(0x0b);
      case 'f':
        return lit(0x0c);
      case '0':
        return lit(0);
      case 'b':
        return lit(0x08);
      case 'c': {
        const letter = this.s.charCodeAt(this.i);
        this.i++;
        return lit(letter % 32);
      }
      case 'x': {
        const hex = this.s.slice(this.i, this.i + 2);
        this.i += 2;
        return lit(Number.parseInt(hex, 16));
      }
      case 'u': {
        let cp: number;
        if (this.s[this.i] === '{') {
          const close = this.s.indexOf('}', this.i);
          cp = Number.parseInt(this.s.slice(this.i + 1, close), 16);
          this.i = close + 1;
        } else {
          cp = Number.parseInt(this.s.slice(this.i, this.i + 4), 16);
          this.i += 4;
          const lowSurrogate = /^\\u(d[c-f][0-9a-f]{2})/i.exec(this.s.slice(this.i));
          if (cp >= 0xd800 && cp <= 0xdbff && lowSurrogate) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (Number.parseInt(lowSurrogate[1]!, 16) - 0xdc00);
            this.i += 6;
          }
        }
        return lit(cp);
      }
      default: {
        const cp = this.s.codePointAt(this.i - 1)!;
        this.i += String.fromCodePoint(cp).length - 1;
        return lit(cp);
      }
    }
  }

  private characterClass(): Node {
    this.i++; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    const items: ClassItem[] = [];
    while (this.peek() !== ']') {
      const item = this.classAtom();
      if (item.t === 'char' && this.peek() === '-' && this.s[this.i + 1] !== ']') {
        this.i++;
        const to = this.classAtom();
        if (to.t === 'char') {
          items.push({ t: 'range', from: item.cp, to: to.cp });
          continue;
        }
        items.push(item, { t: 'char', cp: 0x2d }, to);
        continue;
      }
      items.push(item);
    }
    this.i++; // ]
    return { t: 'class', negated, items };
  }

  private classAtom(): ClassItem {
    if (this.peek() === '\\') return this.escape(true) as ClassItem;
    const cp = this.s.codePointAt(this.i)!;
    this.i += String.fromCodePoint(cp).length;
    return { t: 'char', cp };
  }
}

// ---- Character-set signatures, by probing -------------------------------------------------

/** Printable ASCII, spaces, and a few letters, digits and symbols of each major script. */
const PROBES: string[] = [];
for (let c = 0x20; c < 0x7f; c++) PROBES.push(String.fromCharCode(c));
PROBES.push(
  ...'\t\n\r\u00a0\u2028\u3000\u200b',
  ...'éßøłıſ',
  ...'аяёіђ',
  ...'αωάς',
  ...'աֆ',
  ...'აჰ',
  ...'אתװ',
  ...'ابیکه٣۳',
  ...'नाक्३',
  ...'কাগ',
  ...'கா',
  ...'กาะ๓',
  ...'中人あアーー한',
  ...'€$£¥©°±×',
  '😀',
  '👍',
);
/** Index of the flag "matches characters none of the probes is": such a set may overlap anything. */
const UNKNOWN = PROBES.length;

type Sig = Uint8Array<ArrayBuffer>;

function probe(source: string): Sig {
  const re = new RegExp(`^(?:${source})$`, 'u');
  const sig = new Uint8Array(PROBES.length + 1);
  let any = false;
  PROBES.forEach((p, k) => {
    sig[k] = re.test(p) ? 1 : 0;
    any ||= sig[k] === 1;
  });
  if (!any) sig[UNKNOWN] = 1;
  return sig;
}

const isEmpty = (a: Sig) => a.every((v) => v === 0);
const overlaps = (a: Sig, b: Sig) =>
  (a[UNKNOWN] === 1 && !isEmpty(b)) || (b[UNKNOWN] === 1 && !isEmpty(a)) || a.some((v, k) => v === 1 && b[k] === 1);
const union = (a: Sig, b: Sig): Sig => a.map((v, k) => v | b[k]!);
const emptySig = () => new Uint8Array(PROBES.length + 1);

// ---- Emission --------------------------------------------------------------------------------

const plain = /^[\p{L}\p{N} ]$/u;
const emitChar = (cp: number) => {
  const ch = String.fromCodePoint(cp);
  return plain.test(ch) ? ch : `\\u{${cp.toString(16)}}`;
};

type Fold = (cp: number) => string;

function emitLiteral(cp: number, fold: Fold | null): string {
  const folded = fold ? fold(cp) : String.fromCodePoint(cp);
  return [...folded].map((ch) => emitChar(ch.codePointAt(0)!)).join('');
}

/** Ranges up to this size gain the folded form of each member. */
const MAX_FOLDED_RANGE = 1024;

function emitClass(node: Extract<Node, { t: 'class' }>, fold: Fold | null): string {
  const parts: string[] = [];
  const extra = new Set<number>();
  const addFolded = (cp: number) => {
    if (!fold) return;
    const f = [...fold(cp)];
    if (f.length === 1) {
      const fc = f[0]!.codePointAt(0)!;
      if (fc !== cp) extra.add(fc);
    }
  };
  for (const item of node.items) {
    if (item.t === 'esc') parts.push(item.src);
    else if (item.t === 'char') {
      parts.push(emitChar(item.cp));
      addFolded(item.cp);
    } else {
      parts.push(`${emitChar(item.from)}-${emitChar(item.to)}`);
      if (item.to - item.from <= MAX_FOLDED_RANGE) for (let c = item.from; c <= item.to; c++) addFolded(c);
    }
  }
  for (const c of extra) parts.push(emitChar(c));
  return `[${node.negated ? '^' : ''}${parts.join('')}]`;
}

function emitAlt(alt: Alt, fold: Fold | null): string {
  return alt.branches.map((b) => b.map((n) => emitNode(n, fold)).join('')).join('|');
}

function emitNode(node: Node, fold: Fold | null): string {
  switch (node.t) {
    case 'lit':
      return emitLiteral(node.cp, fold);
    case 'esc':
    case 'assert':
      return node.src;
    case 'dot':
      return '.';
    case 'class':
      return emitClass(node, fold);
    case 'group':
      return `(${node.look ?? '?:'}${emitAlt(node.body, fold)})`;
    case 'quant': {
      let atom = emitNode(node.atom, fold);
      const single = node.atom.t !== 'lit' || [...atom.matchAll(/\\u\{[0-9a-f]+\}|./gu)].length === 1;
      if (!single || atom === '') atom = `(?:${atom})`;
      const max = Number.isFinite(node.max) ? node.max : Math.max(node.min, REPEAT_CAP);
      const q = node.min === max ? `{${max}}` : `{${node.min},${max}}`;
      return `${atom}${q}${node.lazy ? '?' : ''}`;
    }
  }
}

// ---- Analysis --------------------------------------------------------------------------------

interface Info {
  /** Backtracking choices per position inside the node. */
  choices: number;
  /** Characters the node can consume. */
  sig: Sig;
  /** Characters the node can start with. */
  first: Sig;
  /** Whether the node contains a repeat (max > 1). */
  repeats: boolean;
  /** Whether the node contains a repeat written without an upper bound (`+`, `*`, `{n,}`). */
  unbounded: boolean;
  /** Whether the node can match the empty string. */
  optional: boolean;
}

class Analyser {
  private readonly sigCache = new Map<string, Sig>();

  constructor(private readonly fold: Fold | null) {}

  private sigOf(source: string): Sig {
    let sig = this.sigCache.get(source);
    if (!sig) {
      sig = probe(source);
      this.sigCache.set(source, sig);
    }
    return sig;
  }

  alt(alt: Alt): Info {
    let choices = 0;
    let sig = emptySig();
    let first = emptySig();
    let repeats = false;
    let unbounded = false;
    let optional = false;
    const infos = alt.branches.map((branch) => this.sequence(branch));
    // Only alternatives that can start with the same character compete at a position.
    for (const info of infos) {
      let competing = 0;
      for (const other of infos) if (other === info || overlaps(info.first, other.first)) competing += other.choices;
      choices = Math.max(choices, competing);
    }
    for (const info of infos) {
      sig = union(sig, info.sig);
      first = union(first, info.first);
      repeats ||= info.repeats;
      unbounded ||= info.unbounded;
      optional ||= info.optional;
    }
    return { choices: Math.max(1, choices), sig, first, repeats, unbounded, optional };
  }

  /**
   * Walks a sequence keeping a chain of adjacent items that compete for the same
   * characters: an item whose first characters overlap the chain's multiplies
   * its choices; a mandatory item that does not overlap ends the chain (the
   * boundary is forced); an optional one that does not overlap is skipped over
   * (its characters join the chain, as the next item may abut what came before).
   */
  private sequence(items: Node[]): Info {
    let worst = 1;
    let chain = 1;
    let chainSig: Sig | null = null;
    let sig = emptySig();
    let first = emptySig();
    let leading = true;
    let repeats = false;
    let unbounded = false;
    let optional = true;
    for (const item of items) {
      const info = this.node(item);
      repeats ||= info.repeats;
      unbounded ||= info.unbounded;
      if (item.t === 'assert' || (item.t === 'group' && item.look)) {
        worst = Math.max(worst, info.choices);
        continue;
      }
      sig = union(sig, info.sig);
      if (leading) first = union(first, info.first);
      leading &&= info.optional;
      optional &&= info.optional;
      const competes = chainSig !== null && overlaps(chainSig, info.first);
      if (competes) {
        chain *= info.choices;
        chainSig = union(chainSig!, info.sig);
      } else if (info.optional) {
        chain = Math.max(chain, info.choices);
        chainSig = chainSig ? union(chainSig, info.sig) : info.sig;
      } else if (info.choices > 1) {
        chain = info.choices;
        chainSig = info.sig;
      } else {
        chain = 1;
        chainSig = null;
      }
      worst = Math.max(worst, chain);
    }
    return { choices: worst, sig, first, repeats, unbounded, optional };
  }

  private node(node: Node): Info {
    const none = { repeats: false, unbounded: false, optional: false, choices: 1 };
    switch (node.t) {
      case 'lit': {
        const s = emitLiteral(node.cp, this.fold);
        const sig = s === '' ? emptySig() : this.sigOf(`[${s}]`);
        return { ...none, optional: s === '', sig, first: sig };
      }
      case 'esc':
      case 'dot':
      case 'class': {
        const sig = this.sigOf(emitNode(node, this.fold));
        return { ...none, sig, first: sig };
      }
      case 'assert':
        return { ...none, optional: true, sig: emptySig(), first: emptySig() };
      case 'group':
        return this.alt(node.body);
      case 'quant': {
        const inner = this.node(node.atom);
        const max = Number.isFinite(node.max) ? node.max : Math.max(node.min, REPEAT_CAP);
        const unbounded = !Number.isFinite(node.max);
        if (max > 1) {
          // Bounded within bounded, like (?:\d{3}[-. ]?){2}, is only polynomial: its cost is counted below.
          if (inner.repeats && (unbounded || inner.unbounded)) {
            throw new UnsafePatternError(
              `nested quantifier: the repeated ${describe(node.atom)} contains a repeat itself, which can backtrack exponentially; repeat the inner part only`,
            );
          }
          if (node.atom.t === 'group' && !this.firstCharactersDisjoint(node.atom.body)) {
            throw new UnsafePatternError(
              `the repeated ${describe(node.atom)} has alternatives that can start with the same character, which can backtrack exponentially`,
            );
          }
        }
        return {
          choices: Math.min(1e9, (max - node.min + 1) * inner.choices ** Math.min(max, 30)),
          sig: inner.sig,
          first: inner.first,
          repeats: max > 1 || inner.repeats,
          unbounded: unbounded || inner.unbounded,
          optional: node.min === 0 || inner.optional,
        };
      }
    }
  }

  private firstCharactersDisjoint(alt: Alt): boolean {
    if (alt.branches.length < 2) return true;
    const firsts = alt.branches.map((b) => this.sequence(b).first);
    for (let a = 0; a < firsts.length; a++) {
      for (let b = a + 1; b < firsts.length; b++) if (overlaps(firsts[a]!, firsts[b]!)) return false;
    }
    return true;
  }
}

function describe(node: Node): string {
  return node.t === 'group' ? 'group' : 'item';
}

/**
 * Checks a policy regex (see the module comment) and returns its rewritten form.
 * `fold` folds literal characters like the text the pattern will run on (null:
 * leave them). Throws `SyntaxError` for a malformed pattern and
 * `UnsafePatternError` for one that could backtrack badly.
 */
export function checkPattern(pattern: string, fold: Fold | null): CheckedPattern {
  if (pattern.length === 0) throw new UnsafePatternError('the pattern is empty');
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new UnsafePatternError(`the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  new RegExp(pattern, 'u'); // throws SyntaxError with V8's own message when malformed
  const ast = new Parser(pattern).parse();
  const analyser = new Analyser(fold);
  const info = analyser.alt(ast);
  if (info.choices > MAX_CHOICES) {
    throw new UnsafePatternError(
      `adjacent repeats over overlapping characters could backtrack ~${info.choices} ways per character (limit ${MAX_CHOICES}); bound them more tightly (e.g. \\s{1,3}) or separate them with literal text`,
    );
  }
  if (info.optional) throw new UnsafePatternError('the pattern matches the empty string');
  const source = emitAlt(ast, fold);
  new RegExp(source, 'u'); // the rewrite must itself be valid
  return { source, choices: info.choices };
}
