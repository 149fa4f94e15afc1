import fs from 'node:fs';
import path from 'node:path';
import type { CategoryCode } from '../../policy/policy.js';
import type { CategoryPredictor } from './evaluation.js';
import { TextNormalizer } from './text-normalizer.js';

/**
 * The keyword-rule baseline of `custos model eval`: per category, a list of words and
 * phrases (`models/corpus/keywords/<category>.txt`, one per line, `#` comments, a
 * trailing `*` for a prefix such as `наркот*`). Keywords and texts go through the same
 * normaliser as the model (case, accents, leetspeak, zero-width, repeats), and a keyword
 * matches whole words only. A text is flagged for every category with a matching keyword.
 *
 * This is a baseline to beat, not the production rule engine (that one, with an
 * automaton over all rules, lives with the policy's scanning rules).
 */

export interface KeywordList {
  readonly category: CategoryCode;
  /** Normalised, space-delimited: ` word ` for whole words, ` prefix` for prefixes. */
  readonly needles: readonly string[];
}

/** Reads `<dir>/<category>.txt` for each category that has a file. */
export function loadKeywordLists(dir: string, categories: readonly CategoryCode[]): KeywordList[] {
  const normalizer = new TextNormalizer();
  const lists: KeywordList[] = [];
  for (const category of categories) {
    const file = path.join(dir, `${category}.txt`);
    if (!fs.existsSync(file)) continue;
    const needles = new Set<string>();
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const entry = line.replace(/#.*$/, '').trim();
      if (entry === '') continue;
      const prefix = entry.endsWith('*');
      const norm = normalizer.normalizeToString(prefix ? entry.slice(0, -1) : entry);
      if (norm === '') continue;
      needles.add(prefix ? ` ${norm}` : ` ${norm} `);
    }
    lists.push({ category, needles: [...needles] });
  }
  return lists;
}

/** A predictor flagging each category one of whose keywords occurs in the text. */
export function keywordPredictor(lists: readonly KeywordList[]): CategoryPredictor {
  const normalizer = new TextNormalizer();
  return (text) => {
    const n = normalizer.normalize(text);
    const haystack = String.fromCharCode(...normalizer.out.subarray(0, n));
    const flagged: CategoryCode[] = [];
    for (const list of lists) {
      if (list.needles.some((needle) => haystack.includes(needle))) flagged.push(list.category);
    }
    return flagged;
  };
}
