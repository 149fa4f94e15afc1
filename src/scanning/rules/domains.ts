import { domainToUnicode } from 'node:url';
import { normalise } from './normalise.js';

/**
 * Host names in text — inside URLs (`https://x.bad.example/path`), after an `@`
 * (`http://good.example@bad.example/`, e-mail addresses) or bare (`bad.example`)
 * — found by one linear scan, and matched against domain lists by walking up
 * their labels, so a list entry `bad.example` covers `x.bad.example` too.
 *
 * Defanged dots are read as dots: `bad[.]example`, `bad(.)example`,
 * `bad[dot]example`, `bad(dot)example`, and the ideographic full stop `。`.
 * Punycode labels (`xn--…`) are decoded first.
 *
 * Block lists are matched on the folded (`basic`) form, so a homograph of a
 * listed domain (Cyrillic а in `pаypal.example`) is caught; allow lists on the
 * exact form, so that a homograph of an allowed domain is not allowed with it.
 * The most specific listed suffix decides: with `blogspot.example` allowed and
 * `evil.blogspot.example` blocked, `x.evil.blogspot.example` is blocked and
 * `good.blogspot.example` allowed. IP-address hosts are not extracted.
 */

export interface HostMention {
  /** Folded host name, labels joined with '.', e.g. `x.bad.example`. */
  readonly host: string;
  /** [start, end) in the text scanned. */
  readonly start: number;
  readonly end: number;
}

const LABEL_UNIT = new Uint8Array(0x10000); // 0 unknown, 1 label unit, 2 not
function isLabelUnit(unit: number): boolean {
  let v = LABEL_UNIT[unit]!;
  if (v === 0) {
    const ch = String.fromCharCode(unit);
    v = unit === 0x2d || ((unit < 0xd800 || unit > 0xdfff) && /^[\p{L}\p{N}\p{M}]$/u.test(ch)) ? 1 : 2;
    LABEL_UNIT[unit] = v;
  }
  return v === 1;
}

const DEFANGED = ['[.]', '(.)', '{.}', '[dot]', '(dot)'];
const NON_ASCII = /[\u0080-\uffff]/;

/** Length of the label separator at `i` (a dot or a defanged dot), or 0. */
function separatorAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x2e || c === 0x3002 || c === 0xff0e || c === 0xff61) return 1;
  if (c === 0x5b || c === 0x28 || c === 0x7b) {
    for (const d of DEFANGED) if (text.startsWith(d, i)) return d.length;
  }
  return 0;
}

const MAX_LABELS = 16;
const MAX_LABEL_LENGTH = 63;
/** Characters that can start a label separator: the scan jumps from one to the next. */
const SEPARATOR_START = /[.[({\u3002\uff0e\uff61]/g;

/**
 * Finds host names in (`basic`-normalised) text. The scan jumps from separator
 * to separator (a text without dots costs one regex search) and reads the
 * labels around each; every unit is visited a bounded number of times.
 */
export function findHosts(text: string): HostMention[] {
  const found: HostMention[] = [];
  const n = text.length;
  let taken = 0; // text before this index belongs to a host already read (or was ruled out)
  SEPARATOR_START.lastIndex = 0;
  for (let m = SEPARATOR_START.exec(text); m !== null; m = SEPARATOR_START.exec(text)) {
    const p = m.index;
    const sep = separatorAt(text, p);
    if (sep === 0 || p === 0 || p + sep >= n) continue;
    if (!isLabelUnit(text.charCodeAt(p - 1)) || !isLabelUnit(text.charCodeAt(p + sep))) continue;
    let start = p - 1;
    while (start > taken && isLabelUnit(text.charCodeAt(start - 1))) start--;
    const labels: string[] = [];
    let end = start;
    let tooLong = false;
    for (;;) {
      let j = end;
      while (j < n && isLabelUnit(text.charCodeAt(j))) j++;
      if (j - end > MAX_LABEL_LENGTH) tooLong = true;
      labels.push(text.slice(end, j));
      end = j;
      const next = separatorAt(text, j);
      if (next === 0 || j + next >= n || !isLabelUnit(text.charCodeAt(j + next)) || labels.length >= MAX_LABELS) break;
      end = j + next;
    }
    taken = end;
    SEPARATOR_START.lastIndex = end;
    const tld = labels[labels.length - 1]!;
    if (tooLong || labels.length < 2 || tld.length < 2 || !/\p{L}/u.test(tld)) continue;
    found.push({ host: labels.join('.'), start, end });
  }
  return found;
}

/** Decodes punycode labels; leaves other hosts alone. */
function decodePunycode(host: string): string {
  if (!host.includes('xn--')) return host;
  const decoded = domainToUnicode(host);
  return decoded === '' ? host : decoded;
}

/** The folded form of a domain, for block lists (homographs fold together). */
export function foldDomain(domain: string): string {
  return normalise(decodePunycode(domain.toLowerCase()), 'basic').text;
}

/** The exact form of a domain, for allow lists (NFKC and lower case only). */
export function exactDomain(domain: string): string {
  if (!NON_ASCII.test(domain)) return decodePunycode(domain.toLowerCase());
  return decodePunycode(normalise(domain, 'compat').text.toLowerCase()).normalize('NFKC');
}

/** Canonicalises a list entry; returns an error message when it is not a bare domain. */
export function parseDomainEntry(entry: string): { domain: string } | { error: string } {
  let d = entry.trim().toLowerCase();
  if (d.startsWith('*.')) d = d.slice(2);
  if (d.startsWith('.')) d = d.slice(1);
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (/[/:@\s]/.test(d)) return { error: `'${entry}' is not a bare domain (no scheme, path, port or user)` };
  const labels = d.split('.');
  if (d === '' || labels.some((l) => l === '' || !/^[\p{L}\p{N}\p{M}-]+$/u.test(l))) {
    return { error: `'${entry}' is not a domain name` };
  }
  return { domain: d };
}

export interface DomainListMatch<T> {
  /** The listed domain that matched (as folded). */
  readonly listed: string;
  readonly entries: readonly T[];
}

/** Block and allow lists, looked up by walking a host's suffixes. */
export class DomainIndex<T> {
  private readonly block = new Map<string, T[]>();
  private readonly allow = new Set<string>();

  addBlocked(domain: string, entry: T): void {
    const key = foldDomain(domain);
    const list = this.block.get(key);
    if (list) list.push(entry);
    else this.block.set(key, [entry]);
  }

  addAllowed(domain: string): void {
    this.allow.add(exactDomain(domain));
  }

  get size(): number {
    return this.block.size;
  }

  /**
   * The most specific listed suffix of a host: a block-list match, or null when
   * nothing is listed or the most specific listed suffix is allowed. `exact` is
   * the host as written (for the allow list); `folded` the host as scanned.
   */
  lookup(folded: string, exact: string): DomainListMatch<T> | null {
    const f = decodePunycode(folded).split('.');
    const e = decodePunycode(exact).split('.');
    const aligned = e.length === f.length;
    for (let k = 0; k < f.length; k++) {
      if (aligned && this.allow.size > 0 && this.allow.has(e.slice(k).join('.'))) return null;
      const suffix = f.slice(k).join('.');
      const entries = this.block.get(suffix);
      if (entries) return { listed: suffix, entries };
    }
    return null;
  }
}
