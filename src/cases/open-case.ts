import { sql } from 'kysely';
import type { Tx } from '../db/database.js';
import { newId } from '../ids.js';
import type { Actor } from '../audit/actor.js';
import { needsRowLocks } from '../db/locking.js';
import { recordEvent } from '../moderation/events.js';
import type { CategoryDefinition, CategoryCode } from '../policy/policy.js';
import { rank } from './priority.js';

export interface CaseSubject {
  type: 'content' | 'account';
  id: string;
  accountId: string;
  isPublic: boolean;
  language: string | null;
}

/**
 * Opens a case on a subject for a machine finding (a scan), or raises the
 * subject's open case to the finding's category when that is more severe. The
 * partial unique index keeps one open case per subject even when two processes
 * race here.
 */
export async function openOrJoinCase(
  tx: Tx,
  actor: Actor,
  subject: CaseSubject,
  category: { code: CategoryCode; definition: CategoryDefinition },
  source: 'scan',
  payload: Record<string, unknown>,
  now: number,
): Promise<{ caseId: string; opened: boolean }> {
  const findOpen = () =>
    tx
      .selectFrom('cases')
      .selectAll()
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .where('status', '=', 'open')
      .$if(needsRowLocks(tx), (q) => q.forUpdate())
      .executeTakeFirst();
  let open = await findOpen();
  if (!open) {
    const caseId = newId('case');
    const severity = category.definition.severity;
    const inserted = await tx
      .insertInto('cases')
      .values({
        id: caseId,
        subject_type: subject.type,
        subject_id: subject.id,
        account_id: subject.accountId,
        status: 'open',
        queue: category.definition.queue ?? 'main',
        category: category.code,
        severity,
        language: subject.language,
        is_public: subject.isPublic ? 1 : 0,
        report_count: 0,
        reporter_count: 0,
        reporter_weight: 0,
        trusted_count: 0,
        proposed_action: null,
        rank: rank({ severity, reporterWeight: 0, trustedCount: 0, isPublic: subject.isPublic, proposed: false }, now),
        claimed_by: null,
        claim_expires_at: null,
        decision_id: null,
        created_at: now,
        updated_at: now,
        closed_at: null,
      })
      .onConflict((oc) => oc.columns(['subject_type', 'subject_id']).where('status', '=', sql.lit('open')).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
      const event = { caseId, subjectType: subject.type, subjectId: subject.id, accountId: subject.accountId };
      await recordEvent(tx, actor, { type: 'case.opened', ...event, payload: { source, ...payload } }, now);
      return { caseId, opened: true };
    }
    open = await findOpen();
    if (!open) throw new Error('open case vanished while joining it');
  }
  if (category.definition.severity > open.severity) {
    const severity = category.definition.severity;
    const inputs = {
      severity,
      reporterWeight: Number(open.reporter_weight),
      trustedCount: open.trusted_count,
      isPublic: open.is_public === 1,
      proposed: open.proposed_action !== null,
    };
    await tx
      .updateTable('cases')
      .set({
        severity,
        category: category.code,
        queue: category.definition.queue ?? open.queue,
        rank: rank(inputs, Number(open.created_at)),
        updated_at: now,
      })
      .where('id', '=', open.id)
      .execute();
  }
  return { caseId: open.id, opened: false };
}
