import type { Context } from '../context.js';
import type { Db, Tx } from '../db/database.js';
import { NotFoundError } from '../errors.js';

export interface ViolationView {
  id: string;
  decisionId: string;
  category: string;
  ground: string;
  at: string;
  /** Counts as a strike until then. */
  strikeExpiresAt: string;
}

export interface ViolationsView {
  accountId: string;
  /** Confirmed violations whose strike has not expired. */
  activeStrikes: number;
  violations: ViolationView[];
}

/**
 * An account's confirmed violations: enforced decisions (not dismissals) that no
 * appeal has overturned. This is the record the disclosure policy checks.
 */
export async function listViolations(ctx: Context, accountId: string, now = Date.now()): Promise<ViolationsView> {
  const db = ctx.store.db;
  const account = await db.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
  if (!account) throw new NotFoundError('Account');
  const rows = await db
    .selectFrom('violations')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('status', '=', 'confirmed')
    .orderBy('created_at', 'desc')
    .execute();
  return {
    accountId,
    activeStrikes: rows.filter((r) => Number(r.strike_expires_at) > now).length,
    violations: rows.map((r) => ({
      id: r.id,
      decisionId: r.decision_id,
      category: r.category,
      ground: r.ground,
      at: new Date(Number(r.created_at)).toISOString(),
      strikeExpiresAt: new Date(Number(r.strike_expires_at)).toISOString(),
    })),
  };
}

export async function countActiveStrikes(tx: Db | Tx, accountId: string, now: number): Promise<number> {
  const row = await tx
    .selectFrom('violations')
    .select(tx.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', '=', 'confirmed')
    .where('strike_expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
