import fs from 'node:fs';
import path from 'node:path';
import type { Corpus } from './corpus.js';
import { type Comparison, compareWithBaselines } from './evaluation.js';
import { keywordPredictor, loadKeywordLists } from './keyword-baseline.js';
import { OBSCENITY_CATEGORIES, obscenityPredictor } from './obscenity-baseline.js';
import { MAX_INPUT_CHARS } from './text-normalizer.js';
import { metadataFileOf, type TextModel, type TextModelMetadata } from './text-model.js';
import { type TrainOptions, trainTextModel } from './training.js';

/** The shipped model's file names under `models/`. */
export const MODEL_FILE_NAME = 'text-linear-v1.bin';

/** Runs the model and both baselines on `examples` (normally the test split). */
export function compareOnSplit(model: TextModel, corpusDir: string, examples: Corpus['splits']['test']): Comparison {
  return compareWithBaselines(model, examples, {
    keywordRules: keywordPredictor(loadKeywordLists(path.join(corpusDir, 'keywords'), model.categories)),
    obscenity: obscenityPredictor(),
    obscenityCovers: OBSCENITY_CATEGORIES,
  });
}

export interface BuiltModel {
  readonly model: TextModel;
  readonly bytes: Buffer;
  readonly metadata: TextModelMetadata;
}

/**
 * Trains on the corpus's train split (calibration and thresholds by cross-fitting inside
 * it), evaluates on its test split beside the baselines, and
 * describes the result. Pure: nothing is written, and the output depends only on the
 * corpus and the options (no clock, no randomness beyond the seeded PRNG).
 */
export function buildModel(corpus: Corpus, corpusDir: string, options: TrainOptions = {}): BuiltModel {
  const trained = trainTextModel(corpus.splits.train, options);
  const comparison = compareOnSplit(trained.model, corpusDir, corpus.splits.test);
  const o = trained.options;
  const count = (split: keyof Corpus['splits']) => corpus.splits[split].length;
  const positives = Object.fromEntries(
    o.categories.map((c) => [c, corpus.examples.filter((e) => e.labels.includes(c)).length]),
  );
  const languages: Record<string, number> = {};
  for (const e of corpus.examples) languages[e.lang] = (languages[e.lang] ?? 0) + 1;
  const metadata: TextModelMetadata = {
    name: 'custos-text-linear',
    version: trained.model.version,
    weightsFile: MODEL_FILE_NAME,
    categories: [...o.categories],
    thresholds: trained.thresholds,
    calibration: trained.calibration,
    features: {
      hashing: 'FNV-1a 32-bit + MurmurHash3 fmix32, signed',
      buckets: 2 ** o.feature.bucketBits,
      charNgrams: [o.feature.charMin, o.feature.charMax],
      charNgramWindow: o.feature.charWindow,
      wordNgrams: [1, 2],
      maxInputChars: MAX_INPUT_CHARS,
      weights: 'int16, one scale per category',
    },
    training: {
      algorithm: 'one-vs-rest logistic regression, AdaGrad, L2 on active weights',
      epochs: o.epochs,
      learningRate: o.learningRate,
      l2: o.l2,
      positiveWeight: o.positiveWeight,
      seed: o.seed,
      calibration: `Platt scaling and F1-optimal thresholds on ${o.folds}-fold cross-fitted held-out scores`,
      dataHash: corpus.dataHash,
      examples: {
        total: corpus.examples.length,
        train: count('train'),
        test: count('test'),
        duplicatesDropped: corpus.duplicatesDropped,
      },
      positives,
      languages: Object.fromEntries(Object.entries(languages).sort()),
      crossValidation: trained.crossValidation,
    },
    metrics: { split: 'test', ...comparison },
  };
  return { model: trained.model, bytes: trained.bytes, metadata };
}

/** Writes `<dir>/text-linear-v1.bin` and its `.json`; returns the two paths. */
export function writeModelFiles(dir: string, built: BuiltModel): { weights: string; metadata: string } {
  fs.mkdirSync(dir, { recursive: true });
  const weights = path.join(dir, MODEL_FILE_NAME);
  const metadata = metadataFileOf(weights);
  // Each file is replaced whole (write, then rename), never seen half-written.
  fs.writeFileSync(`${weights}.tmp`, built.bytes);
  fs.writeFileSync(`${metadata}.tmp`, `${JSON.stringify(built.metadata, null, 2)}\n`);
  fs.renameSync(`${metadata}.tmp`, metadata);
  fs.renameSync(`${weights}.tmp`, weights);
  return { weights, metadata };
}
