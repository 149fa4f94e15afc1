import { type Policy, PolicyError } from '../policy/policy.js';
import { loadTextModel } from './classifier/text-model.js';
import { LanguageScanner } from './language.js';
import { loadOnnxTextScanner } from './onnx-text-scanner.js';
import { loadNsfwScanner } from './nsfw-scanner.js';
import { ScanPipeline } from './pipeline.js';
import { RuleCompileError, compileRules, yamlLocator } from './rules/rules.js';
import type { HashMatcher } from '../hashes/matcher.js';
import { ImageHashScanner } from './image-scanner.js';
import type { Scanner } from './scanner.js';
import { type ScanningPolicy, scanningPolicy } from './scanning-policy.js';
import { ClassifierScanner, RulesScanner } from './text-scanners.js';

export interface ScanningOptions {
  /** Our classifier's weights; the shipped model when absent. */
  textModelFile?: string;
  /** An operator-supplied ONNX model folder (optional extra scanner). */
  onnxTextModelDir?: string;
  /** An image model bundled with nsfwjs, e.g. `MobileNetV2` (optional extra scanner). */
  nsfwModel?: string;
  warn?: (message: string) => void;
  /** The hash banks in memory: images are matched against them when given. */
  hashMatcher?: HashMatcher;
}

/**
 * Builds the scanning pipeline the policy describes: language identification,
 * the policy's rules, our text classifier and, when configured, an ONNX model.
 * Everything is compiled or loaded once, here, at start; a bad rule, a missing
 * or corrupt model stops the start with a message naming the file (and line).
 */
export async function buildScanning(
  policy: Policy,
  options: ScanningOptions = {},
): Promise<{ scanning: ScanningPolicy; scanner: ScanPipeline }> {
  const scanning = scanningPolicy(policy);
  let rules: RulesScanner;
  try {
    rules = new RulesScanner(
      compileRules(scanning.section, {
        categories: Object.keys(policy.document.categories),
        locate: yamlLocator(policy.source),
        limits: { maxChars: scanning.maxTextChars },
      }),
    );
  } catch (error) {
    if (error instanceof RuleCompileError) throw new PolicyError(policy.file, error.message);
    throw error;
  }
  const scanners: Scanner[] = [
    ...(options.hashMatcher ? [new ImageHashScanner(options.hashMatcher)] : []),
    await LanguageScanner.load(),
    rules,
    new ClassifierScanner(loadTextModel(options.textModelFile)),
  ];
  if (options.onnxTextModelDir) {
    scanners.push(await loadOnnxTextScanner(options.onnxTextModelDir, { warn: options.warn }));
  }
  if (options.nsfwModel) {
    scanners.push(await loadNsfwScanner(options.nsfwModel));
  }
  return { scanning, scanner: new ScanPipeline(scanners, scanning, policy.version) };
}
