import { SYSTEM_ACTOR } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { Context } from '../context.js';
import { enqueueWebhook } from '../webhooks/outbox.js';
import { recordEvent } from './events.js';
import { OPEN_STATUSES } from './service.js';

const ACTOR = SYSTEM_ACTOR('legal-deadlines');
const BATCH = 100;

/**
 * Warns about deadlines: `legal.deadline_near` once an open order is within its
 * type's warning time of its deadline, `legal.overdue` once it is past it; each
 * at most once per order (the mark is set in the transaction that queues the
 * webhook, so a restart neither loses nor repeats one). Emergency orders approved
 * by one senior member alone also count as open until the owed second approval.
 */
export async function raiseDeadlineWarnings(
  ctx: Context,
  now = Date.now(),
): Promise<{ near: number; overdue: number }> {
  const db = ctx.store.db;
  const policy = ctx.disclosure;
  let near = 0;
  let overdue = 0;
  const candidates = await db
    .selectFrom('legal_requests')
    .select([
      'id',
      'type',
      'status',
      'due_at',
      'authority_id',
      'deadline_warned_at',
      'overdue_warned_at',
      'second_approval_owed',
    ])
    .where((eb) =>
      eb.or([
        eb('status', 'in', [...OPEN_STATUSES]),
        eb.and([eb('status', '=', 'disclosed'), eb('second_approval_owed', '=', 1)]),
      ]),
    )
    .where((eb) => eb.or([eb('deadline_warned_at', 'is', null), eb('overdue_warned_at', 'is', null)]))
    .orderBy('due_at')
    .limit(BATCH)
    .execute();
  for (const c of candidates) {
    const due = Number(c.due_at);
    const warnAt = due - policy.deadlines[c.type as keyof typeof policy.deadlines].warnMs;
    const kind =
      now >= due && c.overdue_warned_at === null
        ? 'overdue'
        : now >= warnAt && c.deadline_warned_at === null
          ? 'near'
          : null;
    if (!kind) continue;
    await db.transaction().execute(async (tx) => {
      const column = kind === 'overdue' ? 'overdue_warned_at' : 'deadline_warned_at';
      // Claim the warning: only the transaction that sets the mark sends it.
      const claimed = await tx
        .updateTable('legal_requests')
        .set({
          [column]: now,
          ...(kind === 'overdue' && c.deadline_warned_at === null ? { deadline_warned_at: now } : {}),
        })
        .where('id', '=', c.id)
        .where(column, 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) return;
      const event = kind === 'overdue' ? 'legal.overdue' : 'legal.deadline_near';
      const data = {
        requestId: c.id,
        type: c.type,
        status: c.status,
        dueAt: new Date(due).toISOString(),
        secondApprovalOwed: c.second_approval_owed === 1,
      };
      await enqueueWebhook(tx, event, data, now);
      await recordEvent(tx, ACTOR, c.id, event, c.status, data, now);
      await appendAudit(
        tx,
        ACTOR,
        { action: event, subjectType: 'legal_request', subjectId: c.id, details: data },
        now,
      );
    });
    if (kind === 'overdue') overdue++;
    else near++;
  }
  return { near, overdue };
}

/**
 * Tells affected accounts that their data was disclosed, through the platform webhook
 * (`account.data_disclosed`), once the order's non-disclosure date has passed (or at
 * once when it set none and the policy says to notify). Driven by `notice_due_at` in
 * the store, so a notice due while the process was down goes out after the restart.
 */
export async function sendUserNotices(ctx: Context, now = Date.now()): Promise<number> {
  const db = ctx.store.db;
  const due = await db
    .selectFrom('legal_targets')
    .innerJoin('legal_requests', 'legal_requests.id', 'legal_targets.request_id')
    .innerJoin('authorities', 'authorities.id', 'legal_requests.authority_id')
    .select([
      'legal_targets.id as target_id',
      'legal_targets.account_id',
      'legal_requests.id as request_id',
      'legal_requests.data_categories',
      'legal_requests.disclosed_at',
      'legal_requests.offence_category',
      'authorities.country',
      'authorities.kind',
    ])
    .where('legal_targets.notice_due_at', '<=', now)
    .where('legal_targets.notified_at', 'is', null)
    .where('legal_requests.status', '=', 'disclosed')
    .limit(BATCH)
    .execute();
  let sent = 0;
  for (const n of due) {
    await db.transaction().execute(async (tx) => {
      const claimed = await tx
        .updateTable('legal_targets')
        .set({ notified_at: now })
        .where('id', '=', n.target_id)
        .where('notified_at', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) return;
      const data = {
        accountId: n.account_id,
        requestId: n.request_id,
        // What an account may know: that data was disclosed, which categories, to what kind of authority where.
        dataCategories: JSON.parse(n.data_categories) as string[],
        authority: { country: n.country, kind: n.kind },
        offence: n.offence_category,
        disclosedAt: new Date(Number(n.disclosed_at)).toISOString(),
      };
      await enqueueWebhook(tx, 'account.data_disclosed', data, now);
      await appendAudit(
        tx,
        SYSTEM_ACTOR('user-notice'),
        {
          action: 'legal_request.user_notified',
          subjectType: 'account',
          subjectId: n.account_id ?? '',
          details: { requestId: n.request_id },
        },
        now,
      );
      sent++;
    });
  }
  return sent;
}
