import type { CategoryCode } from '../policy/policy.js';

/** What a scanner sees of a content item. */
export interface ScanItem {
  id: string;
  accountId: string;
  kind: 'text' | 'image';
  /** Text, already bounded to the policy's maximum length. */
  text: string | null;
  image: Buffer | null;
  public: boolean;
  /** Language the platform declared, if any. */
  language: string | null;
}

/**
 * One finding. `score` is a probability-like value in [0, 1]; a hash match
 * names its bank and distance in `detail`, a rule its id and matched term, a
 * model its version.
 */
export interface Signal {
  scanner: string;
  category?: CategoryCode;
  score: number;
  /** Recorded and measured, but never acted on. */
  shadow?: boolean;
  /** The most this signal may cause: a rule written as `action: review` never removes. */
  ceiling?: 'review';
  /**
   * The action this signal takes whatever the policy's score thresholds: a hash
   * bank match does what its bank says (review or remove).
   */
  decides?: 'review' | 'remove';
  detail?: Record<string, unknown>;
}

/**
 * A pluggable scanner. The pipeline runs scanners in order of `cost` (cheap
 * first) and stops early when a signal is decisive on its own.
 */
export interface Scanner {
  readonly name: string;
  /** Relative cost; lower runs first. */
  readonly cost: number;
  /** Model or rule-set version, recorded with every verdict. */
  readonly version: string;
  /** Which items this scanner looks at. */
  accepts(item: ScanItem): boolean;
  scan(item: ScanItem): Signal[] | Promise<Signal[]>;
}
