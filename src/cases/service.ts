import type { Selectable } from 'kysely';
import { RESTRICTED_QUEUE, type QueueScope, assertMaySee, assertScopeSees, queueScopeOf } from './restricted.js';
import type { Context } from '../context.js';
import type { Db } from '../db/database.js';
import type { CaseTable } from '../db/schema.js';
import { AppError, ConflictError, NotFoundError } from '../errors.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { type ModerationEventView, caseHistory, recordEvent } from '../moderation/events.js';
import { type ContentView, toContentView } from '../content/service.js';
import { type AccountView, getAccount } from '../accounts/service.js';
import { type ViolationsView, listViolations } from '../violations/service.js';
import { priorityAt } from './priority.js';
import { signalsOf } from '../scanning/service.js';
import type { Signal } from '../scanning/scanner.js';
import { lockedCase } from './open-case.js';

export interface CaseSummary {
  id: string;
  subject: { type: 'content' | 'account'; id: string };
  accountId: string;
  status: 'open' | 'closed';
  queue: string;
  category: string;
  language: string | null;
  public: boolean;
  priority: number;
  reportCount: number;
  reporterCount: number;
  trustedFlagged: boolean;
  proposedAction: string | null;
  claim: { by: string; until: string } | null;
  decisionId: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface CaseReportView {
  id: string;
  category: string;
  explanation: string | null;
  source: string;
  weight: number;
  status: string;
  createdAt: string;
}

export interface CaseDetail extends CaseSummary {
  content: ContentView | null;
  account: AccountView | null;
  reports: CaseReportView[];
  signals: unknown[];
  history: ModerationEventView[];
  violations: ViolationsView | null;
}

export interface CaseQuery {
  status: 'open' | 'closed';
  queue?: string;
  category?: string;
  language?: string;
  limit: number;
  cursor?: string;
  /** The queues the caller may see (see restricted.ts); every queue when absent. */
  scope?: QueueScope;
}

/**
 * The queue, highest priority first (an index scan on `rank`, see priority.ts).
 * Pages continue from an opaque cursor, so a moderator's next page is stable
 * while new reports arrive.
 */
export async function listCases(
  db: Db,
  q: CaseQuery,
  now = Date.now(),
): Promise<{ cases: CaseSummary[]; next: string | null }> {
  let query = db.selectFrom('cases').selectAll().where('status', '=', q.status);
  const scope = q.scope ?? 'all';
  if (q.queue) {
    assertScopeSees(scope, q.queue);
    query = query.where('queue', '=', q.queue);
  } else if (scope === 'restricted') query = query.where('queue', '=', RESTRICTED_QUEUE);
  else if (scope === 'unrestricted') query = query.where('queue', '!=', RESTRICTED_QUEUE);
  if (q.category) query = query.where('category', '=', q.category);
  if (q.language) query = query.where('language', '=', q.language);
  if (q.cursor) {
    const after = decodeCursor(q.cursor);
    // (rank, id) < (after.rank, after.id), written with `rank <= after.rank` on its own so
    // that both stores seek the index to the cursor instead of walking every case before it.
    query = query.where((eb) =>
      eb.and([eb('rank', '<=', after.rank), eb.or([eb('rank', '<', after.rank), eb('id', '<', after.id)])]),
    );
  }
  const rows = await query
    .orderBy('rank', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    cases: page.map((r) => toSummary(r, now)),
    next: rows.length > q.limit && last ? encodeCursor(Number(last.rank), last.id) : null,
  };
}

/**
 * The signals a caller may read. A match against a bank of a restricted-queue
 * category (CSAM) stays with the roles of that queue, even on a case of another
 * queue: an earlier, dismissed match, or a shadow one, must not reach ordinary moderators.
 */
function visibleSignals(ctx: Context, actor: Actor, signals: Signal[]): Signal[] {
  if (queueScopeOf(actor) !== 'unrestricted') return signals;
  return signals.filter((s) => !s.category || ctx.policy.category(s.category)?.queue !== RESTRICTED_QUEUE);
}

export async function getCaseDetail(ctx: Context, actor: Actor, id: string, now = Date.now()): Promise<CaseDetail> {
  const db = ctx.store.db;
  const row = await db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Case');
  assertMaySee(actor, row.queue);
  const content =
    row.subject_type === 'content'
      ? await db.selectFrom('content').selectAll().where('id', '=', row.subject_id).executeTakeFirst()
      : undefined;
  const account = await getAccount(db, row.account_id).catch(() => null);
  const reports = await db
    .selectFrom('reports')
    .select(['id', 'category', 'explanation', 'source', 'weight', 'status', 'created_at'])
    .where('case_id', '=', id)
    .orderBy('created_at')
    .execute();
  return {
    ...toSummary(row, now),
    content: content ? toContentView(content) : null,
    account,
    // Reporter identities stay out of the case view: moderators judge the content.
    reports: reports.map((r) => ({
      id: r.id,
      category: r.category,
      explanation: r.explanation,
      source: r.source,
      weight: Number(r.weight),
      status: r.status,
      createdAt: iso(r.created_at),
    })),
    signals: content ? visibleSignals(ctx, actor, (await signalsOf(db, content.id))?.signals ?? []) : [],
    history: await caseHistory(db, id),
    violations: account ? await listViolations(ctx, row.account_id, now) : null,
  };
}

/** Gives one moderator an exclusive claim for the policy's claim time; 409 while another holds it. */
export async function claimCase(ctx: Context, actor: Actor, id: string, now = Date.now()): Promise<CaseSummary> {
  const minutes = ctx.policy.document.moderation.claimMinutes;
  return ctx.store.db.transaction().execute(async (tx) => {
    const row = await lockedCase(tx, id);
    assertMaySee(actor, row.queue);
    if (row.status !== 'open') throw new ConflictError('The case is closed.', { reason: 'case_closed' });
    if (row.claimed_by && row.claimed_by !== actor.id && Number(row.claim_expires_at) > now) {
      throw new ConflictError('Another moderator has claimed this case.', {
        reason: 'already_claimed',
        claimExpiresAt: iso(row.claim_expires_at!),
      });
    }
    const until = now + minutes * 60_000;
    await tx
      .updateTable('cases')
      .set({ claimed_by: actor.id, claim_expires_at: until, updated_at: now })
      .where('id', '=', id)
      .execute();
    await recordEvent(
      tx,
      actor,
      {
        type: 'case.claimed',
        caseId: id,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        accountId: row.account_id,
        payload: { until: iso(until) },
      },
      now,
    );
    await appendAudit(tx, actor, { action: 'case.claim', subjectType: 'case', subjectId: id }, now);
    return toSummary({ ...row, claimed_by: actor.id, claim_expires_at: until, updated_at: now }, now);
  });
}

/** Gives a claim up; only its holder may (or anyone once it has expired). */
export async function releaseCase(ctx: Context, actor: Actor, id: string, now = Date.now()): Promise<CaseSummary> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const row = await lockedCase(tx, id);
    assertMaySee(actor, row.queue);
    if (row.claimed_by && row.claimed_by !== actor.id && Number(row.claim_expires_at) > now) {
      throw new ConflictError('Another moderator holds the claim.', { reason: 'already_claimed' });
    }
    await tx
      .updateTable('cases')
      .set({ claimed_by: null, claim_expires_at: null, updated_at: now })
      .where('id', '=', id)
      .execute();
    await recordEvent(
      tx,
      actor,
      {
        type: 'case.released',
        caseId: id,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        accountId: row.account_id,
      },
      now,
    );
    return toSummary({ ...row, claimed_by: null, claim_expires_at: null, updated_at: now }, now);
  });
}

export function toSummary(r: Selectable<CaseTable>, now: number): CaseSummary {
  const claimed = r.claimed_by && Number(r.claim_expires_at) > now;
  return {
    id: r.id,
    subject: { type: r.subject_type, id: r.subject_id },
    accountId: r.account_id,
    status: r.status,
    queue: r.queue,
    category: r.category,
    language: r.language,
    public: r.is_public === 1,
    priority: r.status === 'open' ? priorityAt(Number(r.rank), now) : priorityAt(Number(r.rank), Number(r.closed_at)),
    reportCount: r.report_count,
    reporterCount: r.reporter_count,
    trustedFlagged: r.trusted_count > 0,
    proposedAction: r.proposed_action,
    claim: claimed ? { by: r.claimed_by!, until: iso(r.claim_expires_at!) } : null,
    decisionId: r.decision_id,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    closedAt: r.closed_at === null ? null : iso(r.closed_at),
  };
}

function iso(t: number): string {
  return new Date(Number(t)).toISOString();
}

function encodeCursor(rank: number, id: string): string {
  return Buffer.from(JSON.stringify([rank, id])).toString('base64url');
}

function decodeCursor(cursor: string): { rank: number; id: string } {
  try {
    const [rank, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof rank === 'number' && typeof id === 'string') return { rank, id };
  } catch {
    // fall through
  }
  throw new AppError('validation_failed', 'Invalid cursor.', [
    { path: '/querystring/cursor', code: 'invalid_cursor', message: 'use the next value of the previous page' },
  ]);
}
