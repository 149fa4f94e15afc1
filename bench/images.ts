import { type MatcherResult, formatMatcher, runMatcherBench } from './pdq-matcher.js';
import { type PdqHashBenchResult, type Throughput, runPdqHashBench } from './pdq-hashing.js';

/**
 * Images (issue 5): PDQ hashing per core with decoding (bench/pdq-hashing.ts), and
 * the hash-bank matcher against a linear scan in the same run
 * (bench/pdq-matcher.ts). Targets: at least 50 one-megapixel JPEGs per second per
 * core, decode included; a match query at most 1 ms p50 with 1 million hashes and
 * 10 ms with 10 million; at most 100 MB per million hashes.
 */
export interface ImagesResult {
  hashing: PdqHashBenchResult;
  matcher: MatcherResult;
  targetMet: { hashing: boolean; p50At1M: boolean | null; p50At10M: boolean | null; memory: boolean | null };
}

export interface ImagesOptions {
  /** Matcher sizes (default 100 thousand, 1 million, 10 million). */
  sizes?: number[];
}

export async function runImagesBench(options: ImagesOptions = {}): Promise<ImagesResult> {
  const hashing = await runPdqHashBench();
  const matcher = await runMatcherBench(options.sizes ? { sizes: options.sizes } : {});
  return {
    hashing,
    matcher,
    targetMet: { hashing: hashing.target.met, ...matcher.targetMet },
  };
}

const rate = (t: Throughput) => `${Math.round(t.perCpuSecond).toLocaleString('en')}/s`;

/** The hashing rows: what, images per CPU-second, per wall second, CPU ms per image. */
export function hashingRows(r: PdqHashBenchResult): string[][] {
  const row = (what: string, t: Throughput) => [
    what,
    rate(t),
    `${Math.round(t.perSecond).toLocaleString('en')}/s`,
    t.cpuMsPerImage.toFixed(1),
  ];
  const g = r.inputs.generated;
  return [
    row(
      `reference images (${r.inputs.reference.images}, mean ${r.inputs.reference.meanMegapixels} MP): decode + PDQ`,
      r.reference.hashImage,
    ),
    row(`${g.megapixels} MP JPEGs (${g.images}): decode + PDQ`, r.generated.hashImage),
    row(`${g.megapixels} MP JPEGs: decode + PDQ + 8 dihedral (from the DCT)`, r.generated.hashImageDihedralDct),
    row(`${g.megapixels} MP JPEGs: decode + PDQ of 8 re-oriented pictures`, r.generated.hashImageDihedralExact),
    row(`${g.megapixels} MP JPEGs: decode alone`, r.generated.decodeOnly),
    row('decoded pixels: PDQ alone', r.hashingOnly.pdq),
    row('decoded pixels: PDQ + 8 dihedral (from the DCT)', r.hashingOnly.dihedralDct),
  ];
}

export function formatImages(r: ImagesResult): string {
  const rows = hashingRows(r.hashing);
  const head = ['PDQ hashing, one process', 'images per CPU-s', 'per wall s', 'CPU ms/image'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `sharp ${r.hashing.sharp.version} (libvips ${r.hashing.sharp.vips}, ${r.hashing.sharp.concurrency} threads); target >= ${r.hashing.target.perCoreImagesPerSecond} 1-MP JPEGs per CPU-second: ${r.targetMet.hashing ? 'met' : 'NOT MET'}`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    formatMatcher(r.matcher),
  ].join('\n');
}
