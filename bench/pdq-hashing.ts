/**
 * Image hashing throughput (src/images): PDQ + MD5 + SHA-256 per image, decode
 * included, in images per CPU-second of the whole process (user + system, which
 * counts libvips' own threads too) and per wall-clock second. Standalone:
 *
 *   npx tsx bench/pdq-hashing.ts [--images 24] [--rounds 3]
 *
 * Inputs: the PDQ reference images (test/fixtures/pdq: twenty JPEGs, mostly
 * 1600×1004) and 1-megapixel JPEGs (1152×864, quality 85, 4:2:0) generated from a
 * seed: a gradient, random rectangles and ellipses, and noise. Measured: the whole of
 * `hashImage`; decoding alone; PDQ alone on decoded pixels (sampling to 512×512
 * luminance, filter, DCT, bits); and the eight dihedral variants both ways (exact:
 * as the reference tool hashes each rotated file; dct: from the one DCT).
 * Product target: 50 images per second per core for 1-megapixel JPEGs, decode included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { type DecodedImage, decodeImage } from '../src/images/decode.js';
import { type DihedralMethod, hashImage } from '../src/images/hash-image.js';
import { composeOrientations } from '../src/images/orientation.js';
import { DIHEDRAL_ORIENTATION, DIHEDRAL_VARIANTS, PdqHasher } from '../src/images/pdq.js';
import { mulberry32 } from '../src/random.js';
import { describeMachine } from './report.js';
import { median } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_DIR = path.resolve(here, '../test/fixtures/pdq');

export interface PdqHashBenchOptions {
  /** Generated 1-megapixel JPEGs. */
  images: number;
  /** Timed rounds per measurement (each over all its images); the median is reported. */
  rounds: number;
  seed: number;
  width: number;
  height: number;
  quality: number;
}

export const PDQ_HASH_DEFAULTS: PdqHashBenchOptions = {
  images: 24,
  rounds: 3,
  seed: 20261128,
  width: 1152,
  height: 864,
  quality: 85,
};

/** Issue target: 1-megapixel JPEGs per second per core, decode included. */
export const PDQ_HASH_TARGET = { perCoreImagesPerSecond: 50 };

export interface Throughput {
  /** Images per CPU-second of the process, median of the rounds. */
  perCpuSecond: number;
  /** Images per wall-clock second, median of the rounds. */
  perSecond: number;
  /** CPU milliseconds per image, median of the rounds. */
  cpuMsPerImage: number;
  samples: number[];
}

export interface PdqHashBenchResult {
  machine: ReturnType<typeof describeMachine>;
  sharp: { version: string; vips: string; concurrency: number };
  options: PdqHashBenchOptions;
  inputs: {
    reference: { images: number; meanMegapixels: number; meanKiB: number };
    generated: { images: number; megapixels: number; meanKiB: number };
  };
  reference: { hashImage: Throughput };
  generated: {
    hashImage: Throughput;
    hashImageDihedralDct: Throughput;
    hashImageDihedralExact: Throughput;
    decodeOnly: Throughput;
  };
  /** On pixels already decoded (the 1-megapixel set): what the hashing itself costs. */
  hashingOnly: { pdq: Throughput; dihedralDct: Throughput; dihedralExact: Throughput };
  target: { perCoreImagesPerSecond: number; met: boolean };
}

/** A deterministic 1-megapixel test picture as a JPEG: gradient, shapes, noise. */
export async function generateJpeg(seed: number, width: number, height: number, quality: number): Promise<Buffer> {
  const random = mulberry32(seed);
  const px = new Uint8Array(width * height * 3);
  const c0 = [random() * 255, random() * 255, random() * 255];
  const c1 = [random() * 255, random() * 255, random() * 255];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      const o = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) px[o + k] = c0[k]! * (1 - t) + c1[k]! * t;
    }
  }
  for (let s = 0; s < 40; s++) {
    const cx = random() * width;
    const cy = random() * height;
    const rx = 20 + random() * width * 0.2;
    const ry = 20 + random() * height * 0.2;
    const ellipse = random() < 0.5;
    const colour = [random() * 255, random() * 255, random() * 255];
    const x0 = Math.max(0, Math.floor(cx - rx));
    const x1 = Math.min(width - 1, Math.ceil(cx + rx));
    const y0 = Math.max(0, Math.floor(cy - ry));
    const y1 = Math.min(height - 1, Math.ceil(cy + ry));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (ellipse && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 > 1) continue;
        const o = (y * width + x) * 3;
        for (let k = 0; k < 3; k++) px[o + k] = colour[k]!;
      }
    }
  }
  for (let i = 0; i < px.length; i++) px[i] = Math.max(0, Math.min(255, px[i]! + (random() - 0.5) * 24));
  return sharp(px, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

async function measure<T>(items: readonly T[], rounds: number, run: (item: T) => unknown): Promise<Throughput> {
  for (const item of items.slice(0, 3)) await run(item); // warm-up
  const cpuRates: number[] = [];
  const wallRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    for (const item of items) await run(item);
    const cpu = process.cpuUsage(cpu0);
    const wallSeconds = Number(process.hrtime.bigint() - wall0) / 1e9;
    cpuRates.push(items.length / ((cpu.user + cpu.system) / 1e6));
    wallRates.push(items.length / wallSeconds);
  }
  const perCpuSecond = median(cpuRates);
  const round1 = (v: number) => Math.round(v * 10) / 10;
  return {
    perCpuSecond: round1(perCpuSecond),
    perSecond: round1(median(wallRates)),
    cpuMsPerImage: Math.round((1000 / perCpuSecond) * 100) / 100,
    samples: cpuRates.map(round1),
  };
}

/** Runs the measurements and returns their figures (prints nothing). */
export async function runPdqHashBench(options: Partial<PdqHashBenchOptions> = {}): Promise<PdqHashBenchResult> {
  const o = { ...PDQ_HASH_DEFAULTS, ...options };
  const referenceFiles = fs
    .readdirSync(REFERENCE_DIR)
    .filter((f) => f.endsWith('.jpg'))
    .sort();
  const reference = referenceFiles.map((f) => fs.readFileSync(path.join(REFERENCE_DIR, f)));
  const generated: Buffer[] = [];
  for (let i = 0; i < o.images; i++) generated.push(await generateJpeg(o.seed + i, o.width, o.height, o.quality));

  let referencePixels = 0;
  for (const bytes of reference) {
    const meta = await sharp(bytes).metadata();
    referencePixels += (meta.width ?? 0) * (meta.height ?? 0);
  }
  const kib = (list: Buffer[]) => Math.round(list.reduce((s, b) => s + b.length, 0) / list.length / 1024);

  const withDihedral = (method: DihedralMethod) => (bytes: Buffer) => hashImage(bytes, { dihedral: method });
  const result = {
    reference: { hashImage: await measure(reference, o.rounds, (b) => hashImage(b)) },
    generated: {
      hashImage: await measure(generated, o.rounds, (b) => hashImage(b)),
      hashImageDihedralDct: await measure(generated, o.rounds, withDihedral('dct')),
      hashImageDihedralExact: await measure(generated, o.rounds, withDihedral('exact')),
      decodeOnly: await measure(generated, o.rounds, (b) => decodeImage(b)),
    },
  };

  const decoded: DecodedImage[] = [];
  for (const bytes of generated) decoded.push(await decodeImage(bytes));
  const hasher = new PdqHasher();
  // Enough repetitions that a round takes a measurable time.
  const many = Array.from({ length: 8 }, () => decoded).flat();
  const hashingOnly = {
    pdq: await measure(many, o.rounds, (image) => hasher.fromImage(image.stored, [image.orientation])),
    dihedralDct: await measure(many, o.rounds, (image) => hasher.dihedralFromImage(image.stored, image.orientation)),
    dihedralExact: await measure(many, o.rounds, (image) =>
      hasher.fromImage(
        image.stored,
        DIHEDRAL_VARIANTS.map((v) => composeOrientations(image.orientation, DIHEDRAL_ORIENTATION[v])),
      ),
    ),
  };

  return {
    machine: describeMachine(),
    sharp: { version: sharp.versions.sharp ?? 'unknown', vips: sharp.versions.vips, concurrency: sharp.concurrency() },
    options: o,
    inputs: {
      reference: {
        images: reference.length,
        meanMegapixels: Math.round((referencePixels / reference.length / 1e6) * 100) / 100,
        meanKiB: kib(reference),
      },
      generated: {
        images: generated.length,
        megapixels: Math.round(((o.width * o.height) / 1e6) * 100) / 100,
        meanKiB: kib(generated),
      },
    },
    ...result,
    hashingOnly,
    target: {
      perCoreImagesPerSecond: PDQ_HASH_TARGET.perCoreImagesPerSecond,
      met: result.generated.hashImage.perCpuSecond >= PDQ_HASH_TARGET.perCoreImagesPerSecond,
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { images: { type: 'string' }, rounds: { type: 'string' } },
  });
  const result = await runPdqHashBench({
    ...(values.images ? { images: Number(values.images) } : {}),
    ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
}
