import type { Policy } from '../policy/policy.js';
import { LanguageScanner } from './language.js';
import { ScanPipeline } from './pipeline.js';
import type { Scanner } from './scanner.js';
import { type ScanningPolicy, scanningPolicy } from './scanning-policy.js';

/** Builds the scanning pipeline the policy describes; loads models once, at start. */
export async function buildScanning(policy: Policy): Promise<{ scanning: ScanningPolicy; scanner: ScanPipeline }> {
  const scanning = scanningPolicy(policy);
  const scanners: Scanner[] = [await LanguageScanner.load()];
  return { scanning, scanner: new ScanPipeline(scanners, scanning, policy.version) };
}
