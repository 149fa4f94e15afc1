import type { HashMatcher } from '../hashes/matcher.js';
import { ImageError } from '../images/decode.js';
import { exactHashes, hashImage } from '../images/hash-image.js';
import type { ScanItem, Scanner, Signal } from './scanner.js';

/** Below this PDQ quality the hash says too little to match on (Meta's guidance for PDQ). */
export const MIN_PDQ_QUALITY = 50;

/**
 * Image hashes against the hash banks: the exact MD5 and SHA-256 of the bytes,
 * and the PDQ hash of the picture in its eight rotations and flips. Always
 * gives an `image` signal with the hashes (the PDQ hash is kept with the
 * content, so a moderator's removal can add it to `local-confirmed`); on a
 * match, a `hashes` signal naming the bank and the distance, which takes the
 * bank's action. Bytes that are not a decodable image still get their exact
 * hashes matched, and the signal says why there is no PDQ hash.
 */
export class ImageHashScanner implements Scanner {
  readonly name = 'hashes';
  readonly cost = 1;
  readonly version = 'pdq+md5+sha256';

  constructor(private readonly matcher: HashMatcher) {}

  accepts(item: ScanItem): boolean {
    return item.image !== null && item.image.length > 0;
  }

  async scan(item: ScanItem): Promise<Signal[]> {
    const bytes = item.image!;
    let pdq: Record<string, string> = {};
    let info: Record<string, unknown>;
    let exact: { md5: string; sha256: string };
    try {
      // The eight orientations hashed as the reference would hash files stored that way (0 bits from it
      // on its rotated test files; the DCT shortcut is 8–18 bits off), from one pass over the pixels.
      const h = await hashImage(bytes, { dihedral: 'exact' });
      exact = { md5: h.md5, sha256: h.sha256 };
      info = {
        pdq: h.pdq,
        quality: h.quality,
        width: h.width,
        height: h.height,
        format: h.format,
        animated: h.animated,
      };
      // A low-quality hash (a flat or tiny picture) matches too much to be trusted.
      if (h.quality >= MIN_PDQ_QUALITY) pdq = h.pdqVariants;
    } catch (error) {
      if (!(error instanceof ImageError)) throw error;
      exact = exactHashes(bytes);
      info = { pdq: null, imageError: error.reason, message: error.message };
    }
    const signals: Signal[] = [
      { scanner: 'image', score: 1, detail: { ...info, md5: exact.md5, sha256: exact.sha256 } },
    ];
    await this.matcher.ready();
    const match = this.matcher.match({ ...exact, pdq });
    if (match) {
      signals.push({
        scanner: this.name,
        category: match.category,
        score: 1,
        decides: match.bank.action,
        detail: {
          bank: match.bank.name,
          kind: match.kind,
          distance: match.distance,
          threshold: match.kind === 'pdq' ? match.bank.threshold : 0,
          hashId: match.hashId,
          ...(match.variant ? { variant: match.variant } : {}),
        },
      });
    }
    return signals;
  }
}
