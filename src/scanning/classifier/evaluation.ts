import type { CategoryCode } from '../../policy/policy.js';
import type { CategoryMetrics, MetricsTable, TextModel } from './text-model.js';
import type { LabelledExample } from './training.js';

/** Anything that flags categories for a text: the model, the keyword rules, obscenity. */
export type CategoryPredictor = (text: string) => ReadonlySet<CategoryCode> | readonly CategoryCode[];

/** The model as a predictor: the categories at or above their thresholds. */
export function modelPredictor(model: TextModel): CategoryPredictor {
  return (text) => model.decide(model.score(text)).flagged.map((f) => f.category);
}

const round4 = (x: number) => Math.round(x * 10000) / 10000;

/** Precision, recall and F1 from counts (an undefined ratio counts as 0). */
function metricsOf(tp: number, fp: number, fn: number, support: number): CategoryMetrics {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision: round4(precision), recall: round4(recall), f1: round4(f1), support, tp, fp, fn };
}

/** Metrics of one category from parallel predicted flags and 0/1 truths. */
export function binaryMetrics(predicted: readonly boolean[], truth: ArrayLike<number>): CategoryMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let support = 0;
  predicted.forEach((flag, i) => {
    const t = truth[i] === 1;
    if (t) support++;
    if (t && flag) tp++;
    else if (flag) fp++;
    else if (t) fn++;
  });
  return metricsOf(tp, fp, fn, support);
}

/**
 * Precision, recall and F1 per category of `predict` on `examples`, skipping for each
 * category the examples whose label for it is unknown. An undefined ratio (no positive
 * predictions, or no positives) counts as 0, as is usual for F1 over rare classes.
 */
export function evaluatePredictor(
  predict: CategoryPredictor,
  examples: readonly LabelledExample[],
  categories: readonly CategoryCode[],
): MetricsTable {
  const counts = new Map(categories.map((c) => [c, { tp: 0, fp: 0, fn: 0, support: 0 }]));
  for (const ex of examples) {
    const raw = predict(ex.text);
    const predicted = raw instanceof Set ? raw : new Set(raw as readonly CategoryCode[]);
    for (const c of categories) {
      if (ex.known && !ex.known.includes(c)) continue;
      const k = counts.get(c)!;
      const truth = ex.labels.includes(c);
      const flagged = predicted.has(c);
      if (truth) k.support++;
      if (truth && flagged) k.tp++;
      else if (flagged) k.fp++;
      else if (truth) k.fn++;
    }
  }
  const perCategory: Partial<Record<CategoryCode, CategoryMetrics>> = {};
  let sum = 0;
  for (const c of categories) {
    const { tp, fp, fn, support } = counts.get(c)!;
    const m = metricsOf(tp, fp, fn, support);
    sum += m.f1;
    perCategory[c] = m;
  }
  return { perCategory, macroF1: round4(categories.length > 0 ? sum / categories.length : 0) };
}

/** Evaluates a model on a split: `evaluate(model, corpus.splits.test)`. */
export function evaluateTextModel(model: TextModel, examples: readonly LabelledExample[]): MetricsTable {
  return evaluatePredictor(modelPredictor(model), examples, model.categories);
}

/** The three systems `custos model eval` compares, evaluated on one split. */
export interface Comparison {
  readonly examples: number;
  readonly model: MetricsTable;
  readonly keywordRules: MetricsTable;
  readonly obscenity: MetricsTable & { readonly covers: readonly CategoryCode[] };
}

/**
 * Evaluates the model beside the keyword-rule baseline and the obscenity baseline on the
 * same examples. Obscenity's table lists only the categories its mapping can flag, and
 * its macro F1 is over those.
 */
export function compareWithBaselines(
  model: TextModel,
  examples: readonly LabelledExample[],
  baselines: {
    keywordRules: CategoryPredictor;
    obscenity: CategoryPredictor;
    obscenityCovers: readonly CategoryCode[];
  },
): Comparison {
  const categories = model.categories;
  const covers = baselines.obscenityCovers.filter((c) => categories.includes(c));
  return {
    examples: examples.length,
    model: evaluateTextModel(model, examples),
    keywordRules: evaluatePredictor(baselines.keywordRules, examples, categories),
    obscenity: { ...evaluatePredictor(baselines.obscenity, examples, covers), covers },
  };
}

/** The quality targets. */
export const QUALITY_TARGETS = Object.freeze({ macroF1: 0.85 });

/**
 * What keeps a comparison from meeting the targets: macro F1 below 0.85, or a category
 * where the model's F1 does not beat a baseline that covers it. Empty when all are met.
 */
export function targetShortfalls(c: Comparison): string[] {
  const problems: string[] = [];
  if (c.model.macroF1 < QUALITY_TARGETS.macroF1) {
    problems.push(`macro F1 ${c.model.macroF1} is below ${QUALITY_TARGETS.macroF1}`);
  }
  for (const [name, table] of [
    ['keyword rules', c.keywordRules],
    ['obscenity', c.obscenity],
  ] as const) {
    for (const [category, theirs] of Object.entries(table.perCategory)) {
      const ours = c.model.perCategory[category as CategoryCode];
      if (!theirs || !ours) continue;
      if (!(ours.f1 > theirs.f1)) problems.push(`${category}: F1 ${ours.f1} does not beat ${name} (${theirs.f1})`);
    }
  }
  return problems;
}
