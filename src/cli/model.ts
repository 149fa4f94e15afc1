import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { CategoryCode } from '../policy/policy.js';
import { CORPUS_DIR, type SplitName, SPLIT_NAMES, loadCorpus } from '../scanning/classifier/corpus.js';
import { generateCorpus } from '../scanning/classifier/corpus-templates.js';
import { type Comparison, QUALITY_TARGETS, targetShortfalls } from '../scanning/classifier/evaluation.js';
import { buildModel, compareOnSplit, writeModelFiles } from '../scanning/classifier/model-build.js';
import {
  DEFAULT_TEXT_MODEL_FILE,
  MODELS_DIR,
  type MetricsTable,
  loadTextModel,
} from '../scanning/classifier/text-model.js';
import { type RetrainResult, retrainWithDecisions } from '../scanning/classifier/learning.js';
import { SYSTEM_ACTOR } from '../audit/actor.js';
import { fail, withContext } from './run-command.js';

function split(value: string): SplitName {
  if (!(SPLIT_NAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(SPLIT_NAMES.join(', '));
  return value as SplitName;
}

const pct = (x: number) => (x * 100).toFixed(1).padStart(5);

/** The eval table: one row per category, P/R/F1 of the model, the keyword rules and obscenity. */
export function formatComparison(c: Comparison, split: string): string {
  const cats = Object.keys(c.model.perCategory) as CategoryCode[];
  const cell = (t: MetricsTable, cat: CategoryCode) => {
    const m = t.perCategory[cat];
    return m ? `${pct(m.precision)} ${pct(m.recall)} ${pct(m.f1)}` : '    –     –     –';
  };
  const width = Math.max(...cats.map((x) => x.length), 'category'.length);
  const lines = [
    `held-out ${split} split: ${c.examples} examples (precision, recall, F1 in %)`,
    '',
    `${''.padEnd(width)}          |       model       |   keyword rules   |     obscenity`,
    `${'category'.padEnd(width)}  support |   P     R    F1   |   P     R    F1   |   P     R    F1`,
  ];
  for (const cat of cats) {
    const support = String(c.model.perCategory[cat]?.support ?? 0).padStart(7);
    lines.push(
      `${cat.padEnd(width)}  ${support} | ${cell(c.model, cat)} | ${cell(c.keywordRules, cat)} | ${cell(c.obscenity, cat)}`,
    );
  }
  lines.push(
    `${'macro F1'.padEnd(width)}          |             ${pct(c.model.macroF1)} |             ${pct(
      c.keywordRules.macroF1,
    )} |             ${pct(c.obscenity.macroF1)}  (obscenity: over ${c.obscenity.covers.join(', ')})`,
  );
  return `${lines.join('\n')}\n`;
}

/** The promotion report: both models on the same held-out examples, per category and overall. */
export function formatRetrain(r: RetrainResult): string {
  const cats = Object.keys(r.candidate.perCategory) as CategoryCode[];
  const width = Math.max(...cats.map((x) => x.length), 'macro F1'.length);
  const f1 = (m: { f1: number } | undefined) => (m ? pct(m.f1) : '    –');
  const lines = [
    `decisions as examples: ${r.decisions.train} for training, ${r.decisions.test} held out`,
    `held-out examples (corpus test split + held-out decisions): ${r.heldOut}`,
    '',
    `${'F1 %'.padEnd(width)}  current  candidate`,
    ...cats.map((c) => `${c.padEnd(width)}    ${f1(r.current?.perCategory[c])}      ${f1(r.candidate.perCategory[c])}`),
    `${'macro F1'.padEnd(width)}    ${r.current ? pct(r.current.macroF1) : '    –'}      ${pct(r.candidate.macroF1)}`,
    '',
    `current   ${r.current?.version ?? '(none)'}`,
    `candidate ${r.candidate.version}`,
    r.promoted
      ? `PROMOTED: the candidate is not worse; wrote ${r.files?.weights} (restart Custos to load it)`
      : 'KEPT the current model: the candidate is worse on the held-out examples',
  ];
  return `${lines.join('\n')}\n`;
}

export function modelCommand(): Command {
  const cmd = new Command('model').description('Train and evaluate the built-in text classifier');
  cmd
    .command('train')
    .description('Train on models/corpus (deterministic: same corpus, same bytes) and write the model files')
    .option('--corpus <dir>', 'the corpus folder', CORPUS_DIR)
    .option('--out <dir>', 'where to write text-linear-v1.bin and .json', MODELS_DIR)
    .option('--no-spamassassin', 'leave out the SpamAssassin subset')
    .option(
      '--with-decisions',
      "also learn from the moderators' decisions in the store; the new model replaces the one in --out only if its held-out macro F1 is not worse (audited either way)",
    )
    .action(async (opts: { corpus: string; out: string; spamassassin: boolean; withDecisions?: boolean }) => {
      if (opts.withDecisions) {
        await withContext(async (ctx) => {
          const result = await retrainWithDecisions(ctx.store.db, {
            corpusDir: opts.corpus,
            modelDir: path.resolve(opts.out),
            spamAssassin: opts.spamassassin,
            actor: SYSTEM_ACTOR('model-train'),
          });
          process.stdout.write(formatRetrain(result));
        });
        return;
      }
      try {
        const started = Date.now();
        const corpus = loadCorpus({ dir: opts.corpus, spamAssassin: opts.spamassassin });
        const built = buildModel(corpus, opts.corpus);
        const files = writeModelFiles(path.resolve(opts.out), built);
        const t = built.metadata.training.examples as Record<string, number>;
        process.stdout.write(
          `trained on ${t.train} examples (held out for test: ${t.test}) ` +
            `in ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
            `corpus ${corpus.dataHash}\n` +
            `wrote ${files.weights}\n      ${files.metadata}\n\n` +
            formatComparison({ ...built.metadata.metrics }, 'test') +
            `\nmodel version ${built.metadata.version}\n`,
        );
      } catch (error) {
        fail(error);
      }
    });
  cmd
    .command('eval')
    .description('Precision, recall and F1 per category on a held-out split, beside keyword rules and obscenity')
    .option('--model <file>', 'the model weights file', DEFAULT_TEXT_MODEL_FILE)
    .option('--corpus <dir>', 'the corpus folder', CORPUS_DIR)
    .option('--split <name>', `one of ${SPLIT_NAMES.join(', ')}`, split, 'test' as SplitName)
    .option('--no-spamassassin', 'leave out the SpamAssassin subset')
    .option('--json', 'print the figures as JSON')
    .option('--check', `exit 1 unless macro F1 >= ${QUALITY_TARGETS.macroF1} and every baseline is beaten`)
    .action(
      (opts: {
        model: string;
        corpus: string;
        split: SplitName;
        spamassassin: boolean;
        json?: boolean;
        check?: boolean;
      }) => {
        try {
          const model = loadTextModel(opts.model);
          const corpus = loadCorpus({ dir: opts.corpus, spamAssassin: opts.spamassassin });
          const comparison = compareOnSplit(model, opts.corpus, corpus.splits[opts.split]);
          const shortfalls = targetShortfalls(comparison);
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({ version: model.version, split: opts.split, ...comparison, shortfalls }, null, 2)}\n`,
            );
          } else {
            process.stdout.write(`model ${model.version}\n`);
            if (model.metadata && model.metadata.training.dataHash !== corpus.dataHash) {
              process.stdout.write(`note: the corpus changed since this model was trained (${corpus.dataHash})\n`);
            }
            process.stdout.write(formatComparison(comparison, opts.split));
            process.stdout.write(
              shortfalls.length === 0
                ? `targets met: macro F1 >= ${QUALITY_TARGETS.macroF1}, every baseline beaten on the categories it covers\n`
                : `targets NOT met:\n${shortfalls.map((s) => `  - ${s}`).join('\n')}\n`,
            );
          }
          if (opts.check && shortfalls.length > 0) process.exitCode = 1;
        } catch (error) {
          fail(error);
        }
      },
    );
  cmd
    .command('corpus')
    .description('Regenerate models/corpus/generated/*.jsonl from models/corpus/templates/*.txt')
    .option('--corpus <dir>', 'the corpus folder', CORPUS_DIR)
    .action((opts: { corpus: string }) => {
      try {
        const counts = generateCorpus(opts.corpus);
        for (const [file, n] of Object.entries(counts)) process.stdout.write(`${file}\t${n} examples\n`);
      } catch (error) {
        fail(error);
      }
    });
  return cmd;
}
