import type { Context } from '../context.js';
import type { Db, Tx } from '../db/database.js';
import type { Actor } from '../audit/actor.js';
import { openOrJoinCase } from '../cases/open-case.js';
import { decideCase } from '../decisions/service.js';
import { AppError } from '../errors.js';
import type { Verdict } from './pipeline.js';
import type { ScanItem, Signal } from './scanner.js';

/** Automated actions are taken in the name of the scanner, never of a person. */
export const SCANNER_ACTOR: Actor = { id: 'system:scanner', role: 'system' };

export interface StoredVerdict {
  action: 'allow' | 'review' | 'remove';
  category?: string;
  score?: number;
  language: string | null;
  signals: Signal[];
}

/**
 * Scans one stored content item and acts on the verdict, unless the same
 * version of the item was scanned already (then the stored verdict is returned
 * and nothing happens twice). `review` opens or joins the subject's case with
 * the signals; `remove` decides that case at once as a fully automated decision
 * (statement with automated_decision FULLY, appealable, a violation like any).
 */
export async function scanStoredContent(ctx: Context, contentId: string, now = Date.now()): Promise<StoredVerdict> {
  const db = ctx.store.db;
  const row = await db.selectFrom('content').selectAll().where('id', '=', contentId).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such content.');
  const previous = await db
    .selectFrom('scan_results')
    .selectAll()
    .where('content_id', '=', contentId)
    .executeTakeFirst();
  if (previous && previous.fingerprint === row.fingerprint) return toStored(previous);

  const item: ScanItem = {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    text: row.text,
    image: row.image,
    public: row.is_public === 1,
    language: row.language,
  };
  const verdict = await ctx.scanner.scan(item);
  const caseId = await db.transaction().execute(async (tx) => {
    await saveResult(tx, contentId, row.fingerprint, verdict, now);
    if (row.language === null && verdict.language) {
      await tx.updateTable('content').set({ language: verdict.language }).where('id', '=', contentId).execute();
    }
    // The image's perceptual hash stays with it: a moderator's removal adds it to `local-confirmed`.
    const pdq = verdict.signals.find((s) => s.scanner === 'image')?.detail?.pdq;
    if (typeof pdq === 'string') {
      await tx.updateTable('content').set({ image_pdq: pdq }).where('id', '=', contentId).execute();
    }
    if (verdict.action === 'allow' || !verdict.category) return null;
    const definition = ctx.policy.category(verdict.category);
    if (!definition) return null;
    const opened = await openOrJoinCase(
      tx,
      SCANNER_ACTOR,
      { type: 'content', id: row.id, accountId: row.account_id, isPublic: item.public, language: verdict.language },
      { code: verdict.category, definition },
      'scan',
      { action: verdict.action, category: verdict.category, score: verdict.score },
      now,
    );
    return opened.caseId;
  });
  if (verdict.action === 'remove' && caseId && verdict.category) {
    const top = verdict.signals.find((s) => s.category === verdict.category && !s.shadow);
    await decideCase(
      ctx,
      SCANNER_ACTOR,
      caseId,
      {
        actions: [{ type: 'remove_content' }],
        category: verdict.category,
        ground: ctx.scanning.ground(verdict.category),
        explanation: automatedExplanation(ctx, verdict, top),
      },
      { automation: 'full', automatedDetection: true, now },
    ).catch((error) => {
      // A moderator decided the case meanwhile: theirs stands.
      if (!(error instanceof AppError && error.status === 409)) throw error;
    });
  }
  return {
    action: verdict.action,
    category: verdict.category,
    score: verdict.score,
    language: verdict.language,
    signals: verdict.signals,
  };
}

/** The facts of an automated removal, as the statement of reasons shows them. */
function automatedExplanation(ctx: Context, verdict: Verdict, top: Signal | undefined): string {
  const where = `policy ${ctx.policy.version.slice(0, 19)}, versions ${JSON.stringify(verdict.versions)}`;
  const category = (verdict.category ?? '').replaceAll('_', ' ');
  if (top?.scanner === 'hashes' && top.detail) {
    const d = top.detail;
    const how =
      d.kind === 'pdq'
        ? `its PDQ perceptual hash${d.variant && d.variant !== 'original' ? ` (${d.variant})` : ''} is ${d.distance} of 256 bits from a hash in the bank, within the bank's threshold of ${d.threshold}`
        : `its ${String(d.kind).toUpperCase()} is that of an image in the bank`;
    return `Removed automatically: the image matches a known ${category} image of the hash bank ${d.bank}: ${how} (${where}).`;
  }
  return `Removed automatically: the ${top?.scanner ?? 'scanner'} found ${category} with score ${(verdict.score ?? 0).toFixed(3)} (${where}).`;
}

async function saveResult(tx: Tx, contentId: string, fingerprint: string, v: Verdict, now: number): Promise<void> {
  const values = {
    action: v.action,
    category: v.category ?? null,
    score: v.score ?? null,
    language: v.language,
    signals: JSON.stringify(v.signals),
    versions: JSON.stringify(v.versions),
    policy_version: v.policyVersion,
    fingerprint,
    scanned_at: now,
  };
  await tx
    .insertInto('scan_results')
    .values({ content_id: contentId, ...values })
    .onConflict((oc) => oc.column('content_id').doUpdateSet(values))
    .execute();
}

function toStored(r: {
  action: string;
  category: string | null;
  score: number | null;
  language: string | null;
  signals: string;
}): StoredVerdict {
  return {
    action: r.action as StoredVerdict['action'],
    ...(r.category ? { category: r.category } : {}),
    ...(r.score !== null ? { score: Number(r.score) } : {}),
    language: r.language,
    signals: JSON.parse(r.signals) as Signal[],
  };
}

/** The stored signals of a content item, for the case view. */
export async function signalsOf(
  db: Db,
  contentId: string,
): Promise<{ action: string; signals: Signal[]; versions: Record<string, string> } | null> {
  const r = await db
    .selectFrom('scan_results')
    .select(['action', 'signals', 'versions'])
    .where('content_id', '=', contentId)
    .executeTakeFirst();
  return r
    ? {
        action: r.action,
        signals: JSON.parse(r.signals) as Signal[],
        versions: JSON.parse(r.versions) as Record<string, string>,
      }
    : null;
}
