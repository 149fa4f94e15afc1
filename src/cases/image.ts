import sharp from 'sharp';
import type { Actor } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { Context } from '../context.js';
import { AppError, NotFoundError } from '../errors.js';
import { DEFAULT_DECODE_LIMITS } from '../images/decode.js';
import { assertMaySee } from './restricted.js';

/** Side of the blurred preview, in pixels: enough to tell a screenshot from a photo, not to see it. */
const PREVIEW_SIDE = 96;
const PREVIEW_BLUR_SIGMA = 12;

export interface CaseImage {
  body: Buffer;
  contentType: string;
}

/**
 * The image of a case's content. By default a small, heavily blurred preview:
 * a moderator opening a case is never shown the picture itself. `reveal`
 * gives the image as stored, once the moderator asks for it; every reveal is
 * in the audit log (who, which case, which content). Restricted-queue cases
 * only for the roles that may see them.
 */
export async function caseImage(ctx: Context, actor: Actor, caseId: string, reveal: boolean): Promise<CaseImage> {
  const db = ctx.store.db;
  const c = await db
    .selectFrom('cases')
    .select(['id', 'queue', 'subject_type', 'subject_id'])
    .where('id', '=', caseId)
    .executeTakeFirst();
  if (!c) throw new NotFoundError('Case');
  assertMaySee(actor, c.queue);
  const content =
    c.subject_type === 'content'
      ? await db.selectFrom('content').select(['id', 'image']).where('id', '=', c.subject_id).executeTakeFirst()
      : undefined;
  if (!content?.image) throw new NotFoundError('Image of this case');
  if (!reveal) {
    try {
      const body = await sharp(content.image, {
        limitInputPixels: DEFAULT_DECODE_LIMITS.maxInputPixels,
        failOn: 'none',
      })
        .rotate()
        .resize(PREVIEW_SIDE, PREVIEW_SIDE, { fit: 'inside' })
        .blur(PREVIEW_BLUR_SIGMA)
        .jpeg({ quality: 60 })
        .toBuffer();
      return { body, contentType: 'image/jpeg' };
    } catch {
      throw new AppError('validation_failed', 'The stored bytes are not an image a preview can be made of.', {
        reason: 'image_corrupt',
      });
    }
  }
  await appendAudit(ctx.store.db, actor, {
    action: 'case.image_revealed',
    subjectType: 'case',
    subjectId: c.id,
    details: { contentId: content.id, queue: c.queue },
  });
  return { body: content.image, contentType: sniffImageType(content.image) };
}

/** The media type of image bytes from their first bytes (never trusting a stored name). */
function sniffImageType(b: Buffer): string {
  if (b[0] === 0xff && b[1] === 0xd8) return 'image/jpeg';
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a') {
    return 'image/gif';
  }
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') {
    return 'image/webp';
  }
  return 'application/octet-stream';
}
