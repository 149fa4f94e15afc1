import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORY_CODES, type CategoryCode } from '../../policy/policy.js';
import { loadSpamAssassin } from './spam-assassin.js';
import { TextNormalizer } from './text-normalizer.js';
import { MODELS_DIR } from './text-model.js';
import type { LabelledExample } from './training.js';

/** The shipped corpus folder. */
export const CORPUS_DIR = path.join(MODELS_DIR, 'corpus');

/**
 * Two splits: `train` (85 % of split keys) and the held-out `test` (15 %). Calibration
 * and thresholds come from cross-fitting inside `train` (see training.ts), so no
 * separate calibration or validation split is set aside.
 */
export type SplitName = 'train' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'test'];
const TRAIN_PERCENT = 85;

/**
 * The fixed split of an example: SHA-256 of its group (one template's expansions stay
 * together, so the test split holds templates the model never saw) or, without a group,
 * of its text; augmented (recombined) examples are always in train. Stable across runs, machines and corpus growth: adding
 * examples never moves an existing one to another split.
 */
export function splitOf(example: Pick<LabelledExample, 'group' | 'text' | 'augmented'>): SplitName {
  if (example.augmented) return 'train';
  const key = example.group ? `group:${example.group}` : `text:${example.text}`;
  const digest = crypto.createHash('sha256').update(`custos-split-v1\0${key}`).digest();
  return digest.readUInt32BE(0) % 100 < TRAIN_PERCENT ? 'train' : 'test';
}

export class CorpusError extends Error {
  constructor(where: string, problem: string) {
    super(`corpus ${where}: ${problem}`);
    this.name = 'CorpusError';
  }
}

const LANG = /^[a-z]{2}(-[A-Za-z]{2,4})?$/;

function listJsonl(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.jsonl')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Parses and validates one JSONL corpus file: `{text, labels, lang, source, group?, known?, augmented?}` per line. */
export function parseCorpusFile(file: string, content: string): LabelledExample[] {
  const examples: LabelledExample[] = [];
  const isCategory = (c: unknown): c is CategoryCode =>
    typeof c === 'string' && (CATEGORY_CODES as readonly string[]).includes(c);
  content.split('\n').forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line.trim() === '') return;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new CorpusError(where, `is not JSON (${(error as Error).message})`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new CorpusError(where, 'is not an object');
    const extra = Object.keys(row).filter(
      (k) => !['text', 'labels', 'lang', 'source', 'group', 'known', 'augmented'].includes(k),
    );
    if (extra.length > 0) throw new CorpusError(where, `has unknown fields ${extra.join(', ')}`);
    if (typeof row.text !== 'string' || row.text.trim() === '')
      throw new CorpusError(where, 'text must be a non-empty string');
    if (!Array.isArray(row.labels) || !row.labels.every(isCategory)) {
      throw new CorpusError(where, `labels must be category codes (${CATEGORY_CODES.join(', ')})`);
    }
    if (typeof row.lang !== 'string' || !LANG.test(row.lang))
      throw new CorpusError(where, 'lang must be a language tag');
    if (typeof row.source !== 'string' || row.source === '') throw new CorpusError(where, 'source must be a string');
    if (row.group !== undefined && typeof row.group !== 'string')
      throw new CorpusError(where, 'group must be a string');
    if (row.known !== undefined && (!Array.isArray(row.known) || !row.known.every(isCategory))) {
      throw new CorpusError(where, 'known must be category codes');
    }
    if (row.augmented !== undefined && typeof row.augmented !== 'boolean') {
      throw new CorpusError(where, 'augmented must be a boolean');
    }
    examples.push({
      text: row.text,
      labels: [...new Set(row.labels as CategoryCode[])].sort(),
      lang: row.lang,
      source: row.source,
      ...(row.group !== undefined ? { group: row.group as string } : {}),
      ...(row.known !== undefined ? { known: [...new Set(row.known as CategoryCode[])].sort() } : {}),
      ...(row.augmented === true ? { augmented: true } : {}),
    });
  });
  return examples;
}

export interface Corpus {
  readonly examples: readonly LabelledExample[];
  readonly splits: Readonly<Record<SplitName, readonly LabelledExample[]>>;
  /** `sha256:<hex>` over every example (canonical JSON lines, in load order). */
  readonly dataHash: string;
  /** Examples dropped because their normalised text repeated an earlier one. */
  readonly duplicatesDropped: number;
}

export interface LoadCorpusOptions {
  readonly dir?: string;
  /** Include the SpamAssassin subset (default true). */
  readonly spamAssassin?: boolean;
  /** Extra labelled examples appended after the corpus (e.g. moderator decisions). */
  readonly extra?: readonly LabelledExample[];
}

/**
 * Loads the corpus: every `*.jsonl` under the folder (sorted by path), the SpamAssassin
 * subset, then `extra`. Exact duplicates after normalisation are dropped (the first one
 * wins), so the same line can never sit in both the training and the test split.
 */
export function loadCorpus(options: LoadCorpusOptions = {}): Corpus {
  const dir = options.dir ?? CORPUS_DIR;
  if (!fs.existsSync(dir)) throw new CorpusError(dir, 'does not exist');
  const all: LabelledExample[] = [];
  for (const file of listJsonl(dir)) {
    all.push(...parseCorpusFile(path.relative(dir, file), fs.readFileSync(file, 'utf8')));
  }
  if (options.spamAssassin ?? true) all.push(...loadSpamAssassin());
  if (options.extra) all.push(...options.extra);
  return buildCorpus(all);
}

/** Deduplicates, splits and hashes a list of examples. */
export function buildCorpus(all: readonly LabelledExample[]): Corpus {
  const normalizer = new TextNormalizer();
  const seen = new Set<string>();
  const examples: LabelledExample[] = [];
  for (const ex of all) {
    const key = normalizer.normalizeToString(ex.text);
    if (seen.has(key)) continue;
    seen.add(key);
    examples.push(ex);
  }
  const splits: Record<SplitName, LabelledExample[]> = { train: [], test: [] };
  const hash = crypto.createHash('sha256');
  for (const ex of examples) {
    splits[splitOf(ex)].push(ex);
    hash.update(
      `${JSON.stringify([ex.text, ex.labels, ex.lang, ex.source, ex.group ?? null, ex.known ?? null, ex.augmented ?? false])}\n`,
    );
  }
  return {
    examples,
    splits,
    dataHash: `sha256:${hash.digest('hex')}`,
    duplicatesDropped: all.length - examples.length,
  };
}
