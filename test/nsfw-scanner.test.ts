import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ConfigError, readEnv, toConfig } from '../src/config.js';
import { AppError } from '../src/errors.js';
import { loadPolicy } from '../src/policy/policy.js';
import { buildScanning } from '../src/scanning/build.js';
import {
  NSFW_MODELS,
  NsfwBusyError,
  type NsfwImageScanner,
  NsfwModelError,
  loadNsfwScanner,
} from '../src/scanning/nsfw-scanner.js';
import { ScanPipeline } from '../src/scanning/pipeline.js';
import type { ScanItem } from '../src/scanning/scanner.js';
import type { ScanningPolicy } from '../src/scanning/scanning-policy.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
/** A photograph (a bridge) from the PDQ reference's test images. */
const PHOTO = fs.readFileSync(path.join(FIXTURES, 'pdq', 'bridge-mods__aaa-orig.jpg'));

const imageItem = (image: Buffer): ScanItem => ({
  id: 'c1',
  accountId: 'a1',
  kind: 'image',
  text: null,
  image,
  public: true,
  language: null,
});

function flatPicture(): Promise<Buffer> {
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#3377cc' } })
    .png()
    .toBuffer();
}

function gradientPicture(): Promise<Buffer> {
  const width = 300;
  const height = 200;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = Math.round((x * 255) / width);
      pixels[i + 1] = Math.round((y * 255) / height);
      pixels[i + 2] = 128;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg()
    .toBuffer();
}

async function loadError(model: string, options: Parameters<typeof loadNsfwScanner>[1] = {}): Promise<NsfwModelError> {
  try {
    const scanner = await loadNsfwScanner(model, options);
    await scanner.dispose();
  } catch (error) {
    assert.ok(error instanceof NsfwModelError, `expected an NsfwModelError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${model} loaded`);
}

describe('NSFWJS image scanner (optional)', () => {
  let scanner: NsfwImageScanner | undefined;
  let loadMs = 0;

  before(async () => {
    const started = performance.now();
    try {
      // maxWaiting 2: small enough for the queue test to fill it.
      scanner = await loadNsfwScanner('MobileNetV2', { maxWaiting: 2 });
      loadMs = performance.now() - started;
    } catch (error) {
      // Only a package that is not installed skips the tests; any other failure fails them.
      if (!(error instanceof NsfwModelError && error.code === 'runtime_missing')) throw error;
    }
  });

  after(async () => {
    await scanner?.dispose();
  });

  it('loads the model bundled in the package, in a thread of its own', (t) => {
    if (!scanner) return t.skip('nsfwjs not installed');
    t.diagnostic(`MobileNetV2 loaded in ${Math.round(loadMs)} ms (${scanner.loaded.loadMs} ms in the thread)`);
    assert.equal(scanner.name, 'nsfw');
    assert.equal(scanner.loaded.backend, 'wasm');
    assert.match(scanner.version, /^sha256:[0-9a-f]{64}$/);
    // TensorFlow.js runs in the thread only: the serving thread never loads it.
    const loadedHere = Object.keys(createRequire(import.meta.url).cache);
    assert.deepEqual(
      loadedHere.filter((file) => /[\\/](@tensorflow|nsfwjs)[\\/]/.test(file)),
      [],
    );
  });

  it('scores a flat colour, a gradient and a photo of a bridge as not sexual', async (t) => {
    if (!scanner) return t.skip('nsfwjs not installed');
    for (const [what, bytes] of [
      ['flat colour', await flatPicture()],
      ['gradient', await gradientPicture()],
      ['photo', PHOTO],
    ] as const) {
      const started = performance.now();
      const signals = await scanner.scan(imageItem(bytes));
      t.diagnostic(`${what}: ${Math.round(performance.now() - started)} ms`);
      assert.equal(signals.length, 1, what);
      const signal = signals[0]!;
      assert.deepEqual(Object.keys(signal).sort(), ['category', 'ceiling', 'detail', 'scanner', 'score']);
      assert.equal(signal.scanner, 'nsfw');
      assert.equal(signal.category, 'sexual_solicitation');
      assert.equal(signal.ceiling, 'review');
      assert.ok(signal.score < 0.2, `${what} scored ${signal.score}`);
      const detail = signal.detail as { model: string; version: string; scores: Record<string, number> };
      assert.equal(detail.model, 'MobileNetV2');
      assert.equal(detail.version, scanner.version);
      assert.deepEqual(Object.keys(detail.scores).sort(), ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
      // The score is the explicit classes' share of a probability distribution.
      const total = Object.values(detail.scores).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-3, `probabilities sum to ${total}`);
      assert.ok(Math.abs(signal.score - (detail.scores.Porn! + detail.scores.Hentai!)) < 1e-9);
    }
  });

  it('looks only at items with image bytes, and gives no signal for bytes that are not a picture', async (t) => {
    if (!scanner) return t.skip('nsfwjs not installed');
    assert.equal(scanner.accepts({ ...imageItem(Buffer.alloc(0)) }), false);
    assert.equal(scanner.accepts({ ...imageItem(PHOTO), kind: 'text', text: 'hello', image: null }), false);
    assert.deepEqual(await scanner.scan(imageItem(Buffer.from('not a picture at all'))), []);
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    assert.deepEqual(await scanner.scan(imageItem(svg)), []);
    // A truncated JPEG does not decode.
    assert.deepEqual(await scanner.scan(imageItem(PHOTO.subarray(0, PHOTO.length / 3))), []);
  });

  it('never removes on its own: the ceiling holds the verdict at review', async (t) => {
    if (!scanner) return t.skip('nsfwjs not installed');
    // A policy that would remove at any score.
    const removeAll: ScanningPolicy = {
      maxTextChars: 65536,
      threshold: () => ({ review: 0, remove: 0 }),
      ground: () => 'terms',
      isShadow: () => false,
      section: { thresholds: { default: { review: 0, remove: 0 } } },
    };
    const verdict = await new ScanPipeline([scanner], removeAll, 'test').scan(imageItem(PHOTO));
    assert.equal(verdict.action, 'review');
    assert.equal(verdict.category, 'sexual_solicitation');
    assert.equal(verdict.versions.nsfw, scanner.version);
  });

  it('classifies one picture at a time and refuses more than may wait, with a 503', async (t) => {
    if (!scanner) return t.skip('nsfwjs not installed');
    const bytes = await gradientPicture();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => scanner!.score(bytes)));
    const done = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    assert.ok(done.length >= 1 && refused.length >= 1, `${done.length} classified, ${refused.length} refused`);
    for (const error of refused) {
      assert.ok(error instanceof NsfwBusyError, String(error));
      assert.ok(error instanceof AppError && error.status === 503);
    }
    // The queue drains: the next picture is classified again.
    assert.ok((await scanner.score(bytes)) !== null);
  });

  it('starts its thread again when it stops', async (t) => {
    if (!scanner) return t.skip('nsfwjs not installed');
    const before = await scanner.score(PHOTO);
    // As if the thread crashed (a wasm abort, say): its worker ends.
    await (scanner as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread.worker.terminate();
    const started = performance.now();
    assert.deepEqual(await scanner.score(PHOTO), before);
    t.diagnostic(`started again and classified in ${Math.round(performance.now() - started)} ms`);
  });
});

describe('configuring the NSFWJS scanner', () => {
  it('refuses a model name nsfwjs does not bundle, naming the ones it does', async () => {
    const error = await loadError('MobileNetV9');
    assert.equal(error.code, 'model_unknown');
    assert.equal(
      error.message,
      'NSFW image model MobileNetV9: is not a model bundled with nsfwjs (expected MobileNetV2, MobileNetV2Mid, InceptionV3)',
    );
    await assert.rejects(
      buildScanning(loadPolicy(), { nsfwModel: 'MobileNetV9' }),
      (e: unknown) => e instanceof NsfwModelError && e.code === 'model_unknown',
    );
  });

  it('names the missing package and what to do when it is not installed', async () => {
    // Resolving from an empty folder is what an install with --omit=optional looks like.
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-nsfw-'));
    try {
      const error = await loadError('MobileNetV2', { resolveFrom: path.join(empty, 'here.js') });
      assert.equal(error.code, 'runtime_missing');
      assert.equal(error.subject, '@tensorflow/tfjs');
      assert.equal(
        error.message,
        'NSFW image model: the optional package @tensorflow/tfjs is not installed ' +
          '(install without --omit=optional, or unset CUSTOS_NSFW_MODEL)',
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('CUSTOS_NSFW_MODEL is unset by default and accepts only the bundled models', () => {
    assert.equal(toConfig(readEnv({})).nsfwModel, undefined);
    for (const model of Object.keys(NSFW_MODELS)) {
      assert.equal(toConfig(readEnv({ CUSTOS_NSFW_MODEL: model })).nsfwModel, model);
    }
    assert.throws(
      () => toConfig(readEnv({ CUSTOS_NSFW_MODEL: 'mobilenet' })),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variable === 'CUSTOS_NSFW_MODEL' &&
        error.message === 'CUSTOS_NSFW_MODEL: must be one of MobileNetV2, MobileNetV2Mid, InceptionV3, got "mobilenet"',
    );
  });

  it('the default pipeline has no NSFW scanner; the option adds one', async (t) => {
    const plain = await buildScanning(loadPolicy());
    assert.ok(!plain.scanner.scannerNames.includes('nsfw'), plain.scanner.scannerNames.join(', '));
    const withModel = await buildScanning(loadPolicy(), { nsfwModel: 'MobileNetV2Mid' }).catch((error: unknown) => {
      if (error instanceof NsfwModelError && error.code === 'runtime_missing') return undefined;
      throw error;
    });
    if (!withModel) return t.skip('nsfwjs not installed');
    // Its thread, idle, does not keep the test process alive (the pipeline has no dispose).
    assert.equal(withModel.scanner.scannerNames.at(-1), 'nsfw');
    const verdict = await withModel.scanner.scan(imageItem(PHOTO));
    const signal = verdict.signals.find((s) => s.scanner === 'nsfw');
    assert.ok(signal, JSON.stringify(verdict.signals));
    assert.equal((signal.detail as { model: string }).model, 'MobileNetV2Mid');
    assert.equal(verdict.action, 'allow');
  });
});
