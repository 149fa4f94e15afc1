import type { Insertable } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import { prepared } from '../db/prepared.js';
import type { ModerationEventTable } from '../db/schema.js';
import { newSortableId } from '../ids.js';
import type { Actor } from '../audit/actor.js';

export type ModerationEventType =
  | 'report.received'
  | 'case.opened'
  | 'case.claimed'
  | 'case.released'
  | 'decision.made'
  | 'strikes.threshold'
  | 'appeal.filed'
  | 'appeal.upheld'
  | 'decision.reversed';

export interface ModerationEventView {
  id: string;
  type: string;
  actor: { id: string; role: string };
  at: string;
  payload: Record<string, unknown>;
}

/**
 * Appends to the moderation event log. Case, account and violation state are
 * projections of this log, updated in the same transaction; the log is never
 * updated or deleted.
 */
export async function recordEvent(
  tx: Tx | Db,
  actor: Actor,
  event: {
    type: ModerationEventType;
    caseId: string | null;
    subjectType: string;
    subjectId: string;
    accountId: string;
    payload?: Record<string, unknown>;
  },
  now = Date.now(),
): Promise<void> {
  await insertEvent.execute(tx, {
    id: newSortableId('evt'),
    case_id: event.caseId,
    subject_type: event.subjectType,
    subject_id: event.subjectId,
    account_id: event.accountId,
    type: event.type,
    actor_id: actor.id,
    actor_role: actor.role,
    payload: JSON.stringify(event.payload ?? {}),
    created_at: now,
  });
}

const insertEvent = prepared(
  [
    'id',
    'case_id',
    'subject_type',
    'subject_id',
    'account_id',
    'type',
    'actor_id',
    'actor_role',
    'payload',
    'created_at',
  ],
  (db, row: Insertable<ModerationEventTable>) => db.insertInto('moderation_events').values(row),
);

export async function caseHistory(db: Db | Tx, caseId: string): Promise<ModerationEventView[]> {
  const rows = await db
    .selectFrom('moderation_events')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    actor: { id: r.actor_id, role: r.actor_role },
    at: new Date(Number(r.created_at)).toISOString(),
    payload: JSON.parse(r.payload) as Record<string, unknown>,
  }));
}
