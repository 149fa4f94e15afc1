import crypto from 'node:crypto';
import type { CategoryCode } from '../policy/policy.js';
import type { TextModel } from './classifier/text-model.js';
import type { CompiledRules } from './rules/rules.js';
import type { ScanItem, Scanner, Signal } from './scanner.js';

/**
 * The policy's keyword, regex, domain, phone and wallet rules. One automaton
 * pass and one combined regex per message, whatever the number of rules.
 */
export class RulesScanner implements Scanner {
  readonly name = 'rules';
  readonly cost = 3;
  readonly version: string;
  /** How many rules there are (`rules.list` builds a new array of copies each time it is read). */
  private readonly ruleCount: number;

  constructor(private readonly rules: CompiledRules) {
    // The rules are part of the policy, whose hash is recorded too; this names the rule set alone.
    const digest = crypto.createHash('sha256').update(JSON.stringify(rules.list)).digest('hex');
    this.version = `rules:${rules.list.length}:${digest.slice(0, 16)}`;
    this.ruleCount = rules.list.length;
  }

  accepts(item: ScanItem): boolean {
    return item.text !== null && item.text.length > 0 && this.ruleCount > 0;
  }

  scan(item: ScanItem): Signal[] {
    const hits = this.rules.match(item.text!, {
      surface: item.public ? 'public' : 'private',
      // A rule limited to languages applies to a message of unknown (absent or empty) language.
      language: item.language || undefined,
    });
    if (hits.length === 0) return []; // most messages
    const signals: Signal[] = [];
    for (const hit of hits) {
      const category = hit.category as CategoryCode;
      const detail = { ruleId: hit.ruleId, kind: hit.kind, term: hit.term, count: hit.count };
      // Written out, the keys in one order (scanner, category, score, shadow, ceiling, detail), each
      // optional one only when set. A rule that asks only for review never removes, however high its score.
      const review = hit.action === 'review';
      signals.push(
        hit.shadow
          ? review
            ? { scanner: this.name, category, score: hit.score, shadow: true, ceiling: 'review', detail }
            : { scanner: this.name, category, score: hit.score, shadow: true, detail }
          : review
            ? { scanner: this.name, category, score: hit.score, ceiling: 'review', detail }
            : { scanner: this.name, category, score: hit.score, detail },
      );
    }
    return signals;
  }
}

/** Probabilities below this are not worth a signal: they are recorded nowhere and decide nothing. */
const CLASSIFIER_SIGNAL_FLOOR = 0.3;

const NOT_BLANK = /\S/;

/** Our own linear text classifier (src/scanning/classifier), calibrated probabilities per category. */
export class ClassifierScanner implements Scanner {
  readonly name = 'classifier';
  readonly cost = 5;
  readonly version: string;
  private readonly probabilities: Float64Array;

  constructor(private readonly model: TextModel) {
    this.version = model.version;
    this.probabilities = new Float64Array(model.categories.length);
  }

  accepts(item: ScanItem): boolean {
    return item.text !== null && NOT_BLANK.test(item.text);
  }

  scan(item: ScanItem): Signal[] {
    const probabilities = this.probabilities;
    this.model.scoreInto(item.text!, probabilities);
    const categories = this.model.categories;
    const signals: Signal[] = [];
    for (let c = 0; c < categories.length; c++) {
      const p = probabilities[c]!;
      if (p < CLASSIFIER_SIGNAL_FLOOR) continue;
      const category = categories[c]!;
      signals.push({
        scanner: this.name,
        category,
        score: round4(p),
        detail: { model: this.model.version, threshold: this.model.thresholds[category] },
      });
    }
    return signals;
  }
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
