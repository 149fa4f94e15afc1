/**
 * Text normalisation for rule matching: the same function folds the policy's
 * keywords and the scanned text, so whatever an evader changes on one side is
 * changed back on both.
 *
 * Three levels, each a superset of the one before:
 *
 * - `compat` — compatibility folding only (NFKC per code point: full-width,
 *   mathematical and circled letters, ligatures; native digits such as ٣ or ३
 *   become ASCII) and invisible characters removed (zero-width space/joiners,
 *   bidi controls, soft hyphen, word joiner, BOM, variation selectors, tag
 *   characters, Hangul fillers, emoji skin-tone modifiers). Case is kept. Used
 *   for crypto wallets (base58 is case-sensitive) and phone numbers.
 * - `basic` — compat, plus case folding, diacritics stripped (combining marks of
 *   Latin, Greek, Cyrillic, Hebrew points and Arabic harakat and tatweel; the
 *   vowel signs of Indic scripts are letters' parts and are kept), Arabic/Persian
 *   letter variants unified (ي/ى→ی, ك→ک, ة→ه), small capitals and other Latin
 *   look-alikes (ɑ ɡ ɪ ʀ…) to ASCII, and homoglyphs in **mixed-script words**
 *   folded to the word's majority script: "соcaine" with a Cyrillic с and о
 *   becomes "cocaine"; "кoкаин" with a Latin o becomes "кокаин". Punctuation and
 *   spacing are kept. Used for regex rules and domain lists.
 * - `full` — basic, plus leetspeak inside words that contain a letter
 *   (c0c@ine → cocaine, a$$ → ass; a number on its own stays a number; a
 *   leading @ is a mention and a trailing ! punctuation), Cyrillic leetspeak in
 *   Cyrillic words (к0кс → кокс), the letters i and l merged (1, l, I, |, ! all
 *   look alike), single letters joined when at least three stand in a row split
 *   by the same one or two separator characters ("c.o.c.a.i.n.e", "c o c a i n
 *   e"), every run of separators and spaces collapsed to one space, and runs of
 *   the same letter collapsed to one. Used for keyword rules and allow-listed
 *   terms. Not undone: masking (f*ck), letters split into chunks (coc aine),
 *   words spelt out phonetically.
 *
 * Repeated letters: every run of two or more identical letters is collapsed to a
 * single letter and its length is kept in `runs`. The keyword matcher then
 * requires each letter run of the text to be at least as long as the keyword's
 * run: "cocaaaaine" and "cocaaine" match "cocaine", yet "as" does not match the
 * keyword "ass" (whose run of s is 2), which collapsing alone would allow.
 *
 * Homoglyph table: a compact subset of the Unicode confusables data, UTS #39
 * "Unicode Security Mechanisms", https://www.unicode.org/Public/security/latest/confusables.txt
 * (Cyrillic, Greek and Armenian letters mapped to the Latin letter they are
 * confusable with, and the reverse for Latin letters inside Cyrillic words).
 * Lower-case forms of letters whose capital is confusable (в from В, н from Н,
 * т from Т, м from М, к from К, ь from Ь) are added so that folding does not
 * depend on case; Greek η, μ, κ, τ, ω go by their lower-case shapes (n, u, k,
 * t, w). Only mixed-script words are folded, after UTS #39's
 * mixed-script detection: folding every Cyrillic word to Latin would turn the
 * Russian "рот" (mouth) into "pot" and "сок" (juice) into "cok". A word spelt
 * entirely in look-alike letters of another script ("сосаіпе") is therefore
 * not caught — a known gap.
 *
 * Offsets: `offsets[i]` is the UTF-16 index in the source of the character that
 * produced `text[i]`, and `offsets[text.length]` is the source length, so a
 * match can be highlighted in the original (see `toSourceSpan`).
 *
 * Cost: linear, one pass per level over arrays of code points; the Unicode
 * work (NFKC/NFKD, property lookups) runs once per distinct character and is
 * cached in tables. `TextLevels` computes the levels of one text on demand,
 * sharing the per-character fold between `basic` and `full` and skipping work
 * a pure-ASCII or single-script text does not need.
 */

/** How much a text is folded; see the module comment. */
export type NormalisationLevel = 'compat' | 'basic' | 'full';

export interface NormalisedText {
  /** The folded text. */
  readonly text: string;
  /** The folded text as UTF-16 units, when it was folded into a buffer (always for `full`). */
  readonly units: Uint16Array | undefined;
  /** Source index (UTF-16) of the character each unit of `text` came from; one more entry: the source length. */
  readonly offsets: Int32Array;
  /** `full` only: how many identical letters each unit stands for (1 unless a run was collapsed). */
  readonly runs: Uint16Array | undefined;
  /** The text before folding. */
  readonly source: string;
  readonly level: NormalisationLevel;
}

// Element classes.
const SEP = 0;
const NEWLINE = 1;
const LETTER = 2;
const DIGIT = 3;
const MARK = 4;
const LEET = 5;
const SYMBOL = 6;
// Scripts of letters.
const S_NONE = 0;
const S_LATIN = 1;
const S_CYRILLIC = 2;
const S_GREEK = 3;
const S_ARMENIAN = 4;
const S_OTHER = 5;
const S_UNSPACED = 6;

/** Metadata of a folded code point: class | script << 4 | look-alike code point << 8. */
const meta = (cls: number, script: number, alt: number) => cls | (script << 4) | (alt << 8);

const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: it lists invisible code points, combining ones included, each tested alone.
  /^[\p{Cf}\u034F\u0640\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFFA0\uFE00-\uFE0F\u{E0100}-\u{E01EF}\u{1F3FB}-\u{1F3FF}]$/u;
/** Combining marks that are diacritics (stripped); other marks (Indic vowel signs…) are kept. */
const DIACRITIC =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: it lists combining marks on purpose, each removed on its own.
  /[\u0300-\u036F\u0483-\u0489\u0591-\u05BD\u05BF\u05C1\u05C2\u05C4\u05C5\u05C7\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E4\u06E7\u06E8\u06EA-\u06ED\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]/gu;
const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_MARK = /^\p{M}$/u;
const IS_SYMBOL = /^[\p{So}\p{Co}]$/u;
const IS_LATIN = /^\p{Script=Latin}$/u;
const IS_CYRILLIC = /^\p{Script=Cyrillic}$/u;
const IS_GREEK = /^\p{Script=Greek}$/u;
const IS_ARMENIAN = /^\p{Script=Armenian}$/u;
/** Scripts written without spaces between words: a word boundary cannot be asked of them. */
const IS_UNSPACED =
  /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]$/u;

/** First code point of each block of decimal digits that NFKC leaves alone (Arabic-Indic, Devanagari…). */
const DIGIT_BLOCKS = [
  0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66, 0x0de6, 0x0e50,
  0x0ed0, 0x0f20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50,
  0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0,
];

/** Letter variants unified before matching (context-free, after case folding). */
const VARIANTS = new Map<number, string>([
  [0x00df, 'ss'], // ß (full case folding)
  [0x03c2, 'σ'], // final sigma
  [0x0131, 'i'], // dotless i
  [0x0649, 'ی'], // Arabic alef maksura → Farsi yeh
  [0x064a, 'ی'], // Arabic yeh → Farsi yeh
  [0x0643, 'ک'], // Arabic kaf → keheh
  [0x0629, 'ه'], // teh marbuta → heh
  // Latin look-alikes, from confusables.txt (ɑ ɡ ɣ ɩ ɪ ɯ ʋ ʏ ƽ ǀ) and the small capitals.
  [0x0251, 'a'],
  [0x0261, 'g'],
  [0x0263, 'y'],
  [0x0269, 'i'],
  [0x026a, 'i'],
  [0x026f, 'w'],
  [0x028b, 'u'],
  [0x028f, 'y'],
  [0x01bd, 's'],
  [0x01c0, 'l'],
  [0x1d00, 'a'],
  [0x0299, 'b'],
  [0x1d04, 'c'],
  [0x1d05, 'd'],
  [0x1d07, 'e'],
  [0xa730, 'f'],
  [0x0262, 'g'],
  [0x029c, 'h'],
  [0x1d0a, 'j'],
  [0x1d0b, 'k'],
  [0x029f, 'l'],
  [0x1d0d, 'm'],
  [0x0274, 'n'],
  [0x1d0f, 'o'],
  [0x1d18, 'p'],
  [0x0280, 'r'],
  [0xa731, 's'],
  [0x1d1b, 't'],
  [0x1d1c, 'u'],
  [0x1d20, 'v'],
  [0x1d21, 'w'],
  [0x1d22, 'z'],
]);

/**
 * Homoglyphs of other scripts → Latin (lower case). From confusables.txt, with
 * the lower-case forms of confusable capitals added (see the module comment).
 */
const TO_LATIN: Record<string, string> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  г: 'r',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  ь: 'b',
  ѕ: 's',
  і: 'i',
  ј: 'j',
  ѡ: 'w',
  ѵ: 'v',
  ү: 'y',
  һ: 'h',
  ҽ: 'e',
  ӏ: 'i',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  // Greek
  α: 'a',
  β: 'b',
  γ: 'y',
  ε: 'e',
  ζ: 'z',
  η: 'n',
  ι: 'i',
  κ: 'k',
  μ: 'u',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  σ: 'o',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ϲ: 'c',
  ϳ: 'j',
  ϱ: 'p',
  ω: 'w',
  // Armenian
  ա: 'w',
  գ: 'q',
  զ: 'q',
  հ: 'h',
  ո: 'n',
  ռ: 'n',
  ս: 'u',
  ց: 'g',
  ք: 'f',
  օ: 'o',
};
/** Latin letters → the Cyrillic letter they pass for, for Latin letters slipped into Cyrillic words. */
const TO_CYRILLIC: Record<string, string> = {
  a: 'а',
  b: 'в',
  c: 'с',
  e: 'е',
  h: 'н',
  k: 'к',
  m: 'м',
  o: 'о',
  p: 'р',
  t: 'т',
  x: 'х',
  y: 'у',
};
/** Leetspeak, by the script of the word it appears in. */
const LEET_LATIN: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '9': 'g',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'i',
  '€': 'e',
  '¢': 'c',
};
const LEET_CYRILLIC: Record<string, string> = { '0': 'о', '3': 'з', '4': 'ч', '6': 'б', '@': 'а' };
/** Symbols that stand for letters inside a word (and are punctuation elsewhere). */
const LEET_SYMBOLS = new Set(['@', '$', '!', '|', '€', '¢']);

const cp = (s: string) => s.codePointAt(0)!;
const toMap = (table: Record<string, string>) => new Map(Object.entries(table).map(([k, v]) => [cp(k), cp(v)]));
const TO_LATIN_CP = toMap(TO_LATIN);
const TO_CYRILLIC_CP = toMap(TO_CYRILLIC);
const LEET_LATIN_CP = toMap(LEET_LATIN);
const LEET_CYRILLIC_CP = toMap(LEET_CYRILLIC);
const LETTER_L = 0x6c;
const LETTER_I = 0x69;
const SPACE = 0x20;

/** The fold of one source code point: zero or more code points with their metadata. */
interface Fold {
  readonly cps: readonly number[];
  readonly metas: readonly number[];
}

const EMPTY: Fold = { cps: [], metas: [] };

function asciiDigitOf(c: number): number {
  for (const base of DIGIT_BLOCKS) if (c >= base && c <= base + 9) return 0x30 + c - base;
  return -1;
}

function scriptOfLetter(ch: string): number {
  if (IS_LATIN.test(ch)) return S_LATIN;
  if (IS_CYRILLIC.test(ch)) return S_CYRILLIC;
  if (IS_GREEK.test(ch)) return S_GREEK;
  if (IS_ARMENIAN.test(ch)) return S_ARMENIAN;
  if (IS_UNSPACED.test(ch)) return S_UNSPACED;
  return S_OTHER;
}

function classify(c: number): number {
  const ch = String.fromCodePoint(c);
  if (c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c || c === 0x85 || c === 0x2028 || c === 0x2029) {
    return meta(NEWLINE, S_NONE, 0);
  }
  if (LEET_SYMBOLS.has(ch)) return meta(LEET, S_NONE, 0);
  if (IS_LETTER.test(ch)) {
    const script = scriptOfLetter(ch);
    const alt = script === S_LATIN ? (TO_CYRILLIC_CP.get(c) ?? 0) : (TO_LATIN_CP.get(c) ?? 0);
    return meta(LETTER, script, alt);
  }
  if (IS_NUMBER.test(ch)) return meta(DIGIT, S_NONE, 0);
  if (IS_MARK.test(ch)) return meta(MARK, S_NONE, 0);
  if (c !== 0x2800 && IS_SYMBOL.test(ch)) return meta(SYMBOL, S_NONE, 0);
  return meta(SEP, S_NONE, 0);
}

function computeFold(c: number, lower: boolean): Fold {
  if (c >= 0xd800 && c <= 0xdfff) return EMPTY; // a lone surrogate: not text
  const ch = String.fromCodePoint(c);
  if (INVISIBLE.test(ch)) return EMPTY;
  const digit = asciiDigitOf(c);
  let out = digit >= 0 ? String.fromCharCode(digit) : ch;
  if (lower) {
    out = out.normalize('NFKD').replace(DIACRITIC, '').toLowerCase();
  } else {
    out = out.normalize('NFKC');
  }
  const cps: number[] = [];
  const metas: number[] = [];
  for (const part of out) {
    let code = part.codePointAt(0)!;
    if (INVISIBLE.test(part)) continue;
    if (lower) {
      const variant = VARIANTS.get(code);
      if (variant !== undefined) {
        for (const v of variant) {
          const vc = v.codePointAt(0)!;
          cps.push(vc);
          metas.push(classify(vc));
        }
        continue;
      }
    }
    const d = asciiDigitOf(code);
    if (d >= 0) code = d;
    cps.push(code);
    metas.push(classify(code));
  }
  return cps.length === 0 ? EMPTY : { cps, metas };
}

/** Folds are cached per source code point: the Unicode work runs once per distinct character. */
class FoldCache {
  private readonly bmp: Array<Fold | undefined> = new Array(0x10000);
  private readonly astral = new Map<number, Fold>();

  constructor(private readonly lower: boolean) {}

  get(c: number): Fold {
    if (c < 0x10000) {
      let f = this.bmp[c];
      if (f === undefined) {
        f = computeFold(c, this.lower);
        this.bmp[c] = f;
      }
      return f;
    }
    let f = this.astral.get(c);
    if (f === undefined) {
      f = computeFold(c, this.lower);
      if (this.astral.size < 100_000) this.astral.set(c, f);
    }
    return f;
  }
}

const LOWER_FOLDS = new FoldCache(true);
const COMPAT_FOLDS = new FoldCache(false);
/**
 * Fast path of the folds: for a BMP code point that folds to exactly one BMP
 * code point, that code point + 1 (and its metadata); 0 while unknown, -1 when
 * the fold is something else (empty, several, astral) and the Fold is needed.
 */
const LOWER_ONE = new Int32Array(0x10000);
const LOWER_ONE_META = new Int32Array(0x10000);
const COMPAT_ONE = new Int32Array(0x10000);

function learnLower(c: number): number {
  const f = LOWER_FOLDS.get(c);
  const one = f.cps.length === 1 && f.cps[0]! < 0x10000;
  LOWER_ONE[c] = one ? f.cps[0]! + 1 : -1;
  LOWER_ONE_META[c] = one ? f.metas[0]! : 0;
  return LOWER_ONE[c]!;
}

function learnCompat(c: number): number {
  const f = COMPAT_FOLDS.get(c);
  COMPAT_ONE[c] = f.cps.length === 1 && f.cps[0]! < 0x10000 ? f.cps[0]! + 1 : -1;
  return COMPAT_ONE[c]!;
}

for (let c = 0; c < 128; c++) {
  learnLower(c);
  learnCompat(c);
}

let identity = new Int32Array(0);
/** [0, 1, …, n]: the offsets of a text that folding left unit for unit. */
function identityOffsets(n: number): Int32Array {
  if (identity.length < n + 1) {
    identity = new Int32Array(Math.max(n + 1, identity.length * 2, 1024));
    for (let k = 0; k < identity.length; k++) identity[k] = k;
  }
  return identity.subarray(0, n + 1);
}

const NON_ASCII = /[\u0080-\uffff]/;

/** Folded code points with metadata and source index (phase 1). */
class Elements {
  cp = new Int32Array(1024);
  meta = new Int32Array(1024);
  src = new Int32Array(1024);
  length = 0;
  /** Bit per script (1 << S_…) of the letters seen. */
  scripts = 0;

  reserve(capacity: number): void {
    this.length = 0;
    if (this.cp.length < capacity) this.resize(Math.max(capacity, this.cp.length * 2));
  }

  resize(size: number): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a.subarray(0, this.length));
      return b;
    };
    this.cp = grow(this.cp);
    this.meta = grow(this.meta);
    this.src = grow(this.src);
  }
}

/** Output units with offsets and run lengths (phase 2). Writes are unchecked: `reserve` sizes it first. */
class Output {
  units = new Uint16Array(1024);
  offsets = new Int32Array(1025);
  runs = new Uint16Array(1024);
  /** `units` as bytes, for a fast decode into a string. */
  private bytes = Buffer.from(this.units.buffer);
  length = 0;
  /** Code point of the last letter or symbol written; -1 after a space or a digit. */
  lastCp = -1;

  reserve(capacity: number): void {
    this.length = 0;
    this.lastCp = -1;
    if (this.units.length < capacity) {
      const size = Math.max(capacity, this.units.length * 2);
      this.units = new Uint16Array(size);
      this.offsets = new Int32Array(size + 1);
      this.runs = new Uint16Array(size);
    }
  }

  /** Makes room for `capacity` units, keeping what was written. */
  grow(capacity: number): void {
    const size = Math.max(capacity, this.units.length * 2);
    const units = new Uint16Array(size);
    units.set(this.units.subarray(0, this.length));
    const offsets = new Int32Array(size + 1);
    offsets.set(this.offsets.subarray(0, this.length));
    const runs = new Uint16Array(size);
    runs.set(this.runs.subarray(0, this.length));
    this.units = units;
    this.offsets = offsets;
    this.runs = runs;
  }

  write(c: number, src: number): void {
    let n = this.length;
    if (c < 0x10000) {
      this.units[n] = c;
      this.offsets[n] = src;
      this.runs[n] = 1;
      this.length = n + 1;
      return;
    }
    this.units[n] = 0xd800 + ((c - 0x10000) >> 10);
    this.offsets[n] = src;
    this.runs[n] = 1;
    n++;
    this.units[n] = 0xdc00 + ((c - 0x10000) & 0x3ff);
    this.offsets[n] = src;
    this.runs[n] = 1;
    this.length = n + 1;
  }

  /** Writes a letter or symbol, or lengthens the run of the previous one when it is the same. */
  writeSqueezed(c: number, src: number): void {
    if (c === this.lastCp) {
      const width = c < 0x10000 ? 1 : 2;
      for (let k = this.length - width; k < this.length; k++) if (this.runs[k]! < 0xffff) this.runs[k]!++;
      return;
    }
    this.write(c, src);
    this.lastCp = c;
  }

  space(src: number): void {
    this.lastCp = -1;
    if (this.length === 0 || this.units[this.length - 1] === SPACE) return;
    this.write(SPACE, src);
  }

  text(): string {
    if (this.bytes.buffer !== this.units.buffer) this.bytes = Buffer.from(this.units.buffer);
    return this.bytes.toString('utf16le', 0, this.length * 2);
  }
}

function foldLower(text: string, el: Elements): void {
  const n = text.length;
  el.reserve(n + 16);
  let cps = el.cp;
  let metas = el.meta;
  let srcs = el.src;
  let len = 0;
  let scripts = 0;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    const one = LOWER_ONE[c]! || learnLower(c);
    if (one > 0) {
      if (len === cps.length) {
        el.length = len;
        el.resize(len * 2);
        cps = el.cp;
        metas = el.meta;
        srcs = el.src;
      }
      const m = LOWER_ONE_META[c]!;
      cps[len] = one - 1;
      metas[len] = m;
      srcs[len] = i;
      len++;
      if ((m & 15) === LETTER) scripts |= 1 << ((m >> 4) & 15);
      continue;
    }
    const start = i;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    const f = LOWER_FOLDS.get(c);
    const count = f.cps.length;
    if (len + count > cps.length) {
      el.length = len;
      el.resize(Math.max(cps.length * 2, len + count + 16));
      cps = el.cp;
      metas = el.meta;
      srcs = el.src;
    }
    for (let k = 0; k < count; k++) {
      const m = f.metas[k]!;
      cps[len] = f.cps[k]!;
      metas[len] = m;
      srcs[len] = start;
      len++;
      if ((m & 15) === LETTER) scripts |= 1 << ((m >> 4) & 15);
    }
  }
  el.length = len;
  el.scripts = scripts;
}

const isWordClass = (cls: number) => cls === LETTER || cls === DIGIT || cls === MARK;
/** Single characters that may be joined into a word ("c.0.c.@.i.n.e" has a digit and a leet symbol). */
const isJoinable = (cls: number) => isWordClass(cls) || cls === LEET;

/** Phase 2: words, scripts, leetspeak, joins and squeezing, from `el` into `out`. */
class WordWriter {
  private wordIdx = new Int32Array(256);
  private el!: Elements;
  private out!: Output;
  private full = false;
  // Letters of the current word, by script.
  private latin = 0;
  private cyrillic = 0;
  private greek = 0;
  private armenian = 0;
  private letters = 0;
  /** The word has only letters and marks of the BMP: no leetspeak to undo. */
  private simple = true;
  private targetScript = S_NONE;
  private mixed = false;
  /** The last run of leet symbols measured: [from, to) in `leetRunOf`. */
  private leetRunOf: Elements | null = null;
  private leetRunFrom = 0;
  private leetRunTo = 0;

  run(el: Elements, out: Output, full: boolean): void {
    this.el = el;
    this.leetRunOf = null;
    this.out = out;
    this.full = full;
    out.reserve(el.length * 2 + 16);
    if (full) this.runFull();
    else this.runBasic();
  }

  /** The `basic` level: every element written as it is, except look-alikes in mixed-script words. */
  private runBasic(): void {
    const el = this.el;
    const out = this.out;
    const { cp: cps, meta: metas, src: srcs } = el;
    const n = el.length;
    let i = 0;
    while (i < n) {
      if (!isWordClass(metas[i]! & 15)) {
        out.write(cps[i]!, srcs[i]!);
        i++;
        continue;
      }
      const wordStart = out.length;
      let latin = 0;
      let cyrillic = 0;
      let greek = 0;
      let armenian = 0;
      let j = i;
      for (; j < n; j++) {
        const m = metas[j]!;
        const cls = m & 15;
        if (cls === LETTER) {
          const script = (m >> 4) & 15;
          if (script === S_LATIN) latin++;
          else if (script === S_CYRILLIC) cyrillic++;
          else if (script === S_GREEK) greek++;
          else if (script === S_ARMENIAN) armenian++;
        } else if (cls !== DIGIT && cls !== MARK) break;
        out.write(cps[j]!, srcs[j]!);
      }
      if (latin + cyrillic + greek + armenian !== Math.max(latin, cyrillic, greek, armenian)) {
        out.length = wordStart; // a mixed-script word: write it again with its look-alikes folded
        this.wordEnd(i);
        this.writeWord(i, j);
      }
      i = j;
    }
  }

  /**
   * The `full` level in one flat loop. The common word — letters and marks of
   * one script, two or more of them — is written inline in a single pass; any
   * other word (leetspeak, numbers, look-alikes, single letters that may start a
   * joined run) is written again by the general path from where it started.
   */
  private runFull(): void {
    const el = this.el;
    const out = this.out;
    const { cp: cps, meta: metas, src: srcs } = el;
    const { units, offsets, runs } = out;
    const n = el.length;
    let w = 0;
    let last = -1;
    let i = 0;
    while (i < n) {
      const m0 = metas[i]!;
      const cls0 = m0 & 15;
      if (cls0 === LETTER || cls0 === MARK) {
        const wordW = w;
        const wordLast = last;
        let latin = 0;
        let cyrillic = 0;
        let greek = 0;
        let armenian = 0;
        let simple = true;
        let j = i;
        for (; j < n; j++) {
          const m = metas[j]!;
          const cls = m & 15;
          if (cls === LETTER) {
            const script = (m >> 4) & 15;
            if (script === S_LATIN) latin++;
            else if (script === S_CYRILLIC) cyrillic++;
            else if (script === S_GREEK) greek++;
            else if (script === S_ARMENIAN) armenian++;
          } else if (cls !== MARK) {
            if (cls === DIGIT || cls === LEET) simple = false;
            break;
          }
          let c = cps[j]!;
          if (c >= 0x10000) {
            simple = false;
            break;
          }
          if (c === LETTER_L) c = LETTER_I; // right for a Latin word; a Latin l elsewhere makes the word mixed
          if (c === last) {
            if (runs[w - 1]! < 0xffff) runs[w - 1]!++;
            continue;
          }
          units[w] = c;
          offsets[w] = srcs[j]!;
          runs[w] = 1;
          w++;
          last = c;
        }
        const known = latin + cyrillic + greek + armenian;
        if (simple && j > i + 1 && known === Math.max(latin, cyrillic, greek, armenian)) {
          i = j;
          continue;
        }
        w = wordW;
        last = wordLast;
      }
      if (isWordClass(cls0) || (cls0 === LEET && this.isLeetInWord(i, i))) {
        out.length = w;
        out.lastCp = last;
        i = this.writeGeneral(i);
        w = out.length;
        last = out.lastCp;
        continue;
      }
      if (cls0 === SYMBOL) {
        const c = cps[i]!;
        if (c === last) {
          const width = c < 0x10000 ? 1 : 2;
          for (let k = w - width; k < w; k++) if (runs[k]! < 0xffff) runs[k]!++;
        } else {
          out.length = w;
          out.write(c, srcs[i]!);
          w = out.length;
          last = c;
        }
      } else {
        last = -1;
        if (w > 0 && units[w - 1] !== SPACE) {
          units[w] = SPACE;
          offsets[w] = srcs[i]!;
          runs[w] = 1;
          w++;
        }
      }
      i++;
    }
    if (w > 0 && units[w - 1] === SPACE) w--;
    out.length = w;
    out.lastCp = last;
  }

  /** The general path for the word at `i`; returns where the next element starts. */
  private writeGeneral(i: number): number {
    const end = this.wordEnd(i);
    if (end === i + 1) {
      const last = this.joinedRun(i);
      if (last > 0) {
        this.writeJoined(i, last);
        return last + 1;
      }
    }
    this.writeWord(i, end);
    return end;
  }

  private resetCounts(): void {
    this.latin = 0;
    this.cyrillic = 0;
    this.greek = 0;
    this.armenian = 0;
    this.letters = 0;
    this.simple = true;
  }

  private count(m: number): void {
    if ((m & 15) !== LETTER) return;
    this.letters++;
    const s = (m >> 4) & 15;
    if (s === S_LATIN) this.latin++;
    else if (s === S_CYRILLIC) this.cyrillic++;
    else if (s === S_GREEK) this.greek++;
    else if (s === S_ARMENIAN) this.armenian++;
  }

  /** End of the word starting at `i` (letters, digits, marks and in-word leet symbols); counts its letters. */
  private wordEnd(i: number): number {
    const n = this.el.length;
    const metas = this.el.meta;
    const full = this.full;
    this.resetCounts();
    let j = i;
    while (j < n) {
      const m = metas[j]!;
      const cls = m & 15;
      if (cls === LETTER) {
        this.letters++;
        const s = (m >> 4) & 15;
        if (s === S_LATIN) this.latin++;
        else if (s === S_CYRILLIC) this.cyrillic++;
        else if (s === S_GREEK) this.greek++;
        else if (s === S_ARMENIAN) this.armenian++;
      } else if (cls === DIGIT || (full && cls === LEET && this.isLeetInWord(j, i))) this.simple = false;
      else if (cls !== MARK) break;
      if (this.el.cp[j]! >= 0x10000) this.simple = false;
      j++;
    }
    return j;
  }

  /**
   * Whether the leet symbol at `j` stands for a letter: `@ ! |` only between
   * word characters (a leading @ starts a mention, a trailing ! ends a
   * sentence); `$ € ¢` also before one ("$ell") or after one ("a$$").
   */
  private isLeetInWord(j: number, wordStart: number): boolean {
    const n = this.el.length;
    const metas = this.el.meta;
    // The end of the run of leet symbols `j` is in, remembered: asking for each
    // symbol of a long run ("$$$$…") must not rescan the run each time.
    let k: number;
    if (this.el === this.leetRunOf && j >= this.leetRunFrom && j < this.leetRunTo) k = this.leetRunTo;
    else {
      k = j + 1;
      while (k < n && (metas[k]! & 15) === LEET) k++;
      this.leetRunOf = this.el;
      this.leetRunFrom = j;
      this.leetRunTo = k;
    }
    const before = j > wordStart || (j > 0 && isWordClass(metas[j - 1]! & 15));
    const after = k < n && isWordClass(metas[k]! & 15);
    const c = this.el.cp[j]!;
    if (c === 0x40 || c === 0x21 || c === 0x7c) return before && after;
    return before || after;
  }

  /** The last index of ≥3 single characters split by 1–2 separator characters, from `i`; else 0. */
  private joinedRun(i: number): number {
    const n = this.el.length;
    const { cp: cps, meta: metas } = this.el;
    let count = 1;
    let k = i + 1;
    let last = i;
    let separator = -1;
    for (;;) {
      let s = k;
      while (s < n && s - k < 3 && (metas[s]! & 15) === SEP) s++;
      const gap = s - k;
      if (gap < 1 || gap > 2 || s >= n) break;
      // The same separator all along: "a c.o.c.a" joins "coca", not "acoca".
      if (separator === -1) separator = cps[k]!;
      else if (cps[k] !== separator) break;
      if (!isJoinable(metas[s]! & 15)) break;
      const next = metas[s + 1]! & 15;
      if (s + 1 < n && (isWordClass(next) || (next === LEET && this.isLeetInWord(s + 1, s)))) break;
      count++;
      last = s;
      k = s + 1;
    }
    return count >= 3 ? last : 0;
  }

  /** Sets the script the letters of the word are folded to, and whether the word mixes scripts. */
  private decide(): void {
    const { latin, cyrillic, greek, armenian } = this;
    const known = latin + cyrillic + greek + armenian;
    if (known === 0) {
      this.targetScript = S_NONE;
      this.mixed = false;
      return;
    }
    const top = Math.max(latin, cyrillic, greek, armenian);
    this.targetScript = latin === top ? S_LATIN : cyrillic === top ? S_CYRILLIC : greek === top ? S_GREEK : S_ARMENIAN;
    this.mixed = known !== top;
  }

  private writeWord(start: number, end: number): void {
    const { cp: cps, meta: metas, src: srcs } = this.el;
    const out = this.out;
    this.decide();
    const target = this.targetScript;
    const mixed = this.mixed;
    if (!this.full) {
      for (let k = start; k < end; k++) out.write(mixed ? this.fold(cps[k]!, metas[k]!, target) : cps[k]!, srcs[k]!);
      return;
    }
    const mergeL = target === S_LATIN;
    if (this.simple && !mixed) {
      // The common case, kept tight: letters only, in one script.
      const { units, offsets, runs } = out;
      let n = out.length;
      let last = out.lastCp;
      for (let k = start; k < end; k++) {
        let c = cps[k]!;
        if (mergeL && c === LETTER_L) c = LETTER_I;
        if (c === last) {
          if (runs[n - 1]! < 0xffff) runs[n - 1]!++;
          continue;
        }
        units[n] = c;
        offsets[n] = srcs[k]!;
        runs[n] = 1;
        n++;
        last = c;
      }
      out.length = n;
      out.lastCp = last;
      return;
    }
    const leet = this.leetTable(target);
    for (let k = start; k < end; k++) this.emitFull(cps[k]!, metas[k]!, srcs[k]!, target, mixed, leet, mergeL);
  }

  private writeJoined(start: number, last: number): void {
    const { cp: cps, meta: metas, src: srcs } = this.el;
    let len = 0;
    this.resetCounts();
    for (let k = start; k <= last; k++) {
      if (!isJoinable(metas[k]! & 15)) continue;
      if (len === this.wordIdx.length) {
        const grown = new Int32Array(len * 2);
        grown.set(this.wordIdx);
        this.wordIdx = grown;
      }
      this.wordIdx[len++] = k;
      this.count(metas[k]!);
    }
    this.decide();
    const target = this.targetScript;
    const mixed = this.mixed;
    const leet = this.leetTable(target);
    for (let w = 0; w < len; w++) {
      const k = this.wordIdx[w]!;
      this.emitFull(cps[k]!, metas[k]!, srcs[k]!, target, mixed, leet, target === S_LATIN);
    }
  }

  private leetTable(target: number): Map<number, number> | null {
    if (this.letters === 0) return null;
    return target === S_LATIN ? LEET_LATIN_CP : target === S_CYRILLIC ? LEET_CYRILLIC_CP : null;
  }

  /** A letter of a mixed-script word, in the word's majority script when it has a look-alike there. */
  private fold(c: number, m: number, target: number): number {
    if ((m & 15) !== LETTER) return c;
    const s = (m >> 4) & 15;
    const alt = m >>> 8;
    if (alt !== 0 && ((target === S_LATIN && s !== S_LATIN) || (target === S_CYRILLIC && s === S_LATIN))) return alt;
    return c;
  }

  private emitFull(
    c: number,
    m: number,
    src: number,
    target: number,
    mixed: boolean,
    leet: Map<number, number> | null,
    mergeL: boolean,
  ): void {
    const cls = m & 15;
    if (cls === LETTER) {
      if (mixed) c = this.fold(c, m, target);
      if (mergeL && c === LETTER_L) c = LETTER_I;
    } else if (leet !== null && (cls === DIGIT || cls === LEET)) {
      c = leet.get(c) ?? c;
    }
    if (c >= 0x30 && c <= 0x39) {
      this.out.lastCp = -1;
      this.out.write(c, src);
    } else this.out.writeSqueezed(c, src);
  }
}

const WORDS = new WordWriter();

/**
 * A level computed into an Output buffer. Its parts are made on first use:
 * the keyword scan reads only `units`, and typed-array views and string decodes
 * cost more than the scan of a short message.
 */
class BufferView implements NormalisedText {
  private textCache: string | undefined;
  private unitsCache: Uint16Array | undefined;
  private offsetsCache: Int32Array | undefined;
  private runsCache: Uint16Array | undefined;

  constructor(
    private readonly out: Output,
    private readonly length: number,
    private readonly withRuns: boolean,
    readonly source: string,
    readonly level: NormalisationLevel,
  ) {
    out.offsets[length] = source.length;
  }

  get text(): string {
    this.textCache ??= this.out.text();
    return this.textCache;
  }

  get units(): Uint16Array {
    this.unitsCache ??= this.out.units.subarray(0, this.length);
    return this.unitsCache;
  }

  get offsets(): Int32Array {
    this.offsetsCache ??= this.out.offsets.subarray(0, this.length + 1);
    return this.offsetsCache;
  }

  get runs(): Uint16Array | undefined {
    if (!this.withRuns) return undefined;
    this.runsCache ??= this.out.runs.subarray(0, this.length);
    return this.runsCache;
  }
}

const viewOf = (out: Output, source: string, level: NormalisationLevel, withRuns: boolean): NormalisedText =>
  new BufferView(out, out.length, withRuns, source, level);

/**
 * The three levels of one text, computed on demand and sharing work: a pure
 * ASCII text needs no compatibility folding and its `basic` form is its lower
 * case; `basic` and `full` share the per-character folding. The views handed
 * out live in this object's buffers and stay valid until the next `reset` —
 * copy them (or use `normalise`) to keep them longer.
 */
export class TextLevels {
  private source = '';
  private ascii = true;
  private folded = false;
  private readonly elements = new Elements();
  private readonly outputs = { compat: new Output(), basic: new Output(), full: new Output() };
  private readonly views: Partial<Record<NormalisationLevel, NormalisedText>> = {};

  reset(source: string): this {
    this.source = source;
    this.ascii = !NON_ASCII.test(source);
    this.folded = false;
    this.views.compat = undefined;
    this.views.basic = undefined;
    this.views.full = undefined;
    return this;
  }

  get(level: NormalisationLevel): NormalisedText {
    let view = this.views[level];
    if (!view) {
      view = this.compute(level);
      this.views[level] = view;
    }
    return view;
  }

  private compute(level: NormalisationLevel): NormalisedText {
    const source = this.source;
    if (this.ascii && level !== 'full') {
      const text = level === 'compat' ? source : source.toLowerCase();
      return { text, units: undefined, offsets: identityOffsets(source.length), runs: undefined, source, level };
    }
    const out = this.outputs[level];
    if (level === 'compat') {
      if (isCompatStable(source)) {
        return {
          text: source,
          units: undefined,
          offsets: identityOffsets(source.length),
          runs: undefined,
          source,
          level,
        };
      }
      foldCompat(source, out);
      return viewOf(out, source, level, false);
    }
    if (!this.folded) {
      foldLower(source, this.elements);
      this.folded = true;
    }
    if (
      level === 'basic' &&
      (this.elements.scripts & MIXABLE) === (this.elements.scripts & -this.elements.scripts & MIXABLE)
    ) {
      // Letters of at most one of the scripts that have look-alikes: no word can be mixed, nothing to fold.
      copyElements(this.elements, out);
    } else {
      WORDS.run(this.elements, out, level === 'full');
    }
    return viewOf(out, source, level, level === 'full');
  }
}

/** The scripts between which look-alikes are folded. */
const MIXABLE = (1 << S_LATIN) | (1 << S_CYRILLIC) | (1 << S_GREEK) | (1 << S_ARMENIAN);

/** Whether compatibility folding would leave `text` as it is (most text). */
function isCompatStable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if ((COMPAT_ONE[c]! || learnCompat(c)) !== c + 1) return false;
  }
  return true;
}

function copyElements(el: Elements, out: Output): void {
  const n = el.length;
  out.reserve(n * 2 + 16);
  const { cp: cps, src: srcs } = el;
  const { units, offsets, runs } = out;
  let w = 0;
  for (let k = 0; k < n; k++) {
    const c = cps[k]!;
    if (c >= 0x10000) {
      // An astral code point: two units (rare; the general write).
      out.length = w;
      out.write(c, srcs[k]!);
      w = out.length;
      continue;
    }
    units[w] = c;
    offsets[w] = srcs[k]!;
    runs[w] = 1;
    w++;
  }
  out.length = w;
}

function foldCompat(text: string, out: Output): void {
  const n = text.length;
  out.reserve(n * 2 + 16);
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    const one = COMPAT_ONE[c]! || learnCompat(c);
    if (one > 0) {
      if (out.length + 1 > out.units.length) out.grow(out.length + 16);
      out.write(one - 1, i);
      continue;
    }
    const start = i;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    const f = COMPAT_FOLDS.get(c);
    if (out.length + 2 * f.cps.length > out.units.length) out.grow(out.length + 2 * f.cps.length + 16);
    for (const code of f.cps) out.write(code, start);
  }
}

const SHARED = new TextLevels();

/**
 * Folds `text` for matching (see the module comment for what each level does).
 * Linear in the length of the text; the Unicode work is cached per distinct
 * character. The result is a copy the caller may keep.
 */
export function normalise(text: string, level: NormalisationLevel = 'full'): NormalisedText {
  const view = SHARED.reset(text).get(level);
  return {
    text: view.text,
    units: view.units?.slice(),
    offsets: view.offsets.slice(),
    runs: view.runs?.slice(),
    source: view.source,
    level: view.level,
  };
}

/** The span of the source that `[start, end)` of the normalised text came from. */
export function toSourceSpan(n: NormalisedText, start: number, end: number): { start: number; end: number } {
  const s = n.offsets[start]!;
  if (end <= start) return { start: s, end: s };
  const last = n.offsets[end - 1]!;
  const c = n.source.charCodeAt(last);
  const width = c >= 0xd800 && c <= 0xdbff && last + 1 < n.source.length ? 2 : 1;
  return { start: s, end: Math.min(n.source.length, last + width) };
}

/** Folds one character the context-free way of the `basic` level (for the literals of regex rules). */
export function foldCharacter(c: number): string {
  return String.fromCodePoint(...LOWER_FOLDS.get(c).cps);
}

const WORD_UNIT = new Uint8Array(0x10000); // 0 unknown, 1 word, 2 not

/**
 * Whether a UTF-16 unit of normalised text is part of a word for whole-word
 * matching: letters, digits and marks of scripts written with spaces. Han,
 * kana, Thai and the like are not, and neither are symbols, emoji (surrogates)
 * or spaces, so a boundary is always found next to them.
 */
export function isSpacedWordUnit(unit: number): boolean {
  let v = WORD_UNIT[unit]!;
  if (v === 0) {
    const ch = String.fromCharCode(unit);
    v = unit < 0xd800 || unit > 0xdfff ? (/^[\p{L}\p{N}\p{M}]$/u.test(ch) && !IS_UNSPACED.test(ch) ? 1 : 2) : 2;
    WORD_UNIT[unit] = v;
  }
  return v === 1;
}
