/**
 * Image decoding for hashing, with sharp (libvips): untrusted bytes in; the first
 * frame's 8-bit pixels, alpha flattened on white, and the EXIF orientation out; in
 * bounded memory and time, or an ImageError.
 *
 * Meta's reference PDQ tool (facebook/ThreatExchange, `pdq/cpp/io/pdqio.cpp`) resizes
 * an image with a side over 512 px to exactly 512×512 (aspect not kept) with CImg's
 * default resize, nearest neighbour: output x takes source pixel floor(x · width / 512).
 * That step runs on the decoded pixels in PdqHasher.fromImage (see pdq.ts), which
 * reproduces the reference's hashes bit for bit on its test images. So up to
 * `exactMaxPixels` an image is decoded whole and returned as stored, with its
 * orientation (applied when hashing, in the same pass). Unlike the reference, EXIF
 * orientation is applied, and alpha is flattened on white (the reference reads the
 * colour under transparent pixels, which a viewer never sees).
 *
 * Larger images are not decoded whole: sharp shrinks them as it decodes (JPEG DCT
 * scaling, streamed rows) to 512×512 with a cubic kernel, upright. That keeps memory
 * to a few megabytes, at the price of a few bits' distance from the reference's
 * nearest-neighbour result (2–6 bits on 12-megapixel photos, about 10–12 on 1-bit line
 * art, where nearest sampling is itself erratic).
 */
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { AppError } from '../errors.js';
import { type Orientation, isOrientation, orientationAxes } from './orientation.js';
import { type PixelImage, REFERENCE_REDUCED_SIDE } from './pdq.js';

export interface DecodeLimits {
  /** Refuse (image_too_large) images with more pixels than this, before decoding anything. */
  maxInputPixels: number;
  /** Decode whole and reduce exactly as the reference up to this many pixels; shrink while decoding above. */
  exactMaxPixels: number;
  /** Abort a decode that takes longer (image_too_large). */
  timeoutSeconds: number;
}

/**
 * 100 megapixels (10,000 × 10,000) covers every camera up to 108-megapixel phones'
 * pixel-binned output and panoramas; a 20,000 × 20,000 image (400 MP, which a PNG
 * can declare in a few hundred bytes of compressed zeros) is refused from its header
 * alone. 16 MP decodes whole in about 48 MB (RGB).
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxInputPixels: 100_000_000,
  exactMaxPixels: 16_000_000,
  timeoutSeconds: 20,
});

/** Input formats hashed. SVG (a document, not a picture: scripts, external references) and the rest are refused. */
const HASHABLE_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

export type ImageErrorReason = 'image_empty' | 'image_corrupt' | 'image_unsupported' | 'image_too_large';

/**
 * An image that cannot be hashed. A 422 (`validation_failed`) for the API, the
 * specific reason in `reason` and in `details.reason`.
 */
export class ImageError extends AppError {
  constructor(
    readonly reason: ImageErrorReason,
    message: string,
    cause?: unknown,
  ) {
    super('validation_failed', message, { reason });
    this.name = 'ImageError';
    if (cause !== undefined) this.cause = cause;
  }
}

export interface DecodedImage {
  /**
   * The decoded first frame as stored (before orientation), alpha flattened; or, for an
   * image over `exactMaxPixels`, already upright and reduced to 512×512 (`orientation` 1).
   */
  stored: PixelImage;
  /** The EXIF orientation that turns `stored` upright. */
  orientation: Orientation;
  /** The picture's size as displayed (EXIF orientation applied), before reduction. */
  originalWidth: number;
  originalHeight: number;
  /** sharp's name of the format: jpeg, png, webp, gif, tiff, heif (HEIF and AVIF). */
  format: string;
  /** Frames (or pages) in the file; only the first is decoded. */
  frames: number;
  /** More than one frame or page: the first is what was hashed. */
  animated: boolean;
  /** `stored` is the whole image, reduced exactly as the reference tool would (not shrunk while decoding). */
  exact: boolean;
}

/**
 * Decodes `bytes` for hashing: the first frame, alpha flattened on white, with its
 * EXIF orientation (see DecodedImage.stored for what comes back). Reads the header
 * first, so an image over `maxInputPixels` is refused before any pixel is decoded.
 * Throws ImageError for empty, truncated or corrupt, unsupported, too large (or too
 * slow to decode) input.
 */
export async function decodeImage(
  bytes: Uint8Array,
  limits: Readonly<DecodeLimits> = DEFAULT_DECODE_LIMITS,
): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageError('image_empty', 'The image is empty (zero bytes).');
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options: SharpOptions = {
    // 'error' stops on truncation and decoding errors but lets through the warnings
    // (stray bytes before a marker, say) that viewers ignore and many cameras produce.
    failOn: 'error',
    limitInputPixels: limits.maxInputPixels,
    sequentialRead: true,
    // The reference reads the stored values and ignores colour profiles; so do we.
    ignoreIcc: true,
  };

  let meta: Metadata;
  try {
    // Only the header is read here; the pixel limit is checked below with a better message.
    meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
  } catch (error) {
    throw toImageError(error);
  }
  const format = meta.format ?? 'unknown';
  if (!HASHABLE_FORMATS.has(format)) {
    throw new ImageError('image_unsupported', `Images in ${format.toUpperCase()} format are not hashed.`);
  }
  const storedWidth = meta.width ?? 0;
  const storedHeight = meta.pageHeight ?? meta.height ?? 0;
  if (storedWidth < 1 || storedHeight < 1) throw new ImageError('image_corrupt', 'The image has no pixels.');
  const pixelCount = storedWidth * storedHeight;
  if (pixelCount > limits.maxInputPixels) {
    throw new ImageError(
      'image_too_large',
      `The image is ${storedWidth}×${storedHeight} pixels; at most ${limits.maxInputPixels.toLocaleString('en')} pixels are hashed.`,
    );
  }
  const orientation: Orientation = isOrientation(meta.orientation) ? meta.orientation : 1;
  const transposed = orientation >= 5;
  const originalWidth = transposed ? storedHeight : storedWidth;
  const originalHeight = transposed ? storedWidth : storedHeight;
  const frames = Math.max(1, meta.pages ?? 1);
  const common = { originalWidth, originalHeight, format, frames, animated: frames > 1 };

  try {
    if (pixelCount <= limits.exactMaxPixels) {
      let pipeline = sharp(input, options).timeout({ seconds: limits.timeoutSeconds });
      if (meta.hasAlpha) pipeline = pipeline.flatten({ background: '#ffffff' });
      const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      const stored = { data, width: info.width, height: info.height, channels: info.channels };
      return { stored, orientation, ...common, exact: true };
    }
    // Large: shrink while decoding (orientation applied by sharp before the resize).
    let pipeline = sharp(input, options).timeout({ seconds: limits.timeoutSeconds }).rotate();
    if (meta.hasAlpha) pipeline = pipeline.flatten({ background: '#ffffff' });
    const side = (n: number) => Math.min(n, REFERENCE_REDUCED_SIDE);
    const needsReduction = originalWidth > REFERENCE_REDUCED_SIDE || originalHeight > REFERENCE_REDUCED_SIDE;
    pipeline = pipeline.resize(
      needsReduction ? REFERENCE_REDUCED_SIDE : side(originalWidth),
      needsReduction ? REFERENCE_REDUCED_SIDE : side(originalHeight),
      { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: true },
    );
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const stored = { data, width: info.width, height: info.height, channels: info.channels };
    return { stored, orientation: 1, ...common, exact: false };
  } catch (error) {
    throw toImageError(error);
  }
}

/** Maps sharp's (libvips') error messages onto the four reasons. */
function toImageError(error: unknown): ImageError {
  if (error instanceof ImageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/buffer is empty/i.test(message)) return new ImageError('image_empty', 'The image is empty (zero bytes).', error);
  if (/unsupported image format/i.test(message)) {
    return new ImageError('image_unsupported', 'The bytes are not an image in a format that is hashed.', error);
  }
  if (/pixel limit/i.test(message)) {
    return new ImageError('image_too_large', 'The image has more pixels than are hashed.', error);
  }
  if (/timeout/i.test(message)) return new ImageError('image_too_large', 'The image took too long to decode.', error);
  if (/unsupported (codec|compression)|no decoder|not supported/i.test(message)) {
    return new ImageError(
      'image_unsupported',
      `The image uses an encoding that cannot be decoded: ${firstLine(message)}`,
      error,
    );
  }
  return new ImageError('image_corrupt', `The image is corrupt or truncated: ${firstLine(message)}`, error);
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

/**
 * The upright picture (EXIF `orientation` applied) reduced, when a side is over
 * `side`, to side × side as the reference tool reduces: nearest neighbour, output x
 * taking upright pixel floor(x · width / side). Output has 1 (grey) or 3 (RGB)
 * channels. The plain form of what PdqHasher.fromImage computes on the way; for
 * callers that want the pixels, and for tests.
 */
export function orientAndReduce(image: PixelImage, orientation: Orientation, side: number): PixelImage {
  const { width, height, channels, data } = image;
  const { transposed, flipX, flipY } = orientationAxes(orientation);
  const uprightWidth = transposed ? height : width;
  const uprightHeight = transposed ? width : height;
  const reduce = uprightWidth > side || uprightHeight > side;
  const outWidth = reduce ? side : uprightWidth;
  const outHeight = reduce ? side : uprightHeight;
  const rowStride = width * channels;
  // Output pixel (x, y) is stored element colOffset[x] + rowOffset[y].
  const colOffset = new Int32Array(outWidth);
  const rowOffset = new Int32Array(outHeight);
  for (let x = 0; x < outWidth; x++) {
    let u = Math.floor((x * uprightWidth) / outWidth);
    if (flipX) u = uprightWidth - 1 - u;
    colOffset[x] = transposed ? u * rowStride : u * channels;
  }
  for (let y = 0; y < outHeight; y++) {
    let v = Math.floor((y * uprightHeight) / outHeight);
    if (flipY) v = uprightHeight - 1 - v;
    rowOffset[y] = transposed ? v * channels : v * rowStride;
  }
  const outChannels = channels >= 3 ? 3 : 1;
  const out = new Uint8Array(outWidth * outHeight * outChannels);
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const p = rowOffset[y]! + colOffset[x]!;
      for (let k = 0; k < outChannels; k++) out[o++] = data[p + k]!;
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels: outChannels };
}
