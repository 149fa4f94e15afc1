import type { Selectable } from 'kysely';
import { disableHashesFrom } from '../hashes/banks.js';
import type { AppealTable } from '../db/schema.js';
import type { Context } from '../context.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { recordEvent } from '../moderation/events.js';
import { enqueueWebhook } from '../webhooks/outbox.js';
import { recomputeAccountStatus, recomputeContentState } from '../decisions/enforcement.js';
import { needsRowLocks } from '../db/locking.js';

export interface AppealView {
  id: string;
  decisionId: string;
  accountId: string;
  text: string;
  status: 'open' | 'upheld' | 'overturned';
  decidedBy: string;
  filedAt: string;
  resolvedBy: string | null;
  resolution: string | null;
  resolvedAt: string | null;
}

/**
 * The platform files an appeal on the account's behalf, within the policy's
 * window and once per decision. A dismissal restricted nothing, so there is
 * nothing to appeal.
 */
export async function fileAppeal(
  ctx: Context,
  actor: Actor,
  decisionId: string,
  text: string,
  now = Date.now(),
): Promise<AppealView> {
  const windowDays = ctx.policy.document.moderation.appealWindowDays;
  return ctx.store.db.transaction().execute(async (tx) => {
    const d = await tx
      .selectFrom('decisions')
      .selectAll()
      .where('id', '=', decisionId)
      .$if(needsRowLocks(tx), (q) => q.forUpdate())
      .executeTakeFirst();
    if (!d) throw new NotFoundError('Decision');
    if (d.statement === null) {
      throw new AppError('validation_failed', 'A dismissal cannot be appealed by the account.', [
        { path: '/', code: 'nothing_to_appeal', message: 'the decision restricted nothing' },
      ]);
    }
    if (d.status !== 'in_effect')
      throw new ConflictError('The decision has already been reversed.', { reason: 'already_reversed' });
    if (now - Number(d.created_at) > windowDays * 86_400_000) {
      throw new AppError('validation_failed', `Appeals are accepted for ${windowDays} days after a decision.`, [
        { path: '/', code: 'appeal_window_closed', message: `the ${windowDays}-day appeal window has closed` },
      ]);
    }
    const existing = await tx
      .selectFrom('appeals')
      .select('id')
      .where('decision_id', '=', decisionId)
      .executeTakeFirst();
    if (existing)
      throw new ConflictError('This decision has already been appealed.', {
        reason: 'already_appealed',
        appealId: existing.id,
      });
    const id = newId('apl');
    await tx
      .insertInto('appeals')
      .values({
        id,
        decision_id: decisionId,
        account_id: d.account_id,
        text,
        status: 'open',
        decided_by: d.decided_by,
        filed_at: now,
        resolved_by: null,
        resolution: null,
        resolved_at: null,
      })
      .onConflict((oc) => oc.column('decision_id').doNothing())
      .execute();
    await recordEvent(
      tx,
      actor,
      {
        type: 'appeal.filed',
        caseId: d.case_id,
        subjectType: d.subject_type,
        subjectId: d.subject_id,
        accountId: d.account_id,
        payload: { appealId: id, decisionId },
      },
      now,
    );
    await appendAudit(
      tx,
      actor,
      { action: 'appeal.file', subjectType: 'appeal', subjectId: id, details: { decisionId } },
      now,
    );
    const row = await tx.selectFrom('appeals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return toAppealView(row);
  });
}

/** The appeals queue for one moderator: open appeals on decisions somebody else made. */
export async function listAppeals(
  ctx: Context,
  actor: Actor,
  status: 'open' | 'upheld' | 'overturned',
  limit: number,
): Promise<AppealView[]> {
  const rows = await ctx.store.db
    .selectFrom('appeals')
    .selectAll()
    .where('status', '=', status)
    .where('decided_by', '!=', actor.id)
    .orderBy('filed_at')
    .limit(limit)
    .execute();
  return rows.map(toAppealView);
}

/**
 * Resolves an appeal. Only a moderator other than the one who decided may. An
 * overturn reverses the decision: content and account states are recomputed, the
 * violation and its strike are removed, and the platform is told.
 */
export async function resolveAppeal(
  ctx: Context,
  actor: Actor,
  appealId: string,
  input: { outcome: 'upheld' | 'overturned'; explanation: string },
  now = Date.now(),
): Promise<AppealView> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const a = await tx
      .selectFrom('appeals')
      .selectAll()
      .where('id', '=', appealId)
      .$if(needsRowLocks(tx), (q) => q.forUpdate())
      .executeTakeFirst();
    if (!a) throw new NotFoundError('Appeal');
    if (a.decided_by === actor.id)
      throw new ForbiddenError('An appeal is reviewed by a moderator other than the one who decided.');
    if (a.status !== 'open') throw new ConflictError('The appeal is already resolved.', { reason: 'appeal_resolved' });
    const d = await tx.selectFrom('decisions').selectAll().where('id', '=', a.decision_id).executeTakeFirstOrThrow();
    await tx
      .updateTable('appeals')
      .set({ status: input.outcome, resolved_by: actor.id, resolution: input.explanation, resolved_at: now })
      .where('id', '=', appealId)
      .execute();
    if (input.outcome === 'overturned') {
      await tx.updateTable('decisions').set({ status: 'reversed', reversed_at: now }).where('id', '=', d.id).execute();
      await tx
        .updateTable('violations')
        .set({ status: 'overturned', overturned_at: now })
        .where('decision_id', '=', d.id)
        .execute();
      if (d.subject_type === 'content') await recomputeContentState(tx, d.subject_id);
      await disableHashesFrom(tx, actor, `decision:${d.id}`, now);
      const account = await recomputeAccountStatus(tx, d.account_id, now);
      await enqueueWebhook(
        tx,
        'decision.reversed',
        {
          decisionId: d.id,
          appealId,
          accountId: d.account_id,
          ...(d.subject_type === 'content' ? { contentId: d.subject_id } : {}),
          accountStatus: account.status,
          explanation: input.explanation,
        },
        now,
      );
      await recordEvent(
        tx,
        actor,
        {
          type: 'decision.reversed',
          caseId: d.case_id,
          subjectType: d.subject_type,
          subjectId: d.subject_id,
          accountId: d.account_id,
          payload: { appealId, decisionId: d.id },
        },
        now,
      );
    } else {
      await recordEvent(
        tx,
        actor,
        {
          type: 'appeal.upheld',
          caseId: d.case_id,
          subjectType: d.subject_type,
          subjectId: d.subject_id,
          accountId: d.account_id,
          payload: { appealId, decisionId: d.id },
        },
        now,
      );
    }
    await enqueueWebhook(
      tx,
      'appeal.resolved',
      { appealId, decisionId: d.id, accountId: d.account_id, outcome: input.outcome, explanation: input.explanation },
      now,
    );
    await appendAudit(
      tx,
      actor,
      {
        action: 'appeal.resolve',
        subjectType: 'appeal',
        subjectId: appealId,
        details: { outcome: input.outcome, decisionId: d.id },
      },
      now,
    );
    const row = await tx.selectFrom('appeals').selectAll().where('id', '=', appealId).executeTakeFirstOrThrow();
    return toAppealView(row);
  });
}

function toAppealView(r: Selectable<AppealTable>): AppealView {
  const iso = (t: number) => new Date(Number(t)).toISOString();
  return {
    id: r.id,
    decisionId: r.decision_id,
    accountId: r.account_id,
    text: r.text,
    status: r.status as AppealView['status'],
    decidedBy: r.decided_by,
    filedAt: iso(r.filed_at),
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    resolvedAt: r.resolved_at === null ? null : iso(r.resolved_at),
  };
}
