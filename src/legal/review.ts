import type { Actor } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { Context } from '../context.js';
import type { Tx } from '../db/database.js';
import { isUniqueViolation } from '../db/store-errors.js';
import { AppError, ConflictError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { DISCLOSABLE_DATA } from './disclosure-policy.js';
import { recordEvent } from './events.js';
import { type LegalStatus, lockRequest, requireOwnRequest } from './service.js';
import { produceDisclosure } from './disclosure.js';

export interface ReviewInput {
  decision: 'approve' | 'reject' | 'narrow';
  /** Why (required to reject or narrow); shown to the authority as the reasons of a rejection. */
  reasons?: string[];
  /** Internal to the legal team; never shown to the authority. */
  note?: string;
  narrowTo?: {
    /** Positions of targets to keep (a subset of those still included). */
    targets?: number[];
    period?: { from: string; to: string };
    data?: string[];
  };
}

/** A legal member who may approve an emergency order alone, and whom an extra-review order needs. */
const SENIOR = 'legal_senior';
const DAY = 86_400_000;

/**
 * One legal member's review of an order in review (four eyes):
 * - `approve`: two different members must approve the same round; the same member
 *   twice is a 409. An emergency order may be approved by one senior member alone,
 *   the second approval then owed and tracked. An order flagged for extra review
 *   needs a senior member among its two approvers.
 * - `reject` ends the order with reasons.
 * - `narrow` keeps fewer targets, a shorter period or fewer data categories, and
 *   starts a new round: approvals given before count no more.
 * When the approvals are complete a production or emergency order is disclosed (its
 * package built) and a preservation order preserved, right away.
 */
export async function reviewLegalRequest(ctx: Context, actor: Actor, id: string, input: ReviewInput, now = Date.now()) {
  const policy = ctx.disclosure;
  if ((input.decision === 'reject' || input.decision === 'narrow') && !input.reasons?.length) {
    throw new ValidationError([
      { path: '/reasons', code: 'missing_field', message: `a ${input.decision} needs reasons` },
    ]);
  }
  if (input.decision === 'narrow' && !input.narrowTo) {
    throw new ValidationError([{ path: '/narrowTo', code: 'missing_field', message: 'say what to narrow to' }]);
  }
  if (input.decision !== 'narrow' && input.narrowTo) {
    throw new ValidationError([{ path: '/narrowTo', code: 'not_allowed', message: 'only a narrow takes narrowTo' }]);
  }
  let next: LegalStatus | null = null;
  try {
    await ctx.store.db.transaction().execute(async (tx) => {
      const row = await lockRequest(tx, id);
      const owedSecond = row.status === 'disclosed' && row.second_approval_owed === 1;
      if (row.status !== 'in_review' && !(owedSecond && input.decision !== 'narrow')) {
        throw new ConflictError(`The order is ${row.status}; only orders in review can be reviewed.`, {
          status: row.status,
        });
      }
      const earlier = await tx
        .selectFrom('legal_reviews')
        .select(['reviewer_id', 'reviewer_role', 'decision'])
        .where('request_id', '=', id)
        .where('round', '=', row.round)
        .execute();
      if (earlier.some((r) => r.reviewer_id === actor.id)) {
        throw new ConflictError('You have already reviewed this order: a second member of the legal team must.', {
          reason: 'same_reviewer',
        });
      }
      let narrowed: Record<string, unknown> | null = null;
      if (input.decision === 'narrow') narrowed = await narrow(tx, id, row, input.narrowTo!, now);
      await tx
        .insertInto('legal_reviews')
        .values({
          id: newId('lrr'),
          request_id: id,
          round: row.round,
          reviewer_id: actor.id,
          reviewer_role: actor.role,
          decision: input.decision,
          reasons: JSON.stringify(input.reasons ?? []),
          note: input.note ?? null,
          narrowed: narrowed ? JSON.stringify(narrowed) : null,
          policy_version: policy.version,
          at: now,
        })
        .execute();

      let status = row.status as LegalStatus;
      let type = `review.${input.decision}`;
      const set: Record<string, number | string | null> = { updated_at: now };
      if (owedSecond) {
        // The owed second look at an emergency disclosure: recorded either way; a
        // rejection cannot recall the package, so it is flagged for the record.
        set.second_approval_owed = 0;
        type = input.decision === 'approve' ? 'emergency.second_approval' : 'emergency.second_review_rejected';
      } else if (input.decision === 'reject') {
        status = 'rejected';
        set.decided_at = now;
      } else if (input.decision === 'narrow') {
        set.round = row.round + 1;
      } else {
        const approvals = earlier.filter((r) => r.decision === 'approve');
        const seniors = [...approvals, { reviewer_role: actor.role }].filter((r) => r.reviewer_role === SENIOR).length;
        const alone = row.type === 'emergency' && actor.role === SENIOR && approvals.length === 0;
        if (approvals.length >= 1 || alone) {
          if (row.extra_review === 1 && seniors === 0) {
            throw new ConflictError('This order needs the extra review: one of its two approvers must be senior.', {
              reason: 'senior_approval_required',
            });
          }
          status = 'approved';
          set.decided_at = now;
          if (alone) set.second_approval_owed = 1;
        }
      }
      set.status = status;
      await tx.updateTable('legal_requests').set(set).where('id', '=', id).execute();
      await recordEvent(tx, actor, id, type, status, { round: row.round, reasons: input.reasons ?? [] }, now);
      if (status === 'approved' && !owedSecond) {
        await recordEvent(
          tx,
          actor,
          id,
          'approved',
          status,
          { secondApprovalOwed: set.second_approval_owed === 1 },
          now,
        );
      }
      await appendAudit(
        tx,
        actor,
        {
          action: `legal_request.${type}`,
          subjectType: 'legal_request',
          subjectId: id,
          details: { round: row.round, status, narrowed, policyVersion: policy.version },
        },
        now,
      );
      next = status;
    });
  } catch (error) {
    // Two submissions by the same member racing: the store's unique index decides.
    if (isUniqueViolation(error)) {
      throw new ConflictError('You have already reviewed this order: a second member of the legal team must.', {
        reason: 'same_reviewer',
      });
    }
    throw error;
  }
  if (next === 'approved') {
    try {
      await produceDisclosure(ctx, id, now);
    } catch (err) {
      // The approval stands; the `legal` job builds the package on its next round.
      ctx.logger.error({ err, requestId: id }, 'disclosure after approval failed; left approved for the legal job');
    }
  }
}

/** Applies a narrowing; refuses one that widens or changes nothing. */
async function narrow(
  tx: Tx,
  id: string,
  row: { period_from: number; period_to: number; data_categories: string },
  to: NonNullable<ReviewInput['narrowTo']>,
  now: number,
): Promise<Record<string, unknown>> {
  const problems: { path: string; code: string; message: string }[] = [];
  const set: Record<string, number | string> = {};
  const narrowed: Record<string, unknown> = {};
  const targets = await tx
    .selectFrom('legal_targets')
    .select(['id', 'position', 'status'])
    .where('request_id', '=', id)
    .execute();
  const included = targets.filter((t) => t.status === 'included');
  let removeIds: string[] = [];
  if (to.targets) {
    const keep = new Set(to.targets);
    const unknown = to.targets.filter((p) => !included.some((t) => t.position === p));
    if (unknown.length > 0) {
      problems.push({
        path: '/narrowTo/targets',
        code: 'not_included',
        message: `positions ${unknown.join(', ')} are not in the order`,
      });
    } else if (keep.size === 0) {
      problems.push({ path: '/narrowTo/targets', code: 'empty', message: 'keep at least one target (or reject)' });
    } else if (keep.size < included.length) {
      removeIds = included.filter((t) => !keep.has(t.position)).map((t) => t.id);
      narrowed.targets = [...keep].sort((a, b) => a - b);
    }
  }
  if (to.period) {
    const from = Date.parse(to.period.from);
    const until = Date.parse(to.period.to);
    if (!Number.isFinite(from) || !Number.isFinite(until) || until <= from) {
      problems.push({
        path: '/narrowTo/period',
        code: 'invalid_period',
        message: 'from and to must be dates, from first',
      });
    } else if (from < Number(row.period_from) || until > Number(row.period_to)) {
      problems.push({
        path: '/narrowTo/period',
        code: 'widens',
        message: 'a narrowed period must lie inside the current one',
      });
    } else if (from > Number(row.period_from) || until < Number(row.period_to)) {
      set.period_from = from;
      set.period_to = until;
      narrowed.period = { from: new Date(from).toISOString(), to: new Date(until).toISOString() };
      narrowed.days = Math.ceil((until - from) / DAY);
    }
  }
  if (to.data) {
    const current = JSON.parse(row.data_categories) as string[];
    const bad = to.data.filter((d) => !current.includes(d) || !(DISCLOSABLE_DATA as readonly string[]).includes(d));
    if (bad.length > 0) {
      problems.push({ path: '/narrowTo/data', code: 'widens', message: `${bad.join(', ')} is not in the order` });
    } else if (to.data.length === 0) {
      problems.push({ path: '/narrowTo/data', code: 'empty', message: 'keep at least one data category (or reject)' });
    } else if (new Set(to.data).size < current.length) {
      set.data_categories = JSON.stringify(current.filter((d) => to.data!.includes(d)));
      narrowed.data = JSON.parse(set.data_categories as string);
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  if (Object.keys(narrowed).length === 0) {
    throw new ValidationError([
      { path: '/narrowTo', code: 'not_narrower', message: 'changes nothing: narrow something or approve' },
    ]);
  }
  if (removeIds.length > 0) {
    await tx
      .updateTable('legal_targets')
      .set({ status: 'removed', reasons: JSON.stringify(['narrowed']) })
      .where('id', 'in', removeIds)
      .execute();
  }
  if (Object.keys(set).length > 0)
    await tx
      .updateTable('legal_requests')
      .set({ ...set, updated_at: now })
      .where('id', '=', id)
      .execute();
  return narrowed;
}

/** The authority withdraws its own order before anything was disclosed (or releases its preservation). */
export async function withdrawLegalRequest(ctx: Context, actor: Actor, id: string, now = Date.now()) {
  await ctx.store.db.transaction().execute(async (tx) => {
    await requireOwnRequest(tx, actor, id);
    const row = await lockRequest(tx, id);
    if (!['received', 'in_review', 'approved', 'preserved'].includes(row.status) || row.consumed_by !== null) {
      throw new ConflictError(`The order is ${row.status}; it can no longer be withdrawn.`, { status: row.status });
    }
    await tx
      .updateTable('legal_requests')
      .set({ status: 'withdrawn', decided_at: row.decided_at ?? now, updated_at: now })
      .where('id', '=', id)
      .execute();
    // A withdrawn preservation lets the retention purge take the held data again.
    await tx.deleteFrom('preservations').where('source', '=', `legal:${id}`).execute();
    await recordEvent(tx, actor, id, 'withdrawn', 'withdrawn', { from: row.status }, now);
    await appendAudit(
      tx,
      actor,
      { action: 'legal_request.withdraw', subjectType: 'legal_request', subjectId: id, details: { from: row.status } },
      now,
    );
  });
}

/** Extends a preservation once, by the policy's extension, on the authority's request. */
export async function extendPreservation(ctx: Context, actor: Actor, id: string, now = Date.now()) {
  const policy = ctx.disclosure;
  await ctx.store.db.transaction().execute(async (tx) => {
    await requireOwnRequest(tx, actor, id);
    const row = await lockRequest(tx, id);
    if (row.type !== 'preservation' || row.status !== 'preserved' || row.consumed_by !== null) {
      throw new ConflictError('Only an active preservation can be extended.', { status: row.status });
    }
    if (row.preserved_until !== null && Number(row.preserved_until) <= now) {
      throw new ConflictError('This preservation has expired.', { reason: 'expired' });
    }
    if (row.preservation_extended === 1) {
      throw new ConflictError('This preservation has already been extended once.', { reason: 'already_extended' });
    }
    if (policy.preservationExtensionDays === 0) {
      throw new AppError('forbidden', 'The disclosure policy allows no extension of a preservation.');
    }
    const until = Number(row.preserved_until) + policy.preservationExtensionDays * DAY;
    await tx
      .updateTable('legal_requests')
      .set({ preserved_until: until, preservation_extended: 1, updated_at: now })
      .where('id', '=', id)
      .execute();
    await tx.updateTable('preservations').set({ until_at: until }).where('source', '=', `legal:${id}`).execute();
    await recordEvent(
      tx,
      actor,
      id,
      'preservation.extended',
      'preserved',
      { until: new Date(until).toISOString() },
      now,
    );
    await appendAudit(
      tx,
      actor,
      {
        action: 'legal_request.extend_preservation',
        subjectType: 'legal_request',
        subjectId: id,
        details: { until: new Date(until).toISOString(), days: policy.preservationExtensionDays },
      },
      now,
    );
  });
}
