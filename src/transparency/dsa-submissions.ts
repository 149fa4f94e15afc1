import type { Tx } from '../db/database.js';

/**
 * Queues a new statement of reasons for the DSA Transparency Database. Called in
 * the decision's transaction, like a webhook into the outbox: the statement and
 * its submission row commit together, so no statement is ever left unsent, and
 * the sender finds due work through an index instead of comparing all decisions
 * with all submissions.
 */
export async function enqueueStatement(tx: Tx, decisionId: string, now: number): Promise<void> {
  await tx
    .insertInto('dsa_submissions')
    .values({
      decision_id: decisionId,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      lease_until: null,
      batch_id: null,
      last_error: null,
      created_at: now,
      accepted_at: null,
    })
    .execute();
}
