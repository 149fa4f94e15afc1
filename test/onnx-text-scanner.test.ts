import assert from 'node:assert/strict';
import { scanItem } from './helpers/factories.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, toConfig, readEnv } from '../src/config.js';
import { loadPolicy } from '../src/policy/policy.js';
import {
  LABEL_MAP_FILE,
  OnnxTextModelError,
  type OnnxTextScanner,
  type OnnxTextScannerOptions,
  loadOnnxTextScanner,
} from '../src/scanning/onnx-text-scanner.js';
import { ScanPipeline } from '../src/scanning/pipeline.js';
import type { ScanItem } from '../src/scanning/scanner.js';
import { scanningPolicy } from '../src/scanning/scanning-policy.js';
import { cleanEnv } from './helpers/cli-process.js';
import { type TinyClassifierOptions, writeTinyTextClassifier } from './helpers/onnx-model.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Labels as a real model might name them: two match a category by name, one needs the map, two match nothing. */
const MODEL: TinyClassifierOptions = {
  labels: ['neutral', 'spam', 'Violent Threat', 'toxic', 'sarcasm'],
  triggers: { viagra: 'spam', kill: 'Violent Threat', vermin: 'toxic', yeah: 'sarcasm' },
  words: ['buy', 'now', 'i', 'will', 'you', 'they', 'are'],
};
const LABELS = { neutral: null, toxic: 'hate_speech' } as const;

const item = (text: string, isPublic = true): ScanItem => scanItem(text, isPublic);

async function loadError(dir: string, options: OnnxTextScannerOptions = {}): Promise<OnnxTextModelError> {
  try {
    const scanner = await loadOnnxTextScanner(dir, { warn: () => {}, ...options });
    await scanner.dispose();
  } catch (error) {
    assert.ok(error instanceof OnnxTextModelError, `expected an OnnxTextModelError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${dir} loaded`);
}

describe('operator-supplied ONNX text model', () => {
  let tmp: string;
  let modelDir: string;
  let scanner: OnnxTextScanner;
  const warnings: string[] = [];
  const realFetch = globalThis.fetch;
  let fetches = 0;

  /** A fresh copy of the tiny model in its own folder, changed by `edit`. */
  const variant = (name: string, edit: (dir: string) => void = () => {}, options: TinyClassifierOptions = MODEL) => {
    const dir = path.join(tmp, name);
    writeTinyTextClassifier(dir, options);
    edit(dir);
    return dir;
  };

  before(async () => {
    // Loading must never reach the network: transformers.js fetches remote files with fetch.
    globalThis.fetch = async (input) => {
      fetches += 1;
      throw new Error(`unexpected fetch of ${String(input)}`);
    };
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-onnx-'));
    modelDir = variant('tiny-model');
    scanner = await loadOnnxTextScanner(modelDir, { labels: LABELS, threads: 1, warn: (m) => warnings.push(m) });
  });

  after(async () => {
    globalThis.fetch = realFetch;
    await scanner?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('maps labels by name and by the given map, and warns once about each label it ignores', () => {
    assert.deepEqual(
      Object.fromEntries(scanner.labels),
      { spam: 'spam', 'Violent Threat': 'violent_threat', toxic: 'hate_speech' },
      '`neutral` is mapped to null: dropped without a warning',
    );
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /label "sarcasm" matches no category and is ignored/);
    assert.equal(scanner.name, 'onnx-text');
    assert.ok(scanner.cost > 2, 'runs after the cheap scanners');
    assert.match(scanner.version, /^sha256:[0-9a-f]{64}$/);
    assert.equal(fetches, 0);
  });

  it('scores a text with a trigger word high for its category and a neutral text low', async () => {
    const spam = await scanner.scan(item('Buy VIAGRA now'));
    const byCategory = Object.fromEntries(spam.map((s) => [s.category, s.score]));
    assert.deepEqual(Object.keys(byCategory).sort(), ['hate_speech', 'spam', 'violent_threat']);
    assert.ok(byCategory.spam! > 0.9, `spam ${byCategory.spam}`);
    assert.ok(byCategory.violent_threat! < 0.05 && byCategory.hate_speech! < 0.05, JSON.stringify(byCategory));
    assert.equal(spam[0]?.scanner, 'onnx-text');
    assert.equal(spam[0]?.detail?.version, scanner.version);

    const threat = await scanner.score('I will kill you');
    assert.ok(threat.violent_threat! > 0.9, JSON.stringify(threat));
    assert.ok(threat.spam! < 0.05, JSON.stringify(threat));
    const hate = await scanner.score('they are vermin');
    assert.ok(hate.hate_speech! > 0.9, JSON.stringify(hate));

    const neutral = await scanner.score('See you tomorrow at the station, bring the tickets');
    for (const [category, score] of Object.entries(neutral)) assert.ok(score < 0.05, `${category} ${score}`);
    // `yeah` makes the unmapped `sarcasm` label win: no category may inherit its score.
    const sarcastic = await scanner.scan(item('yeah yeah'));
    assert.equal(sarcastic.length, 3);
    for (const s of sarcastic) assert.ok(s.score < 0.05, `${s.category} ${s.score}`);
  });

  it('skips items without text', () => {
    assert.equal(scanner.accepts({ ...item(''), kind: 'image', text: null, image: Buffer.alloc(1) }), false);
    assert.equal(scanner.accepts(item('   ')), false);
    assert.equal(scanner.accepts(item('hello')), true);
  });

  it('turns its scores into verdicts inside the scanning pipeline, with its version recorded', async () => {
    const base = loadPolicy();
    const policy = {
      ...base,
      document: { ...base.document, scanning: { thresholds: { default: { review: 0.5, remove: 0.95 } } } },
    } as typeof base;
    const pipeline = new ScanPipeline([scanner], scanningPolicy(policy), policy.version);
    const removed = await pipeline.scan(item('buy viagra now'));
    assert.equal(removed.action, 'remove');
    assert.equal(removed.category, 'spam');
    assert.deepEqual(removed.versions, { 'onnx-text': scanner.version });
    // Mean pooling over 8 tokens ([CLS] and [SEP] included) dilutes the trigger: σ(40/8 - 4) = 0.73.
    const reviewed = await pipeline.scan(item('buy viagra now they are you'));
    assert.equal(reviewed.action, 'review');
    assert.equal(reviewed.category, 'spam');
    const allowed = await pipeline.scan(item('See you tomorrow at the station'));
    assert.equal(allowed.action, 'allow');
    assert.equal(allowed.category, undefined);
  });

  it('takes the label map from custos-labels.json in the folder, and versions it with the model', async () => {
    const dir = variant('with-map', (d) => fs.writeFileSync(path.join(d, LABEL_MAP_FILE), JSON.stringify(LABELS)));
    const warned: string[] = [];
    const withMap = await loadOnnxTextScanner(dir, { warn: (m) => warned.push(m) });
    try {
      assert.deepEqual(Object.fromEntries(withMap.labels), Object.fromEntries(scanner.labels));
      assert.equal(warned.length, 1);
      assert.notEqual(withMap.version, scanner.version, 'the label map changes what the signals mean');
      const again = await loadOnnxTextScanner(dir, { warn: () => {} });
      assert.equal(again.version, withMap.version, 'the same files give the same version');
      await again.dispose();
    } finally {
      await withMap.dispose();
    }
  });

  it('refuses a broken folder with an error that names the folder and what is wrong', async () => {
    const corrupt = variant('corrupt', (d) => fs.writeFileSync(path.join(d, 'onnx', 'model.onnx'), 'not a model'));
    const e1 = await loadError(corrupt, { labels: LABELS });
    assert.equal(e1.code, 'model_corrupt');
    assert.ok(e1.message.startsWith(`ONNX text model ${corrupt}: cannot be loaded`), e1.message);

    const noTokenizer = variant('no-tokenizer', (d) => fs.rmSync(path.join(d, 'tokenizer.json')));
    const e2 = await loadError(noTokenizer, { labels: LABELS });
    assert.equal(e2.code, 'model_missing');
    assert.equal(e2.message, `ONNX text model ${noTokenizer}: lacks tokenizer.json`);

    const missing = path.join(tmp, 'nowhere');
    assert.equal((await loadError(missing)).message, `ONNX text model ${missing}: does not exist`);
    const e3 = await loadError(variant('no-graph', (d) => fs.rmSync(path.join(d, 'onnx'), { recursive: true })));
    assert.match(e3.message, /lacks onnx\/model\.onnx$/);
    const e4 = await loadError(variant('bad-json', (d) => fs.writeFileSync(path.join(d, 'config.json'), '{')));
    assert.equal(e4.code, 'model_corrupt');
    assert.match(e4.message, /config\.json is not valid JSON/);
  });

  it('refuses a model it cannot use: no mappable label, a map for other labels, labels the graph lacks', async () => {
    const unmappable = variant('unmappable', () => {}, { labels: ['positive', 'negative'], triggers: {} });
    const e2 = await loadError(unmappable);
    assert.equal(e2.code, 'model_incompatible');
    assert.match(
      e2.message,
      /none of its labels \(positive, negative\) maps to a category; map them in custos-labels\.json/,
    );

    const e3 = await loadError(modelDir, { labels: { insult: 'hate_speech' } });
    assert.match(e3.message, /the label map names "insult", which the model lacks/);
    const e4 = await loadError(modelDir, { labels: { toxic: 'rudeness' } });
    assert.match(e4.message, /sends "toxic" to "rudeness", which is not a category/);

    const extraLabel = variant('extra-label', (d) => {
      const file = path.join(d, 'config.json');
      const config = JSON.parse(fs.readFileSync(file, 'utf8'));
      config.id2label['5'] = 'weapons';
      fs.writeFileSync(file, JSON.stringify(config));
    });
    const e5 = await loadError(extraLabel, { labels: LABELS });
    assert.equal(e5.code, 'model_incompatible');
    assert.match(e5.message, /returns 5 scores but config\.json names 6 labels/);

    const regression = variant('regression', (d) => {
      const file = path.join(d, 'config.json');
      fs.writeFileSync(
        file,
        JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), problem_type: 'regression' }),
      );
    });
    assert.match((await loadError(regression, { labels: LABELS })).message, /problem_type "regression"/);
  });

  it('is optional: without the packages the rest loads, and the loader says which package is missing', async () => {
    // A resolve hook that hides both optional packages, as `npm ci --omit=optional` would.
    const hook = path.join(tmp, 'hide-optional.mjs');
    fs.writeFileSync(
      hook,
      `export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node' || specifier.startsWith('@huggingface/transformers')) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
`,
    );
    const register = path.join(tmp, 'register.mjs');
    fs.writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
    );
    const script = path.join(tmp, 'without-packages.mts');
    const src = (file: string) => JSON.stringify(pathToFileURL(path.join(ROOT, 'src', file)).href);
    fs.writeFileSync(
      script,
      `await import(${src('context.ts')});
await import(${src('app.ts')});
const { loadOnnxTextScanner } = await import(${src('scanning/onnx-text-scanner.ts')});
try {
  await loadOnnxTextScanner(${JSON.stringify(modelDir)}, { labels: { neutral: null }, warn: () => {} });
  console.log(JSON.stringify({ loaded: true }));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
}
`,
    );
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--import', register, script], {
        cwd: ROOT,
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), {
      name: 'OnnxTextModelError',
      code: 'runtime_missing',
      message:
        'ONNX text model: the optional package onnxruntime-node is not installed ' +
        '(install without --omit=optional, or unset CUSTOS_ONNX_TEXT_MODEL_DIR)',
    });
  });
});

describe('CUSTOS_ONNX_TEXT_MODEL_DIR', () => {
  it('is unset by default: no ONNX scanner', () => {
    assert.equal(toConfig(readEnv({})).onnxTextModelDir, undefined);
  });

  it('resolves the folder, and refuses a file inside it', () => {
    assert.equal(
      toConfig(readEnv({ CUSTOS_ONNX_TEXT_MODEL_DIR: 'models/tox' })).onnxTextModelDir,
      path.resolve('models/tox'),
    );
    assert.throws(
      () => toConfig(readEnv({ CUSTOS_ONNX_TEXT_MODEL_DIR: '/srv/tox/onnx/model.onnx' })),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variable === 'CUSTOS_ONNX_TEXT_MODEL_DIR' &&
        /must name the model folder/.test(error.message),
    );
  });
});
