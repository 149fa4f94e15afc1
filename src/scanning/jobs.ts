import type { Context } from '../context.js';
import type { Db, Tx } from '../db/database.js';
import { backoffMs } from '../webhooks/delivery.js';
import { scanStoredContent } from './service.js';

/** A job failing this many times is dead-lettered with its last error. */
export const MAX_SCAN_ATTEMPTS = 5;

/** Queues content for scanning, in the caller's transaction: stored content is never left unscanned. */
export async function enqueueScans(tx: Tx, contentIds: string[], now: number, delayMs = 0): Promise<void> {
  const due = now + delayMs;
  for (const id of contentIds) {
    await tx
      .insertInto('scan_jobs')
      .values({
        content_id: id,
        status: 'pending',
        attempts: 0,
        next_attempt_at: due,
        lease_until: null,
        last_error: null,
        created_at: now,
        finished_at: null,
      })
      .onConflict((oc) =>
        oc.column('content_id').doUpdateSet({
          status: 'pending',
          attempts: 0,
          next_attempt_at: due,
          lease_until: null,
          last_error: null,
          finished_at: null,
        }),
      )
      .execute();
  }
}

/** The request scanned the item itself: its queued job is done. */
export async function markScanned(db: Db, contentId: string): Promise<void> {
  await db
    .updateTable('scan_jobs')
    .set({ status: 'done', finished_at: Date.now(), lease_until: null })
    .where('content_id', '=', contentId)
    .where('status', '=', 'pending')
    .execute();
}

export interface ScanRound {
  attempted: number;
  done: number;
  failed: number;
}

/**
 * Runs due scan jobs of the embedded queue. Each job is leased with a
 * conditional update, so several worker processes can share the table; a worker
 * that dies leaves a lease that runs out, and the job runs again. Scanning is
 * idempotent (a stored verdict for the same content version is reused), so a
 * job run twice acts once.
 */
export async function runScanJobs(
  ctx: Context,
  options: { now?: number; batch?: number; leaseMs?: number; signal?: AbortSignal } = {},
): Promise<ScanRound> {
  const db = ctx.store.db;
  const now = options.now ?? Date.now();
  const leaseMs = options.leaseMs ?? 60_000;
  const due = await db
    .selectFrom('scan_jobs')
    .select(['content_id', 'attempts'])
    // `queued`: handed to NATS by a deployment that has since dropped it; taken over once overdue.
    .where('status', 'in', ['pending', 'queued'])
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(options.batch ?? 100)
    .execute();
  const round: ScanRound = { attempted: 0, done: 0, failed: 0 };
  for (const job of due) {
    if (options.signal?.aborted) break;
    const leased = await db
      .updateTable('scan_jobs')
      .set({ lease_until: now + leaseMs })
      .where('content_id', '=', job.content_id)
      .where('status', 'in', ['pending', 'queued'])
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(leased.numUpdatedRows) !== 1) continue;
    round.attempted += 1;
    try {
      await scanStoredContent(ctx, job.content_id);
      await db
        .updateTable('scan_jobs')
        .set({ status: 'done', lease_until: null, finished_at: Date.now(), attempts: job.attempts + 1 })
        .where('content_id', '=', job.content_id)
        .execute();
      round.done += 1;
    } catch (error) {
      round.failed += 1;
      const attempts = job.attempts + 1;
      const message = error instanceof Error ? error.message : String(error);
      await db
        .updateTable('scan_jobs')
        .set({
          attempts,
          status: attempts >= MAX_SCAN_ATTEMPTS ? 'dead' : 'pending',
          next_attempt_at: Date.now() + backoffMs(attempts, 1000),
          lease_until: null,
          last_error: message.slice(0, 500),
        })
        .where('content_id', '=', job.content_id)
        .execute();
      ctx.logger.warn({ job: 'scan', contentId: job.content_id, attempts, err: error }, 'scan job failed');
    }
  }
  return round;
}
