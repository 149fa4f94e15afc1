import crypto from 'node:crypto';
import type { Context } from '../context.js';
import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Insertable, Updateable } from 'kysely';
import type { Db, Tx } from '../db/database.js';
import { prepared } from '../db/prepared.js';
import type { CaseTable, ReportTable } from '../db/schema.js';
import { GroupCommit, type Unit } from '../db/group-commit.js';
import { AppError, NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { recordEvent } from '../moderation/events.js';
import { rank } from '../cases/priority.js';
import { findOpenCase, insertOpenCase } from '../cases/open-case.js';
import type { CategoryCode, CategoryDefinition } from '../policy/policy.js';

export type ReportSubject = { contentId: string } | { accountId: string };

export interface ReportInput {
  subject: ReportSubject;
  category: CategoryCode;
  explanation?: string;
  reporter?: { accountId?: string; email?: string };
}

export interface ReportReceipt {
  id: string;
  caseId: string;
  status: 'open';
  accessKey: string;
}

export interface ReportStatusView {
  id: string;
  status: 'open' | 'resolved';
  outcome: 'action_taken' | 'no_action' | null;
  category: string;
  createdAt: string;
  resolvedAt: string | null;
}

const HOUR = 3_600_000;
export const REPORTER_EMAIL_FIELD = 'reports.reporter_email';

/**
 * Files a report and folds it into the subject's open case (opening one if there
 * is none). Public reports are limited per client address and per subject in a
 * sliding hour, counted in the store so the limit holds across processes.
 * The reporter's identity is kept only as a keyed hash (for distinct counts and
 * the reporter's weight) and, for an e-mail, encrypted.
 */
export async function fileReport(
  ctx: Context,
  actor: Actor,
  input: ReportInput,
  clientAddress: string,
  now = Date.now(),
): Promise<ReportReceipt> {
  const category = ctx.policy.category(input.category);
  if (!category)
    throw new AppError('validation_failed', 'Unknown category.', [
      { path: '/category', code: 'unknown_category', message: 'not in the taxonomy' },
    ]);
  const source =
    actor.role === 'trusted_flagger' ? 'trusted_flagger' : actor.role === 'platform' ? 'platform' : 'public';
  const reporterKey = reporterKeyOf(ctx.cipher, reporterIdentity(actor, input, clientAddress));
  const clientKey = source === 'public' ? ctx.cipher.blindIndex('client', clientAddress) : null;
  const accessKey = crypto.randomBytes(24).toString('base64url');
  const reportId = newId('rep');
  const reporterEmailEnc = input.reporter?.email
    ? ctx.cipher.encrypt(REPORTER_EMAIL_FIELD, reportId, input.reporter.email)
    : null;
  const filing: Filing = {
    ctx,
    actor,
    input,
    now,
    category,
    source,
    reporterKey,
    clientKey,
    reportId,
    reporterEmailEnc,
    accessKeyHash: hashKey(accessKey),
  };
  const stored = await intakeFor(ctx).submit(filing);
  return { ...stored, accessKey };
}

interface Filing {
  ctx: Context;
  actor: Actor;
  input: ReportInput;
  now: number;
  category: CategoryDefinition;
  source: 'public' | 'platform' | 'trusted_flagger';
  reporterKey: string;
  clientKey: string | null;
  reportId: string;
  reporterEmailEnc: Buffer | null;
  accessKeyHash: string;
}

/**
 * Reports arrive in bursts and each is a handful of small writes: they are
 * committed in groups (see GroupCommit), one report per savepoint, so a
 * rejected report (unknown subject, rate limit) leaves the others untouched.
 */
const intakes = new WeakMap<Db, GroupCommit<Filing, Omit<ReportReceipt, 'accessKey'>>>();

function intakeFor(ctx: Context): GroupCommit<Filing, Omit<ReportReceipt, 'accessKey'>> {
  let intake = intakes.get(ctx.store.db);
  if (!intake) {
    intake = new GroupCommit(ctx.store.db, storeReport, {
      // PostgreSQL: a few batches overlap their round trips (connections are left for reads).
      concurrency: ctx.store.dialect === 'postgres' ? Math.max(1, Math.min(4, ctx.config.pgPoolSize - 2)) : 1,
      // Row locks (the subject's open case) in one order across batches: no deadlocks between them.
      orderBy: (f) =>
        'contentId' in f.input.subject ? `c:${f.input.subject.contentId}` : `a:${f.input.subject.accountId}`,
    });
    intakes.set(ctx.store.db, intake);
  }
  return intake;
}

async function storeReport(tx: Tx, filing: Filing, unit: Unit): Promise<Omit<ReportReceipt, 'accessKey'>> {
  const { ctx, actor, input, now, category, source, reporterKey, clientKey, reportId } = filing;
  const limits = ctx.policy.document.moderation.reports;
  const subject = await loadSubject(tx, input.subject);
  if (source === 'public') {
    const byClient = await tx
      .selectFrom('reports')
      .select(tx.fn.countAll<number>().as('n'))
      .where('client_key', '=', clientKey)
      .where('created_at', '>', now - HOUR)
      .executeTakeFirstOrThrow();
    if (Number(byClient.n) >= limits.publicPerAddressPerHour) {
      throw new AppError('rate_limited', 'Too many reports from this address; try again later.');
    }
    const bySubject = await tx
      .selectFrom('reports')
      .select(tx.fn.countAll<number>().as('n'))
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .where('source', '=', 'public')
      .where('created_at', '>', now - HOUR)
      .executeTakeFirstOrThrow();
    if (Number(bySubject.n) >= limits.publicPerSubjectPerHour) {
      throw new AppError('rate_limited', 'This subject has received many reports already; it is being reviewed.');
    }
  }
  const weight =
    source === 'trusted_flagger'
      ? limits.trustedFlaggerWeight
      : await reporterWeight(tx, reporterKey, limits.minimumReporterWeight);

  let open = await findOpenCase(tx, subject.type, subject.id);
  let caseId: string;
  if (!open) {
    const created = await insertOpenCase(
      tx,
      actor,
      {
        subject,
        category: { code: input.category, definition: category },
        reportCount: 1,
        reporterWeight: weight,
        trustedCount: source === 'trusted_flagger' ? 1 : 0,
        proposedAction: null,
      },
      'report',
      {},
      now,
    );
    if (created) caseId = created;
    // Another report opened the case between our look and our insert.
    else open = await findOpenCase(tx, subject.type, subject.id);
  }
  if (open) {
    caseId = open.id;
    const repeat = await repeatReport.first(tx, { caseId: open.id, reporterKey });
    const worse = category.severity > open.severity;
    const next = {
      severity: worse ? category.severity : open.severity,
      reporterWeight: Number(open.reporter_weight) + (repeat ? 0 : weight),
      trustedCount: open.trusted_count + (source === 'trusted_flagger' && !repeat ? 1 : 0),
      isPublic: open.is_public === 1,
      proposed: open.proposed_action !== null,
    };
    await updateJoinedCase.execute(tx, {
      id: open.id,
      report_count: open.report_count + 1,
      reporter_count: open.reporter_count + (repeat ? 0 : 1),
      reporter_weight: next.reporterWeight,
      trusted_count: next.trustedCount,
      severity: next.severity,
      category: worse ? input.category : open.category,
      queue: worse ? (category.queue ?? open.queue) : open.queue,
      rank: rank(next, Number(open.created_at)),
      updated_at: now,
    });
  }
  await insertReport.execute(tx, {
    id: reportId,
    case_id: caseId!,
    subject_type: subject.type,
    subject_id: subject.id,
    category: input.category,
    explanation: input.explanation ?? null,
    source,
    reporter_token_id: actor.role === 'public' ? null : actor.id,
    reporter_account_id: input.reporter?.accountId ?? null,
    reporter_email_enc: filing.reporterEmailEnc,
    reporter_key: reporterKey,
    client_key: clientKey,
    weight,
    access_key_hash: filing.accessKeyHash,
    status: 'open',
    outcome: null,
    created_at: now,
    resolved_at: null,
  });
  await recordEvent(
    tx,
    actor,
    {
      type: 'report.received',
      caseId: caseId!,
      subjectType: subject.type,
      subjectId: subject.id,
      accountId: subject.accountId,
      payload: { reportId, category: input.category, source, weight },
    },
    now,
  );
  const audit = {
    action: 'report.create',
    subjectType: 'report',
    subjectId: reportId,
    details: { caseId: caseId!, category: input.category, source },
  };
  // Last in the batch: the audit head is the one row every report writes.
  unit.defer((t) => appendAudit(t, actor, audit, now));
  return { id: reportId, caseId: caseId!, status: 'open' as const };
}

/** A report's status for whoever holds its access key; a wrong key is a 404, like a wrong id. */
export async function reportStatus(ctx: Context, id: string, accessKey: string): Promise<ReportStatusView> {
  const row = await ctx.store.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  const given = Buffer.from(hashKey(accessKey), 'hex');
  if (!row || !crypto.timingSafeEqual(given, Buffer.from(row.access_key_hash, 'hex')))
    throw new NotFoundError('Report');
  return {
    id: row.id,
    status: row.status,
    outcome: row.outcome as ReportStatusView['outcome'],
    category: row.category,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    resolvedAt: row.resolved_at === null ? null : new Date(Number(row.resolved_at)).toISOString(),
  };
}

function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

function reporterIdentity(actor: Actor, input: ReportInput, clientAddress: string): string {
  if (actor.role === 'trusted_flagger') return `tf:${actor.id}`;
  if (input.reporter?.accountId) return `acct:${input.reporter.accountId}`;
  if (input.reporter?.email) return `email:${input.reporter.email.trim().toLowerCase()}`;
  if (actor.role === 'platform') return `platform:${actor.id}`;
  return `addr:${clientAddress}`;
}

/**
 * The identity {@link reporterIdentity} hashed for a stored report, when the row
 * still holds it (a token, an account id, an e-mail decrypted by the caller);
 * null for a public report known only by its client address, which is not kept.
 * Key rotation recomputes `reporter_key` from it, so it must mirror
 * reporterIdentity case for case.
 */
export function storedReporterIdentity(row: {
  source: string;
  reporter_token_id: string | null;
  reporter_account_id: string | null;
  reporterEmail: string | null;
}): string | null {
  if (row.source === 'trusted_flagger') return row.reporter_token_id ? `tf:${row.reporter_token_id}` : null;
  if (row.reporter_account_id) return `acct:${row.reporter_account_id}`;
  if (row.reporterEmail !== null) return `email:${row.reporterEmail.trim().toLowerCase()}`;
  if (row.source === 'platform') return row.reporter_token_id ? `platform:${row.reporter_token_id}` : null;
  return null;
}

/** The keyed hash `reports.reporter_key` holds for a reporter identity. */
export function reporterKeyOf(cipher: PersonalDataCipher, identity: string): string {
  return cipher.blindIndex('reporter', identity);
}

/**
 * A reporter's weight falls as their reports are dismissed: (actioned + 1) /
 * (actioned + dismissed + 1), i.e. Laplace's rule of succession on "this
 * reporter's reports lead to action", floored so nobody is silenced entirely.
 */
async function reporterWeight(tx: Tx, reporterKey: string, floor: number): Promise<number> {
  const stats = await reporterStats.first(tx, { reporterKey });
  if (!stats) return 1;
  return Math.max(floor, Math.min(1, (stats.actioned + 1) / (stats.actioned + stats.dismissed + 1)));
}

export interface Subject {
  type: 'content' | 'account';
  id: string;
  accountId: string;
  isPublic: boolean;
  language: string | null;
}

/** The reported thing, or 404 `not_found` when the platform never sent it. */
export async function loadSubject(tx: Tx, subject: ReportSubject): Promise<Subject> {
  if ('contentId' in subject) {
    const c = await contentSubject.first(tx, { id: subject.contentId });
    if (!c) throw new AppError('not_found', 'No such content.', { subject: 'contentId' });
    return { type: 'content', id: c.id, accountId: c.account_id, isPublic: c.is_public === 1, language: c.language };
  }
  const a = await accountSubject.first(tx, { id: subject.accountId });
  if (!a) throw new AppError('not_found', 'No such account.', { subject: 'accountId' });
  return { type: 'account', id: a.id, accountId: a.id, isPublic: false, language: null };
}

// The statements of a report, prepared once (see db/prepared.ts): they run for every report.

const contentSubject = prepared(['id'], (db, p: { id: string }) =>
  db.selectFrom('content').select(['id', 'account_id', 'is_public', 'language']).where('id', '=', p.id),
);

const accountSubject = prepared(['id'], (db, p: { id: string }) =>
  db.selectFrom('accounts').select(['id']).where('id', '=', p.id),
);

const reporterStats = prepared(['reporterKey'], (db, p: { reporterKey: string }) =>
  db.selectFrom('reporter_stats').selectAll().where('reporter_key', '=', p.reporterKey),
);

const repeatReport = prepared(['caseId', 'reporterKey'], (db, p: { caseId: string; reporterKey: string }) =>
  db.selectFrom('reports').select('id').where('case_id', '=', p.caseId).where('reporter_key', '=', p.reporterKey),
);

const updateJoinedCase = prepared(
  [
    'id',
    'report_count',
    'reporter_count',
    'reporter_weight',
    'trusted_count',
    'severity',
    'category',
    'queue',
    'rank',
    'updated_at',
  ],
  (db, { id, ...changes }: Updateable<CaseTable> & { id: string }) =>
    db.updateTable('cases').set(changes).where('id', '=', id),
);

const insertReport = prepared(
  [
    'id',
    'case_id',
    'subject_type',
    'subject_id',
    'category',
    'explanation',
    'source',
    'reporter_token_id',
    'reporter_account_id',
    'reporter_email_enc',
    'reporter_key',
    'client_key',
    'weight',
    'access_key_hash',
    'status',
    'outcome',
    'created_at',
    'resolved_at',
  ],
  (db, row: Insertable<ReportTable>) => db.insertInto('reports').values(row),
);
