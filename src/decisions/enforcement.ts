import type { Db, Tx } from '../db/database.js';
import type { ActionType } from './statement.js';

interface StoredAction {
  type: ActionType;
  until?: string;
}

/**
 * Content and account states are projections of the decisions in effect, so a
 * reversal simply recomputes them: an account stays banned if another decision
 * still bans it, whatever the reversed one did.
 */
export async function recomputeContentState(tx: Tx, contentId: string): Promise<string> {
  const decisions = await tx
    .selectFrom('decisions')
    .select('actions')
    .where('subject_type', '=', 'content')
    .where('subject_id', '=', contentId)
    .where('status', '=', 'in_effect')
    .execute();
  const types = new Set(decisions.flatMap((d) => (JSON.parse(d.actions) as StoredAction[]).map((a) => a.type)));
  const state = types.has('remove_content') ? 'removed' : types.has('restrict_content') ? 'restricted' : 'visible';
  await tx.updateTable('content').set({ state }).where('id', '=', contentId).execute();
  return state;
}

/** Lifts suspensions whose end has passed (a background job), in small transactions. */
export async function expireSuspensions(db: Db, now = Date.now()): Promise<number> {
  const due = await db
    .selectFrom('accounts')
    .select('id')
    .where('status', '=', 'suspended')
    .where('suspended_until', '<=', now)
    .limit(1000)
    .execute();
  for (const { id } of due) {
    await db.transaction().execute((tx) => recomputeAccountStatus(tx, id, now));
  }
  return due.length;
}

export async function recomputeAccountStatus(
  tx: Tx,
  accountId: string,
  now: number,
): Promise<{ status: string; suspendedUntil: number | null }> {
  const decisions = await tx
    .selectFrom('decisions')
    .select('actions')
    .where('account_id', '=', accountId)
    .where('status', '=', 'in_effect')
    .execute();
  let banned = false;
  let suspendedUntil: number | null = null;
  for (const d of decisions) {
    for (const a of JSON.parse(d.actions) as StoredAction[]) {
      if (a.type === 'ban_account') banned = true;
      if (a.type === 'suspend_account') {
        // A suspension without an end lasts until lifted.
        const until = a.until ? Date.parse(a.until) : Number.MAX_SAFE_INTEGER;
        if (until > now) suspendedUntil = Math.max(suspendedUntil ?? 0, until);
      }
    }
  }
  const status = banned ? 'banned' : suspendedUntil !== null ? 'suspended' : 'active';
  const stored = suspendedUntil === Number.MAX_SAFE_INTEGER ? null : suspendedUntil;
  await tx.updateTable('accounts').set({ status, suspended_until: stored }).where('id', '=', accountId).execute();
  return { status, suspendedUntil: stored };
}
