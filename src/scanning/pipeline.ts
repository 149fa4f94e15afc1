import type { CategoryCode } from '../policy/policy.js';
import type { ScanningPolicy } from './scanning-policy.js';
import type { ScanItem, Scanner, Signal } from './scanner.js';

export type VerdictAction = 'allow' | 'review' | 'remove';

export interface Verdict {
  action: VerdictAction;
  category?: CategoryCode;
  score?: number;
  language: string | null;
  signals: Signal[];
  /** Scanner name → model or rule-set version. */
  versions: Record<string, string>;
  policyVersion: string;
}

const RANK: Record<VerdictAction, number> = { allow: 0, review: 1, remove: 2 };

/**
 * Runs the scanners cheapest first and turns their signals into one verdict
 * with the policy's thresholds (per category and surface). Stops early once a
 * signal alone reaches the removal threshold: nothing later could change the
 * outcome, and the expensive scanners are skipped.
 */
export class ScanPipeline {
  private readonly scanners: Scanner[];

  constructor(
    scanners: Scanner[],
    private readonly policy: ScanningPolicy,
    private readonly policyVersion: string,
  ) {
    this.scanners = [...scanners].sort((a, b) => a.cost - b.cost);
  }

  get scannerNames(): string[] {
    return this.scanners.map((s) => s.name);
  }

  /** Cuts text to the policy's maximum (bounded work for any input). */
  bound(text: string | null): string | null {
    if (text === null) return null;
    return text.length > this.policy.maxTextChars ? text.slice(0, this.policy.maxTextChars) : text;
  }

  async scan(input: ScanItem): Promise<Verdict> {
    // One fixed shape for every item (the scanners' call sites stay monomorphic).
    const item: ScanItem = {
      id: input.id,
      accountId: input.accountId,
      kind: input.kind,
      text: this.bound(input.text),
      image: input.image,
      public: input.public,
      language: input.language,
    };
    const signals: Signal[] = [];
    const versions: Record<string, string> = {};
    let best: { action: VerdictAction; category?: CategoryCode; score?: number } = { action: 'allow' };
    for (const scanner of this.scanners) {
      if (!scanner.accepts(item)) continue;
      versions[scanner.name] = scanner.version;
      // Most scanners answer synchronously: awaiting only a promise saves a turn of the microtask queue each.
      const found = scanner.scan(item);
      for (const raw of found instanceof Promise ? await found : found) {
        const signal = this.policy.isShadow(raw.category, raw.scanner) ? { ...raw, shadow: true } : raw;
        signals.push(signal);
        if (!signal.category || signal.shadow) continue;
        let action = signal.decides ?? this.actionFor(signal.category, signal.score, item.public);
        if (signal.ceiling === 'review' && action === 'remove') action = 'review';
        if (
          RANK[action] > RANK[best.action] ||
          (action === best.action && action !== 'allow' && signal.score > (best.score ?? 0))
        ) {
          best = { action, category: signal.category, score: signal.score };
        }
      }
      if (best.action === 'remove') break;
      // Later scanners (language-specific rules) see the language found so far.
      if (item.language === null) item.language = languageOf(signals);
    }
    const language = item.language ?? languageOf(signals);
    // Written out rather than spread from `best` (a spread into a new literal is a slow path in V8); the same
    // keys in the same order: category and score only when a signal chose them.
    const policyVersion = this.policyVersion;
    return best.category === undefined
      ? { action: best.action, language, signals, versions, policyVersion }
      : { action: best.action, category: best.category, score: best.score, language, signals, versions, policyVersion };
  }

  private actionFor(category: CategoryCode, score: number, isPublic: boolean): VerdictAction {
    const t = this.policy.threshold(category, isPublic);
    if (score >= t.remove) return 'remove';
    if (score >= t.review) return 'review';
    return 'allow';
  }
}

function languageOf(signals: Signal[]): string | null {
  const lid = signals.find((s) => s.scanner === 'language');
  return (lid?.detail?.language as string | undefined) ?? null;
}
