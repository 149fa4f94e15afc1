import { type Selectable, sql } from 'kysely';
import type { Context } from '../context.js';
import type { Db, Tx } from '../db/database.js';
import { needsRowLocks } from '../db/locking.js';
import type { ScanResultTable } from '../db/schema.js';
import type { CategoryCode } from '../policy/policy.js';
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
 * and nothing happens twice, except an automated removal that a crash left
 * undecided, which is taken now: see finishRemoval). `review` opens or joins the subject's case with
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
  if (previous && previous.fingerprint === row.fingerprint) {
    await finishRemoval(ctx, row.account_id, previous, now);
    return toStored(previous);
  }

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
  type Outcome = { stored: Selectable<ScanResultTable> } | { caseId: string | null };
  const outcome = await db.transaction().execute(async (tx): Promise<Outcome> => {
    // Two processes may scan the same version at once (a message redelivered while its first
    // worker is still busy). The content row's lock orders them: the second finds the first's
    // verdict and acts no further, or it would open a second case and decide it a second time.
    await tx
      .selectFrom('content')
      .select('id')
      .where('id', '=', contentId)
      .$if(needsRowLocks(tx), (q) => q.forUpdate())
      .executeTakeFirst();
    const first = await tx
      .selectFrom('scan_results')
      .selectAll()
      .where('content_id', '=', contentId)
      .executeTakeFirst();
    if (first && first.fingerprint === row.fingerprint) return { stored: first };
    await saveResult(tx, contentId, row.fingerprint, verdict, now);
    if (row.language === null && verdict.language) {
      await tx.updateTable('content').set({ language: verdict.language }).where('id', '=', contentId).execute();
    }
    // The image's perceptual hash stays with it: a moderator's removal adds it to `local-confirmed`.
    const pdq = verdict.signals.find((s) => s.scanner === 'image')?.detail?.pdq;
    if (typeof pdq === 'string') {
      await tx.updateTable('content').set({ image_pdq: pdq }).where('id', '=', contentId).execute();
    }
    if (verdict.action === 'allow' || !verdict.category) return { caseId: null };
    const definition = ctx.policy.category(verdict.category);
    if (!definition) return { caseId: null };
    const opened = await openOrJoinCase(
      tx,
      SCANNER_ACTOR,
      { type: 'content', id: row.id, accountId: row.account_id, isPublic: item.public, language: verdict.language },
      { code: verdict.category, definition },
      'scan',
      { action: verdict.action, category: verdict.category, score: verdict.score },
      now,
    );
    return { caseId: opened.caseId };
  });
  if ('stored' in outcome) {
    await finishRemoval(ctx, row.account_id, outcome.stored, now);
    return toStored(outcome.stored);
  }
  if (verdict.action === 'remove' && outcome.caseId && verdict.category) {
    await decideRemoval(ctx, outcome.caseId, verdict, now);
  }
  return {
    action: verdict.action,
    category: verdict.category,
    score: verdict.score,
    language: verdict.language,
    signals: verdict.signals,
  };
}

/** The automated decision on a `remove` verdict: the content removed, the case closed. */
async function decideRemoval(ctx: Context, caseId: string, verdict: Verdict, now: number): Promise<void> {
  if (!verdict.category) return;
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
    // A moderator (or another process finishing this removal) decided the case meanwhile: that stands.
    if (!(error instanceof AppError && error.status === 409)) throw error;
  });
}

/**
 * The verdict and its case commit before the decision, in a transaction of their own
 * (decideCase's). A process that dies between the two, or a decision that fails (a
 * deadlock, the store going away), leaves a stored `remove` verdict, its case open and
 * no decision; the job's retry finds the verdict and would otherwise stop there, so the
 * removal would never happen. Here it is taken, once: only while the case is open and
 * nothing was decided on the content since the verdict (a moderator's decision stands).
 */
async function finishRemoval(
  ctx: Context,
  accountId: string,
  stored: Selectable<ScanResultTable>,
  now: number,
): Promise<void> {
  if (stored.action !== 'remove' || !stored.category) return;
  const db = ctx.store.db;
  const contentId = stored.content_id;
  const open = await db
    .selectFrom('cases')
    .select('id')
    .where('subject_type', '=', 'content')
    .where('subject_id', '=', contentId)
    // A literal, so SQLite uses the partial index cases_one_open (see cases/open-case.ts).
    .where('status', '=', sql.lit('open'))
    .executeTakeFirst();
  if (!open) return;
  const decided = await db
    .selectFrom('decisions')
    .select('id')
    // By the author first: the index decisions_account (account_id, created_at) finds the few rows.
    .where('account_id', '=', accountId)
    .where('created_at', '>=', Number(stored.scanned_at))
    .where('subject_type', '=', 'content')
    .where('subject_id', '=', contentId)
    .executeTakeFirst();
  if (decided) return;
  ctx.logger.warn({ job: 'scan', contentId, caseId: open.id }, 'finishing an automated removal left undecided');
  const verdict: Verdict = {
    action: 'remove',
    category: stored.category as CategoryCode,
    ...(stored.score !== null ? { score: Number(stored.score) } : {}),
    language: stored.language,
    signals: JSON.parse(stored.signals) as Signal[],
    versions: JSON.parse(stored.versions) as Record<string, string>,
    policyVersion: stored.policy_version,
  };
  // Never dated before the verdict (another process's clock may be ahead), so the check above sees it.
  await decideRemoval(ctx, open.id, verdict, Math.max(now, Number(stored.scanned_at)));
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
