import fs from 'node:fs';
import path from 'node:path';
import type { Actor } from '../../audit/actor.js';
import { appendAudit } from '../../audit/service.js';
import type { Db } from '../../db/database.js';
import type { CategoryCode } from '../../policy/policy.js';
import { loadCorpus } from './corpus.js';
import { evaluateTextModel } from './evaluation.js';
import { type BuiltModel, MODEL_FILE_NAME, buildModel, writeModelFiles } from './model-build.js';
import { type MetricsTable, type TextModel, loadTextModel } from './text-model.js';
import { type LabelledExample, TEXT_MODEL_CATEGORIES } from './training.js';

/**
 * Moderators' decisions as labelled examples, one per text item (its latest
 * decision wins):
 * - a human decision that acted (remove, restrict, warn, suspend, ban) in a
 *   category of the model: the text is that category;
 * - a human dismissal: the text is *not* the case's category (and nothing is
 *   said of the others: `known` is that category alone);
 * - a decision overturned on appeal, automated or not: the text is not that
 *   category either — the machine or the moderator was wrong.
 * Automated decisions nobody reviewed teach nothing (they are the model's own
 * output) and are left out. Each example's split is fixed by its content id,
 * like the corpus's (see corpus.ts `splitOf`), so an item stays in the held-out
 * part across retrainings.
 */
export async function decisionExamples(db: Db): Promise<LabelledExample[]> {
  const rows = await db
    .selectFrom('decisions')
    .innerJoin('content', 'content.id', 'decisions.subject_id')
    .select([
      'decisions.id as decision_id',
      'decisions.actions',
      'decisions.category',
      'decisions.automation',
      'decisions.status',
      'decisions.created_at',
      'content.id as content_id',
      'content.text',
      'content.language',
    ])
    .where('decisions.subject_type', '=', 'content')
    .where('content.kind', '=', 'text')
    .where('content.text', 'is not', null)
    .orderBy('decisions.created_at')
    .orderBy('decisions.id')
    .execute();
  const latest = new Map<string, LabelledExample>();
  for (const r of rows) {
    const category = r.category as CategoryCode;
    if (!TEXT_MODEL_CATEGORIES.includes(category) || !r.text?.trim()) continue;
    const types = (JSON.parse(r.actions) as { type: string }[]).map((a) => a.type);
    const reversed = r.status === 'reversed';
    const human = r.automation !== 'full';
    if (!reversed && !human) continue;
    const isCategory = !reversed && !types.includes('dismiss');
    latest.set(r.content_id, {
      text: r.text,
      labels: isCategory ? [category] : [],
      known: [category],
      lang: r.language ?? 'und',
      source: `decision:${r.decision_id}`,
      group: `decision:${r.content_id}`,
    });
  }
  return [...latest.values()];
}

export interface ModelScore {
  version: string;
  macroF1: number;
  perCategory: MetricsTable['perCategory'];
}

export interface RetrainResult {
  promoted: boolean;
  current: ModelScore | null;
  candidate: ModelScore;
  /** Held-out examples both models were measured on (corpus test split + held-out decisions). */
  heldOut: number;
  decisions: { train: number; test: number };
  files?: { weights: string; metadata: string };
}

export interface RetrainOptions {
  corpusDir: string;
  /** Folder of the model in force; the candidate replaces it there when promoted. */
  modelDir: string;
  spamAssassin?: boolean;
  actor: Actor;
}

/**
 * `custos model train --with-decisions`: trains a candidate on the corpus plus
 * the moderators' decisions, measures it and the model in force on the same
 * held-out examples, and promotes the candidate only when its macro F1 is not
 * worse. Either way the comparison is written to the audit log.
 */
export async function retrainWithDecisions(db: Db, options: RetrainOptions): Promise<RetrainResult> {
  const fromDecisions = await decisionExamples(db);
  const corpus = loadCorpus({ dir: options.corpusDir, spamAssassin: options.spamAssassin, extra: fromDecisions });
  const inCorpus = (split: 'train' | 'test') =>
    corpus.splits[split].filter((e) => e.source.startsWith('decision:')).length;
  const built: BuiltModel = buildModel(corpus, options.corpusDir);
  const heldOut = corpus.splits.test;
  const candidate = score(built.model, heldOut);
  const currentFile = path.join(options.modelDir, MODEL_FILE_NAME);
  const current = fs.existsSync(currentFile) ? score(loadTextModel(currentFile), heldOut) : null;
  const promoted = current === null || candidate.macroF1 >= current.macroF1;
  const result: RetrainResult = {
    promoted,
    current,
    candidate,
    heldOut: heldOut.length,
    decisions: { train: inCorpus('train'), test: inCorpus('test') },
  };
  if (promoted) result.files = writeModelFiles(options.modelDir, built);
  await appendAudit(db, options.actor, {
    action: promoted ? 'model.promoted' : 'model.rejected',
    subjectType: 'model',
    subjectId: candidate.version,
    details: {
      current: current ? { version: current.version, macroF1: current.macroF1 } : null,
      candidate: { version: candidate.version, macroF1: candidate.macroF1 },
      heldOut: heldOut.length,
      decisionExamples: result.decisions,
      corpus: corpus.dataHash,
    },
  });
  return result;
}

function score(model: TextModel, examples: readonly LabelledExample[]): ModelScore {
  const table = evaluateTextModel(model, examples);
  return { version: model.version, macroF1: round4(table.macroF1), perCategory: table.perCategory };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
