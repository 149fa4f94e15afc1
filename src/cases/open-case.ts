import { type Insertable, type Selectable, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Tx } from '../db/database.js';
import type { CaseTable } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import type { Actor } from '../audit/actor.js';
import { needsRowLocks } from '../db/locking.js';
import { recordEvent } from '../moderation/events.js';
import type { CategoryCode, CategoryDefinition } from '../policy/policy.js';
import { rank } from './priority.js';

export interface CaseSubject {
  type: 'content' | 'account';
  id: string;
  accountId: string;
  isPublic: boolean;
  language: string | null;
}

export interface CaseCategory {
  code: CategoryCode;
  definition: CategoryDefinition;
}

/** The subject's open case (one index probe), locked for the rest of the transaction on PostgreSQL. */
export function findOpenCase(
  tx: Tx,
  type: 'content' | 'account',
  id: string,
): Promise<Selectable<CaseTable> | undefined> {
  return openCaseOf.first(tx, { type, id });
}

const openCaseOf = prepared(['type', 'id'], (db, p: { type: 'content' | 'account'; id: string }) =>
  db
    .selectFrom('cases')
    .selectAll()
    .where('subject_type', '=', p.type)
    .where('subject_id', '=', p.id)
    // A literal, not a parameter: only then can SQLite use the partial index
    // `cases_one_open` (its WHERE must match the query's); with `status = ?` it
    // walked every open case, which at a million open cases is a second per report.
    .where('status', '=', sql.lit('open'))
    .$if(needsRowLocks(db), (q) => q.forUpdate()),
);

/** A case by id, locked for the rest of the transaction on PostgreSQL; 404 when there is none. */
export async function lockedCase(tx: Tx, id: string): Promise<Selectable<CaseTable>> {
  const row = await tx
    .selectFrom('cases')
    .selectAll()
    .where('id', '=', id)
    .$if(needsRowLocks(tx), (q) => q.forUpdate())
    .executeTakeFirst();
  if (!row) throw new NotFoundError('Case');
  return row;
}

export interface NewCase {
  subject: CaseSubject;
  category: CaseCategory;
  reportCount: number;
  reporterWeight: number;
  trustedCount: number;
  proposedAction: string | null;
}

/**
 * Inserts an open case and records `case.opened`. Returns its id, or null when
 * another transaction opened the subject's case first (the partial unique index
 * keeps one open case per subject): the caller then joins that one.
 */
export async function insertOpenCase(
  tx: Tx,
  actor: Actor,
  c: NewCase,
  source: 'report' | 'scan' | 'strikes',
  payload: Record<string, unknown>,
  now: number,
): Promise<string | null> {
  const id = newId('case');
  const severity = c.category.definition.severity;
  const inputs = {
    severity,
    reporterWeight: c.reporterWeight,
    trustedCount: c.trustedCount,
    isPublic: c.subject.isPublic,
    proposed: c.proposedAction !== null,
  };
  const inserted = await insertCase.execute(tx, {
    id,
    subject_type: c.subject.type,
    subject_id: c.subject.id,
    account_id: c.subject.accountId,
    status: 'open',
    queue: c.category.definition.queue ?? 'main',
    category: c.category.code,
    severity,
    language: c.subject.language,
    is_public: c.subject.isPublic ? 1 : 0,
    report_count: c.reportCount,
    reporter_count: c.reportCount,
    reporter_weight: c.reporterWeight,
    trusted_count: c.trustedCount,
    proposed_action: c.proposedAction,
    rank: rank(inputs, now),
    claimed_by: null,
    claim_expires_at: null,
    decision_id: null,
    created_at: now,
    updated_at: now,
    closed_at: null,
    opened_by: source,
  });
  if (Number(inserted.numAffectedRows ?? 0) !== 1) return null;
  const subject = { caseId: id, subjectType: c.subject.type, subjectId: c.subject.id, accountId: c.subject.accountId };
  await recordEvent(tx, actor, { type: 'case.opened', ...subject, payload: { source, ...payload } }, now);
  return id;
}

const CASE_COLUMNS = [
  'id',
  'subject_type',
  'subject_id',
  'account_id',
  'status',
  'queue',
  'category',
  'severity',
  'language',
  'is_public',
  'report_count',
  'reporter_count',
  'reporter_weight',
  'trusted_count',
  'proposed_action',
  'rank',
  'claimed_by',
  'claim_expires_at',
  'decision_id',
  'created_at',
  'updated_at',
  'closed_at',
  'opened_by',
] as const satisfies readonly (keyof CaseTable)[];

const insertCase = prepared(CASE_COLUMNS, (db, row: Insertable<CaseTable>) =>
  db
    .insertInto('cases')
    .values(row)
    .onConflict((oc) => oc.columns(['subject_type', 'subject_id']).where('status', '=', sql.lit('open')).doNothing()),
);

/** Raises an open case to a more severe category (and re-ranks it); no change otherwise. */
export async function raiseCase(
  tx: Tx,
  open: Selectable<CaseTable>,
  category: CaseCategory,
  now: number,
): Promise<void> {
  if (category.definition.severity <= open.severity) return;
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

/**
 * Opens a case on a subject for a machine finding (a scan), or raises the
 * subject's open case to the finding's category when that is more severe.
 */
export async function openOrJoinCase(
  tx: Tx,
  actor: Actor,
  subject: CaseSubject,
  category: CaseCategory,
  source: 'scan',
  payload: Record<string, unknown>,
  now: number,
): Promise<{ caseId: string; opened: boolean }> {
  let open = await findOpenCase(tx, subject.type, subject.id);
  if (!open) {
    const nc = { subject, category, reportCount: 0, reporterWeight: 0, trustedCount: 0, proposedAction: null };
    const caseId = await insertOpenCase(tx, actor, nc, source, payload, now);
    if (caseId) return { caseId, opened: true };
    open = await findOpenCase(tx, subject.type, subject.id);
    if (!open) throw new Error('open case vanished while joining it');
  }
  await raiseCase(tx, open, category, now);
  return { caseId: open.id, opened: false };
}
