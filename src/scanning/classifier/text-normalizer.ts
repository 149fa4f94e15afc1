/**
 * Text normalisation for the linear classifier: the same function runs at training and
 * at inference, so whatever it folds together the model sees as one thing.
 *
 * Output is not a string but UTF-16 code units written into a caller-owned buffer: tokens
 * separated by exactly one space, with a space at both ends. Nothing is allocated per call
 * for ASCII input, nor for other text that NFKD would leave as it is (most Cyrillic, Arabic
 * and Persian text, emoji; checked per character against a table); any other costs one
 * `normalize('NFKD')`.
 *
 * What it does, in order:
 * - truncates the input to {@link MAX_INPUT_CHARS} UTF-16 code units (bounded work for
 *   1 MB posts: the first 4,096 code units are scored, the rest is ignored);
 * - Unicode NFKD (compatibility forms: full-width Latin, ligatures, Arabic presentation
 *   forms, mathematical alphanumerics become their plain letters);
 * - lower-cases; strips Latin accents and Arabic harakat/tatweel; folds Arabic and
 *   Persian letter variants (ي/ى/ی, ك/ک, أ/إ/آ/ٱ → ا, ة → ه) and Arabic-Indic,
 *   Persian and Devanagari digits to ASCII;
 * - drops zero-width and bidi control characters, soft hyphens and variation selectors
 *   (so `k\u200Bill` is `kill`), including Persian ZWNJ, which people type or omit;
 * - folds leetspeak inside words that contain a letter (`c0ke` → `coke`, `k1ll` →
 *   `kill`, `c@sh` → `cash`), but not a leading number (`100mg` stays a quantity);
 * - folds Cyrillic look-alike letters to Latin inside words that mix both scripts
 *   (`сocaine` with a Cyrillic `с` → `cocaine`);
 * - collapses repeated letters to one (`kiiiill`, `kill` → `kil`), applied the same way
 *   at training and inference, so both spellings meet;
 * - writes every digit as `0` (numbers keep their shape, not their value: `$500` and
 *   `$300` look alike, as do phone numbers);
 * - keeps emoji and other pictographs as one-symbol tokens (💊, 🔫 carry signal in chat),
 *   collapsing a run of the same one.
 */

/** Input beyond this many UTF-16 code units is ignored (bounded work per message). */
export const MAX_INPUT_CHARS = 4096;
/** Capacity of the normalised buffer: NFKD can expand text (ligatures, ﷺ), so allow 3×. */
export const MAX_NORMALISED_CHARS = MAX_INPUT_CHARS * 3;

const SPACE = 0x20;
const ZERO = 0x30;
// Character classes of the folding table.
const SEP = 0;
const LETTER = 1;
const DIGIT = 2;
/** `@` and `$`: leet for a/s inside a word, otherwise separators. */
const LEET_SYMBOL = 3;
/** Dropped without splitting the word (zero-width, combining accents, harakat). */
const IGNORE = 4;
/** A pictograph or other symbol that forms a token by itself. */
const SYMBOL = 5;
const HIGH_SURROGATE = 6;
const LOW_SURROGATE = 7;

const FOLD = new Uint16Array(65536);
const CLASS = new Uint8Array(65536);
/** Leet replacements for digits and `@`/`$` inside words (0 = none). */
const LEET = new Uint16Array(128);
/** Cyrillic letters that look like Latin ones, used only inside mixed-script words. */
const CYRILLIC_TO_LATIN = new Uint16Array(0x0500);

function buildTables(): void {
  const letter = /\p{L}|\p{M}/u;
  const symbol = /\p{So}|\p{Sk}|\p{Sm}|\p{Sc}/u;
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdbff) {
      FOLD[c] = c;
      CLASS[c] = HIGH_SURROGATE;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      FOLD[c] = c;
      CLASS[c] = LOW_SURROGATE;
      continue;
    }
    const ch = String.fromCharCode(c);
    const lower = ch.toLowerCase();
    FOLD[c] = lower.length === 1 ? lower.charCodeAt(0) : c;
    CLASS[c] = letter.test(ch) ? LETTER : symbol.test(ch) ? SYMBOL : SEP;
  }
  // Digits fold to their ASCII digit here (leet needs the value); they are written as 0.
  for (const base of [0x30, 0x0660, 0x06f0, 0x0966]) {
    for (let d = 0; d < 10; d++) {
      FOLD[base + d] = 0x30 + d;
      CLASS[base + d] = DIGIT;
    }
  }
  const ignore = (from: number, to: number) => {
    for (let c = from; c <= to; c++) CLASS[c] = IGNORE;
  };
  ignore(0x0300, 0x036f); // combining diacritics (accents after NFKD)
  ignore(0x064b, 0x065f); // Arabic harakat
  ignore(0x0670, 0x0670); // superscript alef
  ignore(0x0640, 0x0640); // tatweel
  ignore(0x00ad, 0x00ad); // soft hyphen
  ignore(0x034f, 0x034f); // combining grapheme joiner
  ignore(0x180e, 0x180e); // Mongolian vowel separator
  ignore(0x200b, 0x200f); // zero-width space/joiners, LRM/RLM
  ignore(0x202a, 0x202e); // bidi embeddings and overrides
  ignore(0x2060, 0x2064); // word joiner, invisible operators
  ignore(0x2066, 0x2069); // bidi isolates
  ignore(0xfe00, 0xfe0f); // variation selectors
  ignore(0xfeff, 0xfeff); // BOM / zero-width no-break space
  ignore(0x1160, 0x1160); // Hangul filler, used as an invisible letter
  ignore(0x3164, 0x3164);
  const fold = (to: number, ...from: number[]) => {
    for (const c of from) {
      FOLD[c] = to;
      CLASS[c] = LETTER;
    }
  };
  fold(0x06cc, 0x064a, 0x0649); // ي ى → ی
  fold(0x06a9, 0x0643); // ك → ک
  fold(0x0627, 0x0623, 0x0625, 0x0622, 0x0671); // أ إ آ ٱ → ا
  fold(0x0647, 0x0629); // ة → ه
  fold(0x0648, 0x0624); // ؤ → و
  fold(0x0435, 0x0451); // ё → е (NFKD also does this; kept for clarity)
  CLASS[0x40] = LEET_SYMBOL; // @
  CLASS[0x24] = LEET_SYMBOL; // $
  const leet: Array<[string, string]> = [
    ['0', 'o'],
    ['1', 'i'],
    ['3', 'e'],
    ['4', 'a'],
    ['5', 's'],
    ['7', 't'],
    ['@', 'a'],
    ['$', 's'],
  ];
  for (const [from, to] of leet) LEET[from.charCodeAt(0)] = to.charCodeAt(0);
  const lookalikes: Array<[string, string]> = [
    ['а', 'a'],
    ['в', 'b'],
    ['е', 'e'],
    ['к', 'k'],
    ['м', 'm'],
    ['н', 'h'],
    ['о', 'o'],
    ['р', 'p'],
    ['с', 'c'],
    ['т', 't'],
    ['у', 'y'],
    ['х', 'x'],
    ['і', 'i'],
    ['ј', 'j'],
    ['ѕ', 's'],
  ];
  for (const [cyr, lat] of lookalikes) CYRILLIC_TO_LATIN[cyr.charCodeAt(0)] = lat.charCodeAt(0);
}
buildTables();

/** True when every code unit is ASCII, so NFKD would change nothing. */
function isAscii(text: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** NFKD leaves the character alone and it is a starter (canonical combining class 0). */
const NFKD_STARTER = 1;
/** NFKD leaves the character alone but it is (or may be) a non-starter: canonical ordering may move it. */
const NFKD_MARK = 2;
/** Per code point: 0 not yet known, else 1 + its kind (see {@link nfkdKind}). */
const NFKD_KIND = new Uint8Array(0x110000);
/** A mark of canonical combining class 240, the highest: any other non-starter placed after it moves before it. */
const CCC_240 = '\u0345';

/**
 * How NFKD treats one code point: 0 when it decomposes it, else {@link NFKD_STARTER}
 * or {@link NFKD_MARK}. Asked of ICU once per code point, then remembered. A
 * non-starter is found by the reordering itself (it moves before U+0345), and every
 * mark counts as one as well, to be safe.
 */
function nfkdKind(cp: number): number {
  const known = NFKD_KIND[cp]!;
  if (known !== 0) return known - 1;
  const ch = String.fromCodePoint(cp);
  let kind = 0;
  if (ch.normalize('NFKD') === ch) {
    const moved = (CCC_240 + ch).normalize('NFKD') !== CCC_240 + ch;
    kind = moved || /\p{M}/u.test(ch) ? NFKD_MARK : NFKD_STARTER;
  }
  NFKD_KIND[cp] = kind + 1;
  return kind;
}

/**
 * True when `text.normalize('NFKD')` would return its first `end` code units
 * unchanged: every character is one NFKD keeps, and no two non-starters stand side
 * by side (canonical ordering could swap them). Most Cyrillic, Arabic or Persian text
 * and emoji are, and this check costs a fraction of the normalisation it saves. A
 * lone surrogate says no (the caller then normalises, as before).
 */
function isNfkdStable(text: string, end: number): boolean {
  let prevMark = false;
  for (let i = 0; i < end; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      prevMark = false;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const lo = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (cp > 0xdbff || lo < 0xdc00 || lo > 0xdfff) return false;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      i++;
    }
    const kind = nfkdKind(cp);
    if (kind === 0) return false;
    const mark = kind === NFKD_MARK;
    if (mark && prevMark) return false;
    prevMark = mark;
  }
  return true;
}

function isLatin(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0xdf && c <= 0x24f);
}

function isCyrillic(c: number): boolean {
  return c >= 0x0400 && c <= 0x04ff;
}

/**
 * A reusable normaliser. Not safe to share between concurrent callers (it owns its
 * buffers), which in Node means: one per model is fine.
 */
export class TextNormalizer {
  /** Normalised code units; valid up to the length returned by {@link normalize}. */
  readonly out = new Uint16Array(MAX_NORMALISED_CHARS + 2);
  private readonly word = new Uint16Array(MAX_NORMALISED_CHARS);
  private readonly wordClass = new Uint8Array(MAX_NORMALISED_CHARS);

  /**
   * Normalises `text` into {@link out} and returns the number of code units written
   * (at least 1: a lone space for text with no tokens). Never throws on any string,
   * including lone surrogates.
   */
  normalize(text: string): number {
    let source = typeof text === 'string' ? text : String(text ?? '');
    let end = Math.min(source.length, MAX_INPUT_CHARS);
    // Do not cut a surrogate pair in half.
    if (end < source.length && end > 0) {
      const last = source.charCodeAt(end - 1);
      if (last >= 0xd800 && last <= 0xdbff) end--;
    }
    if (!isAscii(source, end) && !isNfkdStable(source, end)) {
      source = (end < source.length ? source.slice(0, end) : source).normalize('NFKD');
      end = Math.min(source.length, MAX_NORMALISED_CHARS);
    }
    const out = this.out;
    const limit = MAX_NORMALISED_CHARS;
    let o = 0;
    out[o++] = SPACE;
    let w = 0; // length of the word being collected
    let lastSymbolHi = -1;
    let lastSymbolLo = -1;
    for (let i = 0; i < end; i++) {
      const raw = source.charCodeAt(i);
      const cls = CLASS[raw]!;
      if (cls === LETTER || cls === DIGIT || (cls === LEET_SYMBOL && w > 0)) {
        if (w < limit) {
          this.word[w] = cls === LEET_SYMBOL ? raw : FOLD[raw]!;
          this.wordClass[w] = cls;
          w++;
        }
        // A digit right after a symbol token starts a new run of text.
        lastSymbolHi = -1;
        continue;
      }
      if (cls === IGNORE) continue;
      if (w > 0) {
        o = this.flushWord(w, o, limit);
        w = 0;
      }
      if (cls === SYMBOL || cls === HIGH_SURROGATE) {
        let hi = raw;
        let lo = -1;
        if (cls === HIGH_SURROGATE) {
          const next = i + 1 < end ? source.charCodeAt(i + 1) : 0;
          if (CLASS[next] !== LOW_SURROGATE) continue; // lone surrogate: a separator
          lo = next;
          i++;
          // Emoji modifiers (skin tones) and tags are noise for this model.
          if (hi === 0xd83c && lo >= 0xdffb && lo <= 0xdfff) continue;
          if (hi === 0xdb40) continue;
        } else {
          hi = FOLD[raw]!;
        }
        if (hi === lastSymbolHi && lo === lastSymbolLo) continue; // 💊💊💊 → 💊
        lastSymbolHi = hi;
        lastSymbolLo = lo;
        const need = lo >= 0 ? 3 : 2;
        if (o + need > limit) break;
        out[o++] = hi;
        if (lo >= 0) out[o++] = lo;
        out[o++] = SPACE;
      }
      // SEP, LEET_SYMBOL at a word start, LOW_SURROGATE alone: separators.
    }
    if (w > 0) o = this.flushWord(w, o, limit);
    return o;
  }

  /** Folds leetspeak and look-alikes in the collected word, collapses repeats, appends it. */
  private flushWord(w: number, o: number, limit: number): number {
    const word = this.word;
    const cls = this.wordClass;
    let hasLetter = false;
    let hasLatin = false;
    let hasCyrillic = false;
    for (let k = 0; k < w; k++) {
      if (cls[k] === LETTER) {
        hasLetter = true;
        const c = word[k]!;
        if (isLatin(c)) hasLatin = true;
        else if (isCyrillic(c)) hasCyrillic = true;
      }
    }
    const out = this.out;
    if (o + w + 1 > limit) return o;
    let k = 0;
    // A leading number stays a number (100mg, 5g, 24h).
    for (; k < w && cls[k] === DIGIT; k++) out[o++] = ZERO;
    let prev = -1;
    for (; k < w; k++) {
      let c = word[k]!;
      const cl = cls[k];
      if (cl !== LETTER) {
        // Digits and @/$ after a letter: leet when the word has letters, else shape.
        const folded = hasLetter ? LEET[c]! : 0;
        if (folded === 0) {
          out[o++] = cl === DIGIT ? ZERO : c;
          prev = -1;
          continue;
        }
        c = folded;
      } else if (hasLatin && hasCyrillic && c < 0x0500) {
        const latin = CYRILLIC_TO_LATIN[c]!;
        if (latin !== 0) c = latin;
      }
      if (c === prev) continue; // collapse repeated letters
      out[o++] = c;
      prev = c;
    }
    out[o++] = SPACE;
    return o;
  }

  /** The normalised text as a string (for tests, rules and debugging; allocates). */
  normalizeToString(text: string): string {
    const n = this.normalize(text);
    return String.fromCharCode(...this.out.subarray(0, n)).trim();
  }
}
