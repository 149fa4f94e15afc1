import crypto from 'node:crypto';
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { ContentTable } from '../db/schema.js';
import { type FieldProblem, NotFoundError, ValidationError } from '../errors.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { chunks } from '../db/chunks.js';
import { enqueueScans } from '../scanning/jobs.js';

/** Largest image accepted inline, after base64 decoding. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

export interface ContentInput {
  id: string;
  accountId: string;
  chatId?: string;
  kind: 'text' | 'image';
  text?: string;
  imageBase64?: string;
  mediaRef?: string;
  createdAt: string;
  public?: boolean;
  language?: string;
}

export interface ContentView {
  id: string;
  accountId: string;
  chatId: string | null;
  kind: 'text' | 'image';
  text: string | null;
  hasImage: boolean;
  mediaRef: string | null;
  imageSha256: string | null;
  public: boolean;
  language: string | null;
  state: string;
  createdAt: string;
}

export interface ContentIngestResult {
  id: string;
  status: 'inserted' | 'updated' | 'unchanged';
}

interface Prepared {
  row: Insertable<ContentTable>;
}

/**
 * Stores content items atomically and idempotently: an item re-sent unchanged is
 * left alone, an edited one (same id, other text or image) is updated but keeps
 * its moderation state. Every item must name a known account.
 */
export async function ingestContent(
  db: Db,
  actor: Actor,
  items: ContentInput[],
  now = Date.now(),
  /** Queue a scan job per new or edited item; `scanDelayMs` leaves the request time to scan it itself. */
  options: { enqueueScan?: boolean; scanDelayMs?: number } = {},
): Promise<ContentIngestResult[]> {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  const prepared: Prepared[] = items.map((item, i) => {
    const first = seen.get(item.id);
    if (first !== undefined) {
      problems.push({ path: `/items/${i}/id`, code: 'duplicate_id', message: `content id repeats item ${first}` });
    } else seen.set(item.id, i);
    let image: Buffer | null = null;
    if (item.kind === 'text' && (item.text === undefined || item.text.length === 0)) {
      problems.push({ path: `/items/${i}/text`, code: 'missing_field', message: 'a text item needs text' });
    }
    if (item.kind === 'image') {
      if (item.imageBase64 === undefined && item.mediaRef === undefined) {
        problems.push({
          path: `/items/${i}/imageBase64`,
          code: 'missing_field',
          message: 'an image item needs imageBase64 or mediaRef',
        });
      }
      if (item.imageBase64 !== undefined) {
        image = Buffer.from(item.imageBase64, 'base64');
        if (image.length === 0 || image.length > MAX_IMAGE_BYTES) {
          problems.push({
            path: `/items/${i}/imageBase64`,
            code: 'invalid_image',
            message: `image must be 1 byte to ${MAX_IMAGE_BYTES} bytes of base64`,
          });
        }
      }
    }
    const createdAt = Date.parse(item.createdAt);
    if (createdAt > now + 5 * 60_000) {
      problems.push({ path: `/items/${i}/createdAt`, code: 'in_the_future', message: 'createdAt is in the future' });
    }
    const row: Insertable<ContentTable> = {
      id: item.id,
      account_id: item.accountId,
      chat_id: item.chatId ?? null,
      kind: item.kind,
      text: item.text ?? null,
      image,
      media_ref: item.mediaRef ?? null,
      image_sha256: image ? crypto.createHash('sha256').update(image).digest('hex') : null,
      image_md5: image ? crypto.createHash('md5').update(image).digest('hex') : null,
      is_public: item.public ? 1 : 0,
      language: item.language ?? null,
      state: 'visible',
      fingerprint: '',
      created_at: createdAt,
      received_at: now,
    };
    row.fingerprint = fingerprint(row);
    return { row };
  });

  return db.transaction().execute(async (tx) => {
    const accountIds = [...new Set(items.map((c) => c.accountId))];
    const known = new Set<string>();
    for (const part of chunks(accountIds, 1000)) {
      for (const r of await tx.selectFrom('accounts').select('id').where('id', 'in', part).execute()) known.add(r.id);
    }
    items.forEach((item, i) => {
      if (!known.has(item.accountId)) {
        problems.push({ path: `/items/${i}/accountId`, code: 'unknown_account', message: 'no such account' });
      }
    });
    if (problems.length > 0) {
      problems.sort((a, b) => Number(a.path.split('/')[2]) - Number(b.path.split('/')[2]));
      throw new ValidationError(problems, `${problems.length} invalid item(s); nothing was stored.`);
    }
    const existing = new Map<string, string>();
    for (const part of chunks(prepared, 1000)) {
      const rows = await tx
        .selectFrom('content')
        .select(['id', 'fingerprint'])
        .where(
          'id',
          'in',
          part.map((p) => p.row.id),
        )
        .execute();
      for (const r of rows) existing.set(r.id, r.fingerprint);
    }
    const results: ContentIngestResult[] = [];
    const inserts: Insertable<ContentTable>[] = [];
    for (const { row } of prepared) {
      const old = existing.get(row.id);
      if (old === undefined) {
        inserts.push(row);
        results.push({ id: row.id, status: 'inserted' });
      } else if (old === row.fingerprint) {
        results.push({ id: row.id, status: 'unchanged' });
      } else {
        const { state: _keep, received_at: _first, ...edit } = row;
        await tx.updateTable('content').set(edit).where('id', '=', row.id).execute();
        results.push({ id: row.id, status: 'updated' });
      }
    }
    for (const part of chunks(inserts, 200)) {
      await tx
        .insertInto('content')
        .values(part)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
    if (options.enqueueScan) {
      await enqueueScans(
        tx,
        results.filter((r) => r.status !== 'unchanged').map((r) => r.id),
        now,
        options.scanDelayMs ?? 0,
      );
    }
    const counts = { received: items.length, inserted: inserts.length };
    await appendAudit(tx, actor, { action: 'content.ingest', subjectType: 'batch', details: counts }, now);
    return results;
  });
}

function fingerprint(row: Insertable<ContentTable>): string {
  const h = crypto.createHash('sha256');
  for (const v of [row.account_id, row.chat_id, row.kind, row.text, row.image_sha256, row.media_ref, row.is_public]) {
    h.update(String(v ?? ''));
    h.update('\u001f');
  }
  h.update(String(row.created_at));
  return h.digest('hex');
}

export async function getContent(db: Db, id: string): Promise<ContentView> {
  const row = await db.selectFrom('content').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Content');
  return toContentView(row);
}

export function toContentView(row: Selectable<ContentTable>): ContentView {
  return {
    id: row.id,
    accountId: row.account_id,
    chatId: row.chat_id,
    kind: row.kind,
    text: row.text,
    hasImage: row.image !== null,
    mediaRef: row.media_ref,
    imageSha256: row.image_sha256,
    public: row.is_public === 1,
    language: row.language,
    state: row.state,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}
