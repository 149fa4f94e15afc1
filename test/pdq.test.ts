import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import { AppError } from '../src/errors.js';
import {
  type DecodeLimits,
  DEFAULT_DECODE_LIMITS,
  ImageError,
  type ImageErrorReason,
  decodeImage,
  orientAndReduce,
} from '../src/images/decode.js';
import { hashImage } from '../src/images/hash-image.js';
import { type Orientation, composeOrientations } from '../src/images/orientation.js';
import {
  DIHEDRAL_VARIANTS,
  type DihedralVariant,
  PdqHasher,
  PdqHexError,
  formatPdqHex,
  hammingDistance,
  isPdqHex,
  lumaFromPixels,
  parsePdqHex,
  pdqDihedral,
  pdqFromLuma,
  pdqFromPixels,
} from '../src/images/pdq.js';
import { mulberry32 } from '../src/random.js';
import { CUSTOS_BIN, cleanEnv } from './helpers/cli-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE_DIR = path.join(ROOT, 'test/fixtures/pdq');
const MORE_DIR = path.join(ROOT, 'test/fixtures/pdq-more');
const TOLERANCE = 10;

/** The hashes Meta's reference C++ hasher computes, from the fixtures' README (the lines with a quality). */
function referenceHashes(): Map<string, string> {
  const readme = fs.readFileSync(path.join(REFERENCE_DIR, 'README.md'), 'utf8');
  const hashes = new Map<string, string>();
  for (const m of readme.matchAll(/^ {4}([0-9a-f]{64}) (\d+) (\S+\.jpg)$/gm)) hashes.set(m[3]!, m[1]!);
  return hashes;
}
const REFERENCE = referenceHashes();
const read = (file: string) => fs.readFileSync(path.join(REFERENCE_DIR, file));
const distance = (a: string, b: string) => hammingDistance(parsePdqHex(a), parsePdqHex(b));

/** Which reference file holds bridge-1-original turned or flipped as each variant. */
const DIHEDRAL_FILES: Record<DihedralVariant, string> = {
  original: 'reg-test-input__dih__bridge-1-original.jpg',
  rotate90: 'reg-test-input__dih__bridge-2-rotate-90.jpg',
  rotate180: 'reg-test-input__dih__bridge-3-rotate-180.jpg',
  rotate270: 'reg-test-input__dih__bridge-4-rotate-270.jpg',
  flipX: 'reg-test-input__dih__bridge-5-flipx.jpg',
  flipY: 'reg-test-input__dih__bridge-6-flipy.jpg',
  flipPlus1: 'reg-test-input__dih__bridge-7-flip-plus-1.jpg',
  flipMinus1: 'reg-test-input__dih__bridge-8-flip-minus-1.jpg',
};

/** A deterministic picture with structure at several scales: gradient, blocks, noise. */
function picture(width: number, height: number, seed: number, channels = 3): Buffer {
  const random = mulberry32(seed);
  const px = Buffer.alloc(width * height * channels);
  const blocks = Array.from({ length: 12 }, () => ({
    x: random() * width,
    y: random() * height,
    r: 5 + random() * Math.min(width, height) * 0.3,
    v: Array.from({ length: channels }, () => random() * 255),
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) px[o + c] = ((x * 255) / width + (c * y * 255) / height) % 256;
      for (const b of blocks) {
        if (Math.abs(x - b.x) < b.r && Math.abs(y - b.y) < b.r) for (let c = 0; c < channels; c++) px[o + c] = b.v[c]!;
      }
      for (let c = 0; c < channels; c++) px[o + c] = Math.max(0, Math.min(255, px[o + c]! + (random() - 0.5) * 20));
    }
  }
  return px;
}

const raw = (data: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4 = 3) =>
  sharp(data, { raw: { width, height, channels } });

async function imageError(bytes: Uint8Array, limits?: DecodeLimits): Promise<ImageError> {
  try {
    await hashImage(bytes, limits ? { limits } : {});
  } catch (error) {
    assert.ok(error instanceof ImageError, `expected an ImageError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the image to be refused');
}

/** A PNG chunk: length, type, data, CRC. */
function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A greyscale PNG that declares width × height but holds only its first rows: a few hundred bytes. */
function pngHeaderOnly(width: number, height: number, rows: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(0, 9); // greyscale
  const scanlines = Buffer.alloc(rows * (width + 1)); // filter byte 0 and zeros
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(scanlines)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('PDQ against the reference hasher', () => {
  it('reads all twenty reference hashes from the fixtures README', () => {
    assert.equal(REFERENCE.size, 20);
  });

  for (const [file, expected] of REFERENCE) {
    it(`hashes ${file} within ${TOLERANCE} bits of the reference, quality 100`, async (t) => {
      const h = await hashImage(read(file));
      const d = distance(h.pdq, expected);
      t.diagnostic(`distance ${d} bits`);
      assert.ok(d <= TOLERANCE, `${file}: ${d} bits from the reference (${h.pdq} vs ${expected})`);
      assert.equal(h.quality, 100);
      assert.equal(h.format, 'jpeg');
      assert.equal(h.animated, false);
    });
  }

  it('gives the eight exact variants of bridge-1-original within 10 bits of the rotated files', async (t) => {
    const h = await hashImage(read(DIHEDRAL_FILES.original), { dihedral: 'exact' });
    assert.equal(h.pdqVariants.original, h.pdq);
    for (const variant of DIHEDRAL_VARIANTS) {
      const expected = REFERENCE.get(DIHEDRAL_FILES[variant])!;
      const d = distance(h.pdqVariants[variant], expected);
      t.diagnostic(`${variant}: ${d} bits`);
      assert.ok(d <= TOLERANCE, `${variant}: ${d} bits from ${DIHEDRAL_FILES[variant]}`);
      // And far from every other orientation's file, so the names are right.
      for (const other of DIHEDRAL_VARIANTS) {
        const far = distance(h.pdqVariants[variant], REFERENCE.get(DIHEDRAL_FILES[other])!);
        if (other !== variant) assert.ok(far > 64, `${variant} is ${far} bits from ${other}`);
      }
    }
  });

  it('gives DCT-derived variants near the rotated files (the reference library way; not exact)', async (t) => {
    const h = await hashImage(read(DIHEDRAL_FILES.original), { dihedral: 'dct' });
    const distances: number[] = [];
    for (const variant of DIHEDRAL_VARIANTS) {
      const d = distance(h.pdqVariants[variant], REFERENCE.get(DIHEDRAL_FILES[variant])!);
      distances.push(d);
      t.diagnostic(`${variant}: ${d} bits`);
      // The reference pipeline is not flip-symmetric: 0–18 bits measured; still far inside a match.
      assert.ok(d <= 24, `${variant}: ${d} bits`);
      for (const other of DIHEDRAL_VARIANTS) {
        const far = distance(h.pdqVariants[variant], REFERENCE.get(DIHEDRAL_FILES[other])!);
        if (other !== variant) assert.ok(far > 64, `${variant} is ${far} bits from ${other}`);
      }
    }
    assert.equal(distances[0], 0);
  });

  it('prints hash,quality,file lines from `custos hashes compute`, naming bad files on stderr', async () => {
    const files = ['bridge-mods__aaa-orig.jpg', 'reg-test-input__dih__bridge-2-rotate-90.jpg'].map((f) =>
      path.join(REFERENCE_DIR, f),
    );
    const bad = path.join(ROOT, 'package.json');
    const run = await promisify(execFile)(
      process.execPath,
      [CUSTOS_BIN, 'hashes', 'compute', files[0]!, bad, files[1]!],
      {
        env: cleanEnv(),
      },
    ).then(
      () => assert.fail('expected exit code 1'),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.equal(run.code, 1);
    const lines = run.stdout.trim().split('\n');
    assert.deepEqual(
      lines,
      files.map((f) => `${REFERENCE.get(path.basename(f))},100,${f}`),
    );
    assert.match(run.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: image_unsupported`));

    // --json, and an animated file: all hashed (exit 0), the animation noted on stderr.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-pdq-'));
    try {
      const gif = path.join(dir, 'animated.gif');
      const frames = [1, 2].map((seed) =>
        raw(picture(64, 48, seed), 64, 48)
          .png()
          .toBuffer(),
      );
      fs.writeFileSync(
        gif,
        await sharp(await Promise.all(frames), { join: { animated: true } })
          .gif()
          .toBuffer(),
      );
      const ok = await promisify(execFile)(
        process.execPath,
        [CUSTOS_BIN, 'hashes', 'compute', '--json', files[0]!, gif],
        {
          env: cleanEnv(),
        },
      );
      const [first, second] = ok.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      const bytes = fs.readFileSync(files[0]!);
      assert.deepEqual(first, {
        file: files[0],
        pdq: REFERENCE.get(path.basename(files[0]!)),
        quality: 100,
        md5: createHash('md5').update(bytes).digest('hex'),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        width: 1600,
        height: 1004,
        format: 'jpeg',
        animated: false,
      });
      assert.equal(second.file, gif);
      assert.equal(second.animated, true);
      assert.match(ok.stderr, /animated\.gif: animated; the first frame was hashed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('decoding', () => {
  const moreFiles = fs.readdirSync(MORE_DIR).filter((f) => !f.endsWith('.md'));

  for (const file of moreFiles) {
    it(`hashes ${file} (EXIF-rotated, palette, 1-bit and small images)`, async () => {
      const bytes = fs.readFileSync(path.join(MORE_DIR, file));
      const h = await hashImage(bytes, { dihedral: true });
      assert.ok(isPdqHex(h.pdq), h.pdq);
      assert.ok(h.quality >= 50, `${file}: quality ${h.quality}`);
      const meta = await sharp(bytes).metadata();
      const sideways = (meta.orientation ?? 1) >= 5;
      assert.deepEqual([h.width, h.height], sideways ? [meta.height, meta.width] : [meta.width, meta.height]);
    });
  }

  it('turns pixels upright exactly as libvips does, for all eight EXIF orientations', async () => {
    const stored = { data: picture(37, 23, 1), width: 37, height: 23, channels: 3 };
    for (let o = 1 as Orientation; o <= 8; o++) {
      const file = await raw(stored.data, 37, 23).png().withMetadata({ orientation: o }).toBuffer();
      const upright = await sharp(file).rotate().raw().toBuffer({ resolveWithObject: true });
      const mine = orientAndReduce(stored, o, 10_000);
      assert.deepEqual([mine.width, mine.height], [upright.info.width, upright.info.height], `orientation ${o}`);
      assert.ok(Buffer.from(mine.data).equals(upright.data), `orientation ${o}`);
    }
  });

  it('composes orientations as applying one after the other does', () => {
    const probe = { data: Uint8Array.from({ length: 12 }, (_, i) => i), width: 4, height: 3, channels: 1 };
    for (let a = 1 as Orientation; a <= 8; a++) {
      for (let b = 1 as Orientation; b <= 8; b++) {
        const twice = orientAndReduce(orientAndReduce(probe, a, 99), b, 99);
        const once = orientAndReduce(probe, composeOrientations(a, b), 99);
        assert.deepEqual(once, twice, `${a} then ${b}`);
      }
    }
  });

  it('hashes a picture stored with an EXIF orientation like the same picture stored upright', async () => {
    // Inverse of each orientation: 6 and 8 undo each other, the rest undo themselves.
    const inverse: Record<Orientation, Orientation> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6 };
    const upright = { data: picture(700, 430, 2), width: 700, height: 430, channels: 3 };
    const uprightPng = await raw(upright.data, 700, 430).png().toBuffer();
    const uprightJpeg = await raw(upright.data, 700, 430).jpeg({ quality: 92 }).toBuffer();
    const expected = await hashImage(uprightPng, { dihedral: true });
    const expectedJpeg = await hashImage(uprightJpeg);
    assert.ok(expected.quality >= 50, `quality ${expected.quality}`);
    for (let o = 2 as Orientation; o <= 8; o++) {
      const s = orientAndReduce(upright, inverse[o], 10_000);
      const png = await raw(Buffer.from(s.data), s.width, s.height).png().withMetadata({ orientation: o }).toBuffer();
      const h = await hashImage(png, { dihedral: true });
      assert.deepEqual([h.width, h.height], [700, 430]);
      // Lossless: the very same picture, so the very same hashes, variants included.
      assert.equal(h.pdq, expected.pdq, `orientation ${o}`);
      assert.deepEqual(h.pdqVariants, expected.pdqVariants, `orientation ${o}`);
      // Through JPEG (re-encoded sideways): within a few bits.
      const jpeg = await raw(Buffer.from(s.data), s.width, s.height)
        .jpeg({ quality: 92 })
        .withMetadata({ orientation: o })
        .toBuffer();
      const hj = await hashImage(jpeg);
      assert.ok(
        distance(hj.pdq, expectedJpeg.pdq) <= 6,
        `orientation ${o}: ${distance(hj.pdq, expectedJpeg.pdq)} bits`,
      );
    }
    // And the orientation matters: ignoring it would give a different hash.
    const s6 = orientAndReduce(upright, 8, 10_000);
    const sideways = await raw(Buffer.from(s6.data), s6.width, s6.height).png().toBuffer();
    const ignored = distance((await hashImage(sideways)).pdq, expected.pdq);
    assert.ok(ignored > 64, `the sideways picture is only ${ignored} bits away`);
  });

  it('flattens transparency on white', async () => {
    const w = 300;
    const h = 200;
    const rgba = Buffer.alloc(w * h * 4);
    const flat = Buffer.alloc(w * h * 3);
    const pic = picture(w, h, 3);
    for (let p = 0; p < w * h; p++) {
      // A transparent quadrant: it varies along both axes, as PDQ (which drops the
      // frequency-0 row and column) needs to see it.
      const visible = p % w < w / 2 || p < (w * h) / 2;
      for (let c = 0; c < 3; c++) {
        rgba[p * 4 + c] = visible ? pic[p * 3 + c]! : (p * 7 + c * 13) & 255; // colour under alpha 0 is noise
        flat[p * 3 + c] = visible ? pic[p * 3 + c]! : 255;
      }
      rgba[p * 4 + 3] = visible ? 255 : 0;
    }
    const transparent = await hashImage(await raw(rgba, w, h, 4).png().toBuffer());
    const onWhite = await hashImage(await raw(flat, w, h).png().toBuffer());
    assert.equal(transparent.pdq, onWhite.pdq);
    const onBlack = flat.map((v, i) => (i % (w * 3) >= (w * 3) / 2 && i >= (w * h * 3) / 2 ? 0 : v));
    const black = distance(
      transparent.pdq,
      (await hashImage(await raw(Buffer.from(onBlack), w, h).png().toBuffer())).pdq,
    );
    assert.ok(black > 10, `flattening on black would be only ${black} bits away`);
  });

  it('gives a flat picture a low quality (and a picture with detail 100)', async () => {
    const flat = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    assert.equal((await hashImage(flat)).quality, 0);
    const gentle = await raw(Buffer.from(Array.from({ length: 640 * 480 }, (_, i) => (i % 640) / 16)), 640, 480, 1)
      .png()
      .toBuffer();
    const faint = (await hashImage(gentle)).quality;
    assert.ok(faint < 50, `quality ${faint}`);
    const detailed = await raw(picture(640, 480, 4), 640, 480)
      .png()
      .toBuffer();
    assert.equal((await hashImage(detailed)).quality, 100);
  });

  it('hashes the first frame of an animated GIF or WebP and says it was animated', async () => {
    const w = 96;
    const h = 80;
    // Black and white only, so GIF's palette keeps the pixels exactly.
    const frame = async (seed: number) => {
      const grey = picture(w, h, seed, 1).map((v) => (v < 128 ? 0 : 255));
      return raw(Buffer.from(grey), w, h, 1).toColourspace('srgb').png().toBuffer();
    };
    const first = await frame(21);
    const second = await frame(22);
    const firstHash = (await hashImage(first)).pdq;
    const apart = distance(firstHash, (await hashImage(second)).pdq);
    assert.ok(apart > 64, `the two frames are only ${apart} bits apart`);
    for (const format of ['gif', 'webp'] as const) {
      const joined = sharp([first, second], { join: { animated: true } });
      const animated = await (format === 'gif' ? joined.gif() : joined.webp({ lossless: true })).toBuffer();
      assert.equal((await sharp(animated).metadata()).pages, 2, format);
      const hashed = await hashImage(animated);
      assert.equal(hashed.animated, true, format);
      assert.equal(hashed.format, format);
      assert.deepEqual([hashed.width, hashed.height], [w, h]);
      assert.equal(hashed.pdq, firstHash, format);
    }
    assert.equal((await hashImage(first)).animated, false);
  });

  it('hashes a 1×1 image to the all-zero hash with quality 0, as the reference does below 5 px', async () => {
    const one = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const h = await hashImage(one, { dihedral: true });
    assert.equal(h.pdq, '0'.repeat(64));
    assert.equal(h.quality, 0);
    assert.deepEqual([h.width, h.height], [1, 1]);
  });

  it('refuses bad input with a typed 422 error', async () => {
    const jpeg = read('bridge-mods__aaa-orig.jpg');
    const random = mulberry32(5);
    const cases: Array<[string, Uint8Array, ImageErrorReason]> = [
      ['zero bytes', new Uint8Array(0), 'image_empty'],
      ['a JPEG cut in half', jpeg.subarray(0, jpeg.length >> 1), 'image_corrupt'],
      ['a JPEG cut after its first 100 bytes', jpeg.subarray(0, 100), 'image_corrupt'],
      ['a PNG cut in half', pngHeaderOnly(300, 300, 300).subarray(0, 60), 'image_corrupt'],
      ['random bytes', Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256)), 'image_unsupported'],
      ['text', Buffer.from('hello, this is not an image\n'), 'image_unsupported'],
      [
        'an SVG',
        Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="50" height="50"/></svg>',
        ),
        'image_unsupported',
      ],
    ];
    for (const [what, bytes, reason] of cases) {
      const error = await imageError(bytes);
      assert.equal(error.reason, reason, what);
      assert.ok(error instanceof AppError, what);
      assert.equal(error.status, 422, what);
      assert.deepEqual(error.details, { reason }, what);
    }
  });

  it('refuses a 20,000 × 20,000 image from its header, quickly and without decoding it', async () => {
    const bomb = pngHeaderOnly(20_000, 20_000, 8);
    assert.ok(bomb.length < 2000, `${bomb.length} bytes`);
    const rss = process.memoryUsage().rss;
    const started = Date.now();
    const error = await imageError(bomb);
    assert.equal(error.reason, 'image_too_large');
    assert.match(error.message, /20000×20000/);
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
    assert.ok(process.memoryUsage().rss - rss < 64 * 2 ** 20, 'memory grew by more than 64 MiB');
    // The limit is a setting.
    const small = await imageError(read('bridge-mods__shrink-a-lot.jpg'), {
      ...DEFAULT_DECODE_LIMITS,
      maxInputPixels: 10_000,
    });
    assert.equal(small.reason, 'image_too_large');
  });

  it('shrinks images over the exact-decode limit while decoding, a few bits from the exact result', async () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, exactMaxPixels: 100_000 };
    for (const file of ['bridge-mods__aaa-orig.jpg', 'reg-test-input__dih__bridge-2-rotate-90.jpg']) {
      const bytes = read(file);
      const decoded = await decodeImage(bytes, limits);
      assert.equal(decoded.exact, false);
      assert.deepEqual([decoded.stored.width, decoded.stored.height], [512, 512]);
      const shrunk = await hashImage(bytes, { limits });
      const d = distance(shrunk.pdq, REFERENCE.get(file)!);
      assert.ok(d <= TOLERANCE, `${file}: ${d} bits`);
      assert.equal((await decodeImage(bytes)).exact, true);
    }
  });

  it('decodes a large image that is allowed in bounded time', async () => {
    // 6,000 × 4,000 (24 MP, over the exact-decode limit) of zeros: a small PNG.
    const png = pngHeaderOnly(6000, 4000, 4000);
    const started = Date.now();
    const decoded = await decodeImage(png);
    assert.equal(decoded.exact, false);
    assert.deepEqual([decoded.originalWidth, decoded.originalHeight], [6000, 4000]);
    assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
  });
});

describe('the PDQ arithmetic', () => {
  it('computes the same hashes in one pass as reducing and turning the pixels first', () => {
    const hasher = new PdqHasher();
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 900 }),
        fc.integer({ min: 5, max: 900 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(1, 3, 4),
        fc.integer(),
        (width, height, orientation, channels, seed) => {
          const random = mulberry32(seed);
          const data = Uint8Array.from({ length: width * height * channels }, () => Math.floor(random() * 256));
          const image = { data, width, height, channels };
          const [fused] = hasher.fromImage(image, [orientation]);
          const plain = orientAndReduce(image, orientation as Orientation, 512);
          const separate = pdqFromPixels(plain.data, plain.width, plain.height, plain.channels);
          // The same arithmetic in another order: equal, but for float rounding when
          // coefficients tie at the median (flat or blocky pictures; not noise).
          assert.equal(fused!.quality, separate.quality);
          const d = hammingDistance(fused!.hash, separate.hash);
          assert.ok(d <= 2, `${width}×${height}, orientation ${orientation}, ${channels} channels: ${d} bits`);
        },
      ),
      // Each run builds and hashes a picture of up to 900 × 900: report the first failure, do not shrink.
      { numRuns: 40, seed: 7, endOnFailure: true },
    );
    // And on a structured picture, in all eight orientations at once.
    const image = { data: picture(700, 430, 8), width: 700, height: 430, channels: 3 };
    const all = hasher.fromImage(image, [1, 2, 3, 4, 5, 6, 7, 8]);
    all.forEach((r, i) => {
      const plain = orientAndReduce(image, (i + 1) as Orientation, 512);
      assert.ok(hammingDistance(r.hash, pdqFromPixels(plain.data, 512, 512, 3).hash) <= 2, `orientation ${i + 1}`);
    });
  });

  it('hashes luminance and pixels alike, and reads the luminance weights 0.299, 0.587, 0.114', () => {
    const px = picture(200, 150, 9);
    const luma = lumaFromPixels(px, 200, 150, 3);
    const y = 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]!;
    assert.ok(Math.abs(luma[0]! - y) < 1e-4, `${luma[0]} ≠ ${y}`);
    const a = pdqFromLuma(luma, 200, 150);
    const b = pdqFromPixels(px, 200, 150, 3);
    assert.ok(hammingDistance(a.hash, b.hash) <= 2, `${hammingDistance(a.hash, b.hash)} bits`);
    assert.equal(a.quality, b.quality);
    // A different weighting (plain mean) moves bits.
    const mean = new Float32Array(200 * 150).map((_, p) => (px[p * 3]! + px[p * 3 + 1]! + px[p * 3 + 2]!) / 3);
    assert.ok(hammingDistance(pdqFromLuma(mean, 200, 150).hash, a.hash) > 0, 'the weights made no difference');
  });

  it('scores quality as the reference: integer percentage steps between neighbours, summed, over 90', () => {
    // A 64×64 picture is used as it is (no filter), so the gradients are known:
    // columns alternating 0 and `step` make 64 × 63 horizontal steps of
    // trunc(step · 100 / 255) percent and no vertical ones.
    const ramp = (step: number) => new Float32Array(64 * 64).map((_, p) => (p % 2) * step);
    assert.equal(pdqFromLuma(ramp(2), 64, 64).quality, 0); // trunc(0.78) = 0: too faint to count
    assert.equal(pdqFromLuma(ramp(3), 64, 64).quality, 44); // 4,032 × 1 / 90
    assert.equal(pdqFromLuma(ramp(4), 64, 64).quality, 44); // trunc(1.57) = 1
    assert.equal(pdqFromLuma(ramp(6), 64, 64).quality, 89); // 4,032 × 2 / 90
    assert.equal(pdqFromLuma(ramp(8), 64, 64).quality, 100); // 4,032 × 3 / 90 = 134, capped
  });

  it('sets exactly 128 bits (above the median) on a picture with detail', () => {
    const px = picture(320, 240, 11);
    const { hash } = pdqFromPixels(px, 320, 240, 3);
    assert.equal(hammingDistance(hash, new Uint8Array(32)), 128);
  });

  it('derives the DCT variants of a luminance buffer like the file-level ones', () => {
    const px = picture(64, 64, 12);
    const luma = lumaFromPixels(px, 64, 64, 3);
    const fromDct = pdqDihedral(luma, 64, 64);
    assert.equal(formatPdqHex(fromDct.hashes.original), formatPdqHex(pdqFromLuma(luma, 64, 64).hash));
    // 64×64 is the one size the reference does not filter, and there the pipeline is
    // symmetric, so the DCT shortcut is exact: compare with hashing turned pixels.
    const hasher = new PdqHasher();
    const image = { data: px, width: 64, height: 64, channels: 3 };
    const exact = hasher.fromImage(image, [8, 3, 6, 4, 2, 5, 7]);
    DIHEDRAL_VARIANTS.slice(1).forEach((v, i) => {
      assert.equal(formatPdqHex(fromDct.hashes[v]), formatPdqHex(exact[i]!.hash), v);
    });
  });
});

describe('hash helpers', () => {
  const ref = REFERENCE.get('bridge-mods__aaa-orig.jpg')!;

  it('parses and formats 64 hex digits, either case', () => {
    const bytes = parsePdqHex(ref);
    assert.equal(bytes.length, 32);
    assert.equal(bytes[0], 0xd8);
    assert.equal(formatPdqHex(bytes), ref);
    assert.equal(formatPdqHex(parsePdqHex(ref.toUpperCase())), ref);
    assert.ok(isPdqHex(ref), ref);
  });

  it('rejects anything else', () => {
    const bad = [
      '',
      ref.slice(1),
      `${ref}0`,
      `0x${ref.slice(2)}`,
      `${ref.slice(0, 63)}g`,
      ` ${ref.slice(1)}`,
      `${ref.slice(0, 32)} ${ref.slice(33)}`,
      `${ref}\n`,
    ];
    for (const text of bad) {
      assert.equal(isPdqHex(text), false, JSON.stringify(text));
      assert.throws(() => parsePdqHex(text), PdqHexError, JSON.stringify(text));
    }
    assert.throws(() => formatPdqHex(new Uint8Array(31)), RangeError);
  });

  it('counts differing bits', () => {
    const zero = new Uint8Array(32);
    const ones = new Uint8Array(32).fill(0xff);
    assert.equal(hammingDistance(zero, ones), 256);
    assert.equal(hammingDistance(ones, ones), 0);
    const oneBit = new Uint8Array(32);
    oneBit[17] = 0x10;
    assert.equal(hammingDistance(zero, oneBit), 1);
    assert.equal(distance(ref, REFERENCE.get('bridge-mods__high-saturation.jpg')!), 2);
    assert.throws(() => hammingDistance(zero, new Uint8Array(33)), RangeError);
    const bits = (h: Uint8Array) => [...h].reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0);
    const xor = (a: Uint8Array, b: Uint8Array) => a.map((v, i) => v ^ b[i]!);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (a, b, c) => {
          assert.equal(hammingDistance(a, b), bits(xor(a, b)));
          assert.equal(hammingDistance(a, b), hammingDistance(b, a));
          assert.ok(hammingDistance(a, c) <= hammingDistance(a, b) + hammingDistance(b, c), 'triangle inequality');
        },
      ),
      { seed: 3 },
    );
  });
});
