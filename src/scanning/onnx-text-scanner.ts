import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORY_CODES, type CategoryCode } from '../policy/policy.js';
import type { ScanItem, Scanner, Signal } from './scanner.js';

/**
 * An operator-supplied ONNX text classifier, run with transformers.js
 * (`@huggingface/transformers`, which runs the graph on `onnxruntime-node`). Both
 * packages are optional dependencies: they are imported only when a model folder is
 * configured, so the default install and start never load them.
 */

export type OnnxTextModelErrorCode = 'runtime_missing' | 'model_missing' | 'model_corrupt' | 'model_incompatible';

/** The model folder or the runtime it needs is missing, broken or unusable; the message says which and why. */
export class OnnxTextModelError extends Error {
  constructor(
    readonly code: OnnxTextModelErrorCode,
    /** The model folder, or the package name for `runtime_missing`. */
    readonly subject: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      code === 'runtime_missing' ? `ONNX text model: ${problem}` : `ONNX text model ${subject}: ${problem}`,
      options,
    );
    this.name = 'OnnxTextModelError';
  }
}

/** The label map file an operator may put in the model folder, beside config.json. */
export const LABEL_MAP_FILE = 'custos-labels.json';
/** The graph transformers.js loads for `dtype: 'fp32'`; a quantised graph may sit here too. */
const MODEL_FILE = path.join('onnx', 'model.onnx');
const TOKENIZER_FILE = 'tokenizer.json';
const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
const CONFIG_FILE = 'config.json';
/** Files whose bytes make the version: the graph, its labels and its tokenizer, and our label map. */
const VERSIONED_FILES = [MODEL_FILE, CONFIG_FILE, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, LABEL_MAP_FILE];

const PROBLEM_TYPES = ['multi_label_classification', 'single_label_classification'] as const;

export interface OnnxTextScannerOptions {
  /**
   * Model label → category code, or null to drop the label without a warning (e.g. a
   * `neutral` class). Wins over {@link LABEL_MAP_FILE} in the folder, which wins over
   * matching label names to category codes (`Hate Speech` → `hate_speech`).
   */
  labels?: Readonly<Record<string, string | null>>;
  /** Receives one message per model label that maps to no category. Default: `process.emitWarning`. */
  warn?: (message: string) => void;
  /** Scanner name in signals and verdict versions. Default `onnx-text`. */
  name?: string;
  /** Default 20: a transformer forward pass costs far more than the rules or the linear model. */
  cost?: number;
  /** Only the first `maxChars` UTF-16 code units are classified (the tokenizer truncates again). Default 4,096. */
  maxChars?: number;
  /** onnxruntime intra-op threads per inference; default: onnxruntime's (all physical cores). */
  threads?: number;
}

interface LabelScore {
  label: string;
  score: number;
}
type Classifier = ((text: string, options: { top_k: null }) => Promise<LabelScore[]>) & {
  dispose?: () => Promise<void>;
};
interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; useFSCache: boolean; useBrowserCache?: boolean };
  pipeline(task: 'text-classification', model: string, options: Record<string, unknown>): Promise<Classifier>;
}

/**
 * A {@link Scanner} over a transformers.js text-classification pipeline. One signal per
 * mapped category, scored with the model's own probability (sigmoid for a multi-label
 * model, softmax otherwise, as config.json's `problem_type` says); when several labels
 * map to one category, the highest counts.
 */
export class OnnxTextScanner implements Scanner {
  constructor(
    private readonly classifier: Classifier,
    readonly name: string,
    readonly cost: number,
    /** `sha256:<hex>` over the model, config, tokenizer and label map files. */
    readonly version: string,
    /** Model label → category, for the labels that map to one. */
    readonly labels: ReadonlyMap<string, CategoryCode>,
    private readonly maxChars: number,
  ) {}

  accepts(item: ScanItem): boolean {
    return item.text !== null && item.text.trim() !== '';
  }

  /** Probability per mapped category. */
  async score(text: string): Promise<Partial<Record<CategoryCode, number>>> {
    const results = await this.classifier(text.slice(0, this.maxChars), { top_k: null });
    const scores: Partial<Record<CategoryCode, number>> = {};
    for (const { label, score } of results) {
      const category = this.labels.get(label);
      if (category !== undefined) scores[category] = Math.max(scores[category] ?? 0, score);
    }
    return scores;
  }

  async scan(item: ScanItem): Promise<Signal[]> {
    if (item.text === null) return [];
    const scores = await this.score(item.text);
    return Object.entries(scores).map(([category, score]) => ({
      scanner: this.name,
      category: category as CategoryCode,
      score,
      detail: { version: this.version },
    }));
  }

  /** Frees the onnxruntime session. */
  async dispose(): Promise<void> {
    await this.classifier.dispose?.();
  }
}

/**
 * Loads a text classifier from a folder in the transformers.js layout (`config.json`
 * with `id2label`, `tokenizer.json`, `tokenizer_config.json`, `onnx/model.onnx`, and
 * optionally {@link LABEL_MAP_FILE}) without any network access, checks that it runs,
 * and wraps it as a scanner. Throws {@link OnnxTextModelError} when a package is not
 * installed, a file is missing or broken, or no label maps to a category; labels that
 * map to nothing are ignored, with one warning each.
 */
export async function loadOnnxTextScanner(dir: string, options: OnnxTextScannerOptions = {}): Promise<OnnxTextScanner> {
  const folder = path.resolve(dir);
  const config = readFolder(folder);
  const labels = mapLabels(folder, config.labels, options.labels ?? readLabelMap(folder), options.warn ?? warnProcess);
  const version = await folderVersion(folder);
  const transformers = await importRuntime();

  // Process-wide switches of transformers.js: no download, ever, and no copy of the
  // files in its cache folder (inside node_modules), which could outlive an edit here.
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  transformers.env.useFSCache = false;
  transformers.env.useBrowserCache = false;

  let classifier: Classifier;
  try {
    // An absolute path is never a valid hub id, so transformers.js reads the files
    // from it as they are, without the process-wide `env.localModelPath`.
    classifier = await transformers.pipeline('text-classification', folder, {
      local_files_only: true,
      device: 'cpu',
      dtype: 'fp32',
      session_options: options.threads ? { intraOpNumThreads: options.threads } : {},
    });
  } catch (error) {
    throw new OnnxTextModelError('model_corrupt', folder, `cannot be loaded (${messageOf(error)})`, { cause: error });
  }
  await checkRuns(classifier, folder, config.labels);
  return new OnnxTextScanner(
    classifier,
    options.name ?? 'onnx-text',
    options.cost ?? 20,
    version,
    labels,
    options.maxChars ?? 4096,
  );
}

/** Checks the files transformers.js needs before it starts, so the error names the file. */
function readFolder(folder: string): { labels: string[] } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(folder);
  } catch {
    throw new OnnxTextModelError('model_missing', folder, 'does not exist');
  }
  if (!stat.isDirectory()) {
    throw new OnnxTextModelError(
      'model_missing',
      folder,
      'is not a folder (expected config.json, tokenizer.json and onnx/model.onnx inside)',
    );
  }
  for (const file of [CONFIG_FILE, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, MODEL_FILE]) {
    if (!fs.existsSync(path.join(folder, file))) {
      throw new OnnxTextModelError('model_missing', folder, `lacks ${file}`);
    }
  }
  readJson(folder, TOKENIZER_FILE);
  readJson(folder, TOKENIZER_CONFIG_FILE);
  const config = readJson(folder, CONFIG_FILE) as { id2label?: unknown; problem_type?: unknown };
  const problemType = config.problem_type;
  if (problemType !== undefined && !(PROBLEM_TYPES as readonly unknown[]).includes(problemType)) {
    throw new OnnxTextModelError(
      'model_incompatible',
      folder,
      `${CONFIG_FILE} has problem_type ${JSON.stringify(problemType)}; expected ${PROBLEM_TYPES.join(' or ')}`,
    );
  }
  const id2label = config.id2label;
  if (typeof id2label !== 'object' || id2label === null || Object.keys(id2label).length === 0) {
    throw new OnnxTextModelError(
      'model_incompatible',
      folder,
      `${CONFIG_FILE} lacks id2label (the names of the classes)`,
    );
  }
  const labels = Object.values(id2label);
  if (!labels.every((l): l is string => typeof l === 'string')) {
    throw new OnnxTextModelError(
      'model_incompatible',
      folder,
      `${CONFIG_FILE} has an id2label value that is not a string`,
    );
  }
  return { labels };
}

function readJson(folder: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8'));
  } catch (error) {
    throw new OnnxTextModelError('model_corrupt', folder, `${file} is not valid JSON (${messageOf(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OnnxTextModelError('model_corrupt', folder, `${file} is not a JSON object`);
  }
  return value;
}

function readLabelMap(folder: string): Record<string, string | null> | undefined {
  if (!fs.existsSync(path.join(folder, LABEL_MAP_FILE))) return undefined;
  return readJson(folder, LABEL_MAP_FILE) as Record<string, string | null>;
}

/** Lower case, runs of anything but letters and digits as one underscore: `Hate Speech` → `hate_speech`. */
function normaliseLabel(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_|_$/g, '');
}

function mapLabels(
  folder: string,
  modelLabels: readonly string[],
  explicit: Readonly<Record<string, string | null>> | undefined,
  warn: (message: string) => void,
): Map<string, CategoryCode> {
  const codes = CATEGORY_CODES as readonly string[];
  for (const [label, category] of Object.entries(explicit ?? {})) {
    // A map naming a label the model lacks is a typo or a map for another model.
    if (!modelLabels.includes(label)) {
      throw new OnnxTextModelError(
        'model_incompatible',
        folder,
        `the label map names "${label}", which the model lacks (its labels: ${modelLabels.join(', ')})`,
      );
    }
    if (category !== null && !codes.includes(category)) {
      throw new OnnxTextModelError(
        'model_incompatible',
        folder,
        `the label map sends "${label}" to ${JSON.stringify(category)}, which is not a category (${codes.join(', ')})`,
      );
    }
  }
  const mapped = new Map<string, CategoryCode>();
  for (const label of modelLabels) {
    if (explicit && Object.hasOwn(explicit, label)) {
      const category = explicit[label];
      if (category) mapped.set(label, category as CategoryCode);
      continue;
    }
    const byName = normaliseLabel(label);
    if (codes.includes(byName)) mapped.set(label, byName as CategoryCode);
    else
      warn(
        `ONNX text model ${folder}: label "${label}" matches no category and is ignored (map it in ${LABEL_MAP_FILE})`,
      );
  }
  if (mapped.size === 0) {
    throw new OnnxTextModelError(
      'model_incompatible',
      folder,
      `none of its labels (${modelLabels.join(', ')}) maps to a category; map them in ${LABEL_MAP_FILE}`,
    );
  }
  return mapped;
}

async function folderVersion(folder: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of VERSIONED_FILES) {
    const full = path.join(folder, file);
    if (!fs.existsSync(full)) continue;
    hash.update(`${file}\0${fs.statSync(full).size}\0`);
    // Streamed: a model file can be hundreds of megabytes.
    for await (const chunk of fs.createReadStream(full)) hash.update(chunk as Buffer);
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Imports the optional packages. onnxruntime-node is imported first, on its own, so a
 * missing or unloadable native binary is named as such rather than as a failure of
 * transformers.js. The specifiers are variables so that TypeScript does not need the
 * packages (or their types) either.
 */
async function importRuntime(): Promise<TransformersModule> {
  await importOptional('onnxruntime-node');
  return (await importOptional('@huggingface/transformers')) as TransformersModule;
}

async function importOptional(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Only the package itself counts as not installed: a dependency of it that is
    // missing (sharp, say) is named in the message of the second case.
    const notInstalled =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && messageOf(error).includes(`'${name}'`);
    throw new OnnxTextModelError(
      'runtime_missing',
      name,
      notInstalled
        ? `the optional package ${name} is not installed (install without --omit=optional, or unset CUSTOS_ONNX_TEXT_MODEL_DIR)`
        : `the optional package ${name} is installed but cannot be loaded (${messageOf(error)})`,
      { cause: error },
    );
  }
}

/** One inference at load: a graph with other inputs or too few outputs fails here, not on every item. */
async function checkRuns(classifier: Classifier, folder: string, labels: readonly string[]): Promise<void> {
  let results: LabelScore[];
  try {
    results = await classifier('custos', { top_k: null });
  } catch (error) {
    throw new OnnxTextModelError(
      'model_incompatible',
      folder,
      `does not run as a text classifier (${messageOf(error)})`,
      {
        cause: error,
      },
    );
  }
  const seen = new Set(results.map((r) => r.label));
  if (results.length !== labels.length || !labels.every((l) => seen.has(l))) {
    throw new OnnxTextModelError(
      'model_incompatible',
      folder,
      `returns ${results.length} scores but ${CONFIG_FILE} names ${labels.length} labels`,
    );
  }
}

function warnProcess(message: string): void {
  process.emitWarning(message, 'CustosWarning');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
