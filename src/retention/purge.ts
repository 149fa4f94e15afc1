import type { Db } from '../db/database.js';
import { appendAudit } from '../audit/service.js';
import { SYSTEM_ACTOR } from '../audit/actor.js';

export interface PurgeResult {
  deleted: number;
  cutoff: string;
}

/**
 * Deletes sessions older than the retention window, except those of accounts
 * under an active preservation hold (a preservation order freezes an account's
 * data against this purge). Works in bounded batches so a large backlog never
 * holds one long lock; each batch is its own transaction with its audit entry.
 */
export async function purgeExpiredSessions(
  db: Db,
  retentionDays: number,
  now = Date.now(),
  batchSize = 5000,
): Promise<PurgeResult> {
  const cutoff = now - retentionDays * 86_400_000;
  let deleted = 0;
  for (;;) {
    const n = await db.transaction().execute(async (tx) => {
      const victims = await tx
        .selectFrom('sessions')
        .select('id')
        .where('at', '<', cutoff)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('preservations')
                .select('preservations.id')
                .whereRef('preservations.account_id', '=', 'sessions.account_id')
                .where('preservations.until_at', '>', now),
            ),
          ),
        )
        .limit(batchSize)
        .execute();
      if (victims.length === 0) return 0;
      await tx
        .deleteFrom('sessions')
        .where(
          'id',
          'in',
          victims.map((v) => v.id),
        )
        .execute();
      await appendAudit(
        tx,
        SYSTEM_ACTOR('retention'),
        {
          action: 'sessions.purge',
          details: { deleted: victims.length, cutoff: new Date(cutoff).toISOString(), retentionDays },
        },
        now,
      );
      return victims.length;
    });
    deleted += n;
    if (n < batchSize) break;
  }
  return { deleted, cutoff: new Date(cutoff).toISOString() };
}

/** The hook later issues use: hold an account's data until `untilAt`. */
export async function addPreservation(
  db: Db,
  hold: { id: string; accountId: string; untilAt: number; source: string },
  now = Date.now(),
): Promise<void> {
  await db
    .insertInto('preservations')
    .values({ id: hold.id, account_id: hold.accountId, until_at: hold.untilAt, source: hold.source, created_at: now })
    .execute();
}
