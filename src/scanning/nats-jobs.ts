import type { JsMsg } from 'nats';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { backoffMs } from '../webhooks/delivery.js';
import { isStoreUnavailable } from '../db/store-errors.js';
import { MAX_SCAN_ATTEMPTS } from './jobs.js';
import { MAX_DELIVERIES, type NatsScanQueue, type ScanJobMessage } from './nats-queue.js';
import { scanStoredContent } from './service.js';

/**
 * A claimed job whose publish is not confirmed by then (its relay died between
 * claim and publish, or NATS refused it) is claimed and published again.
 */
const CLAIM_MS = 15_000;
/**
 * A job published this long ago and still not done is published again: NATS may
 * have lost it (a stream deleted or recreated, a message past max deliver whose
 * dead-lettering failed). Scanning is idempotent, so the worst case is a
 * duplicate message, when the backlog is older than this.
 */
export const REQUEUE_AFTER_MS = 60 * 60_000;
/** Rows claimed per relay round. */
export const RELAY_BATCH = 200;

/**
 * The transactional outbox's relay: publishes due scan jobs to JetStream and
 * marks them `queued`. The claim is a conditional update (status and due time
 * re-checked under the row lock), so relays in several processes never publish
 * the same row in one round; if a relay dies after publishing, the row comes due
 * again and the re-publish is dropped by JetStream's duplicate window. While NATS
 * is down nothing is claimed: rows stay `pending` in the database.
 */
export async function relayScanJobs(
  ctx: Context,
  queue: NatsScanQueue,
  options: { now?: number; batch?: number } = {},
): Promise<{ claimed: number; published: number }> {
  if (queue.state() !== 'ok') return { claimed: 0, published: 0 };
  const db = ctx.store.db;
  const now = options.now ?? Date.now();
  const claimUntil = now + CLAIM_MS;
  const claimed = await db
    .updateTable('scan_jobs')
    .set({ status: 'queued', next_attempt_at: claimUntil, lease_until: null })
    .where('content_id', 'in', (eb) =>
      eb
        .selectFrom('scan_jobs')
        .select('content_id')
        .where('status', 'in', ['pending', 'queued'])
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(options.batch ?? RELAY_BATCH),
    )
    .where('status', 'in', ['pending', 'queued'])
    .where('next_attempt_at', '<=', now)
    .returning('content_id')
    .execute();
  if (claimed.length === 0) return { claimed: 0, published: 0 };
  const ids = claimed.map((r) => r.content_id);
  const versions = new Map(
    (await db.selectFrom('content').select(['id', 'fingerprint']).where('id', 'in', ids).execute()).map((r) => [
      r.id,
      r.fingerprint,
    ]),
  );
  const jobs: ScanJobMessage[] = ids.map((id) => ({ contentId: id, version: (versions.get(id) ?? '').slice(0, 16) }));
  // Unpublished rows stay claimed: they come due again after CLAIM_MS, which paces the retries.
  const sent = await queue.publish(jobs).catch((error) => {
    ctx.logger.warn({ err: error, jobs: jobs.length }, 'could not publish scan jobs; they are tried again');
    return jobs.map(() => false);
  });
  const published = ids.filter((_, i) => sent[i]);
  if (published.length > 0) {
    await db
      .updateTable('scan_jobs')
      .set({ next_attempt_at: now + REQUEUE_AFTER_MS })
      .where('content_id', 'in', published)
      .where('status', '=', 'queued')
      .where('next_attempt_at', '=', claimUntil)
      .execute();
  }
  return { claimed: ids.length, published: published.length };
}

export interface ScanConsumer {
  /** Stops taking messages, waits up to `drainMs` for scans in flight, and hands back the rest. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * Pulls scan jobs from JetStream and runs them, `concurrency` at a time. Each
 * job: count the attempt in its row, scan (idempotent: a stored verdict for the
 * same content version is reused), mark the row done, then ack, so a worker
 * killed anywhere in between leaves a message that is delivered again and acts
 * once. A failure is NAKed with a growing delay; the fifth, or a permanent one,
 * goes to the dead-letter subject with its error and the row is marked dead.
 */
export function startScanConsumer(
  ctx: Context,
  queue: NatsScanQueue,
  options: { concurrency?: number; retryBaseMs?: number } = {},
): ScanConsumer {
  const concurrency = options.concurrency ?? 4;
  const retryBaseMs = options.retryBaseMs ?? 1000;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let messages: { stop(): void } | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, ms).unref();
    });

  const loop = async () => {
    while (!stopped) {
      try {
        const consumer = await queue.consumer();
        // Pull no more than can run at once: a worker that stops or dies holds few messages.
        const iterator = await consumer.consume({ max_messages: concurrency });
        messages = iterator;
        if (stopped) iterator.stop();
        for await (const msg of iterator) {
          while (inFlight.size >= concurrency) await Promise.race(inFlight);
          if (stopped) {
            // Buffered but not started: back to the stream for another worker, now.
            msg.nak();
            continue;
          }
          const p = handle(ctx, queue, msg, retryBaseMs)
            // Only an ack or nak on a closed connection should land here: the message comes back.
            .catch((error) => ctx.logger.warn({ err: error }, 'scan job left unacknowledged'))
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      } catch (error) {
        if (!stopped && queue.state() === 'ok') ctx.logger.warn({ err: error }, 'scan consumer failed; retrying');
      }
      if (!stopped) await pause(1000);
    }
  };
  const running = loop();

  return {
    async stop(drainMs = 4000) {
      stopped = true;
      messages?.stop();
      wake?.();
      const drained = Promise.allSettled([...inFlight]);
      await Promise.race([drained, new Promise((r) => setTimeout(r, drainMs).unref())]);
      await Promise.race([running, new Promise((r) => setTimeout(r, 200).unref())]);
    },
  };
}

async function handle(ctx: Context, queue: NatsScanQueue, msg: JsMsg, retryBaseMs: number): Promise<void> {
  const db = ctx.store.db;
  const deliveries = msg.info.deliveryCount;
  let job: ScanJobMessage;
  try {
    job = JSON.parse(new TextDecoder().decode(msg.data)) as ScanJobMessage;
    if (typeof job.contentId !== 'string') throw new Error('no contentId');
  } catch {
    ctx.logger.error({ seq: msg.seq }, 'unreadable scan job message; dropped');
    msg.term();
    return;
  }
  // Attempts are counted in the row before scanning, so a crash counts too and the
  // count survives redelivery and re-publishing; a store outage counts nothing.
  let attempts: number;
  try {
    const row = await db
      .updateTable('scan_jobs')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('content_id', '=', job.contentId)
      .where('status', '=', 'queued')
      .returning('attempts')
      .executeTakeFirst();
    if (!row) {
      // Done (a duplicate message), dead, or re-queued for a newer version that the relay publishes.
      msg.ack();
      return;
    }
    attempts = row.attempts;
  } catch (error) {
    storeTrouble(ctx, msg, job, error);
    return;
  }
  if (attempts > MAX_SCAN_ATTEMPTS) {
    const error = `no result after ${MAX_SCAN_ATTEMPTS} attempts: the worker died or hung each time`;
    await deadLetter(ctx, queue, msg, job, attempts - 1, error);
    return;
  }
  try {
    await scanStoredContent(ctx, job.contentId);
  } catch (error) {
    if (isStoreUnavailable(error)) {
      storeTrouble(ctx, msg, job, error);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    // Content that does not exist will not appear on a retry.
    const permanent = error instanceof AppError && error.code === 'not_found';
    if (permanent || attempts >= MAX_SCAN_ATTEMPTS || deliveries >= MAX_DELIVERIES) {
      await deadLetter(ctx, queue, msg, job, attempts, message);
      return;
    }
    await db
      .updateTable('scan_jobs')
      .set({ last_error: message.slice(0, 500) })
      .where('content_id', '=', job.contentId)
      .where('status', '=', 'queued')
      .execute()
      .catch(() => {});
    ctx.logger.warn({ job: 'scan', contentId: job.contentId, attempts, err: error }, 'scan job failed');
    msg.nak(backoffMs(attempts, retryBaseMs));
    return;
  }
  try {
    // Only a `queued` row: a `pending` one was re-queued for a newer version, which the relay publishes.
    await db
      .updateTable('scan_jobs')
      .set({ status: 'done', lease_until: null, finished_at: Date.now() })
      .where('content_id', '=', job.contentId)
      .where('status', '=', 'queued')
      .execute();
  } catch (error) {
    // The verdict is stored; the message comes back and finds it.
    storeTrouble(ctx, msg, job, error);
    return;
  }
  msg.ack();
}

/**
 * The store, not the content, failed: NAK with a delay that grows to a minute, so
 * redelivery rides out an outage of about a quarter of an hour (MAX_DELIVERIES);
 * a longer one leaves the job to the relay's re-publish.
 */
function storeTrouble(ctx: Context, msg: JsMsg, job: ScanJobMessage, error: unknown): void {
  ctx.logger.warn({ job: 'scan', contentId: job.contentId, err: error }, 'store unavailable; scan job handed back');
  msg.nak(Math.min(60_000, backoffMs(msg.info.deliveryCount, 2000)));
}

/**
 * Publishes the dead letter, marks the row dead, then acks: on a work-queue
 * stream the ack removes the message, whose record now is the row and the
 * letter. If NATS or the store fail on the way, the message is NAKed: the next
 * delivery (or the relay's re-publish) finds the attempts spent and tries again.
 */
async function deadLetter(
  ctx: Context,
  queue: NatsScanQueue,
  msg: JsMsg,
  job: ScanJobMessage,
  attempts: number,
  error: string,
): Promise<void> {
  const deliveries = msg.info.deliveryCount;
  try {
    await queue.deadLetter(
      { contentId: job.contentId, version: job.version, error, attempts, deliveries, at: new Date().toISOString() },
      `${queue.names.stream}:${msg.seq}`,
    );
    await ctx.store.db
      .updateTable('scan_jobs')
      .set({ status: 'dead', last_error: error.slice(0, 500), lease_until: null, finished_at: Date.now() })
      .where('content_id', '=', job.contentId)
      .where('status', '=', 'queued')
      .execute();
  } catch (failure) {
    ctx.logger.warn({ job: 'scan', contentId: job.contentId, err: failure }, 'could not dead-letter scan job');
    msg.nak(5000);
    return;
  }
  ctx.logger.error({ job: 'scan', contentId: job.contentId, attempts, error }, 'scan job dead-lettered');
  msg.ack();
}
