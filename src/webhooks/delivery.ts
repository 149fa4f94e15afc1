import type { Context } from '../context.js';
import { signPayload } from './signature.js';
import { SECRET_FIELD } from './endpoints.js';

export interface DeliveryOptions {
  now?: number;
  /** Deliveries taken per round. */
  batch?: number;
  /** Cuts requests in flight (shutdown). */
  signal?: AbortSignal;
}

export interface DeliveryRound {
  attempted: number;
  delivered: number;
  failed: number;
}

/** A delivery is given up (status `dead`) after this many failed attempts, about two days of retries. */
export const MAX_ATTEMPTS = 18;

/**
 * Exponential backoff with "equal jitter" (AWS Architecture Blog, "Exponential
 * Backoff and Jitter", 2015): half the doubled delay fixed, half random, capped
 * at one hour, so failed receivers are not hammered in lock-step.
 */
export function backoffMs(attempts: number, baseMs: number, random = Math.random()): number {
  const exp = Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + (exp / 2) * random);
}

/**
 * Sends due outbox entries. Each entry is leased first (a conditional update that
 * only one process can win), so any number of workers share the outbox; a worker
 * that dies mid-send leaves a lease that expires, and the entry is sent again:
 * at-least-once, with the entry id as the idempotency key.
 */
export async function deliverDue(ctx: Context, options: DeliveryOptions = {}): Promise<DeliveryRound> {
  const db = ctx.store.db;
  const now = Math.floor(options.now ?? Date.now());
  // The round's clock (`now`, which tests move ahead) advanced by the real time spent since it started.
  const started = Date.now();
  const clock = () => now + (Date.now() - started);
  const timeout = ctx.config.webhookTimeoutMs;
  const due = await db
    .selectFrom('webhook_outbox')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_outbox.endpoint_id')
    .select([
      'webhook_outbox.id',
      'webhook_outbox.payload',
      'webhook_outbox.event_type',
      'webhook_endpoints.id as endpoint_id',
      'webhook_endpoints.url',
      'webhook_endpoints.secret_enc',
    ])
    .where('webhook_outbox.status', '=', 'pending')
    .where('webhook_outbox.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('webhook_outbox.lease_until', 'is', null), eb('webhook_outbox.lease_until', '<', now)]))
    .orderBy('webhook_outbox.next_attempt_at')
    .limit(options.batch ?? 50)
    .execute();
  const round: DeliveryRound = { attempted: 0, delivered: 0, failed: 0 };
  await Promise.all(
    due.map(async (d) => {
      // The lease runs from the moment it is taken, not from the start of the round (a slow round must not
      // start requests on leases about to expire). The attempt is counted with the lease, before the request:
      // a worker killed mid-send has still made an attempt, and two workers whose leases overlapped (one
      // stalled past its lease) count two.
      const leaseUntil = clock() + 2 * timeout;
      const leased = await db
        .updateTable('webhook_outbox')
        .set((eb) => ({ lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        // Re-checked: another worker may have failed and rescheduled it since we looked.
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .returning('attempts')
        .executeTakeFirst();
      if (!leased) return;
      const attempts = leased.attempts;
      if (attempts > MAX_ATTEMPTS) {
        // Every attempt before this one ended without a recorded outcome (the sender died or hung each time,
        // e.g. killed by this very entry): give up rather than retry it forever.
        await db
          .updateTable('webhook_outbox')
          .set({
            status: 'dead',
            lease_until: null,
            last_error: `no outcome after ${MAX_ATTEMPTS} attempts: the sender died or hung each time`,
          })
          .where('id', '=', d.id)
          .where('status', '=', 'pending')
          .where('lease_until', '=', leaseUntil)
          .execute();
        round.failed += 1;
        return;
      }
      round.attempted += 1;
      const secret = ctx.cipher.decrypt(SECRET_FIELD, d.endpoint_id, d.secret_enc);
      let error: string | null = null;
      try {
        const res = await fetch(d.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Custos-Webhooks/1',
            'custos-event-id': d.id,
            'custos-event-type': d.event_type,
            'idempotency-key': d.id,
            'custos-signature': signPayload(secret, d.payload),
          },
          body: d.payload,
          signal: options.signal
            ? AbortSignal.any([options.signal, AbortSignal.timeout(timeout)])
            : AbortSignal.timeout(timeout),
          redirect: 'error',
        });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) error = `HTTP ${res.status}`;
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        error =
          err.name === 'TimeoutError'
            ? `timeout after ${timeout} ms`
            : [err.message, err.cause?.code ?? err.cause?.message].filter(Boolean).join(': ');
      }
      const finished = Date.now();
      if (error === null) {
        round.delivered += 1;
        // Delivered is final, whoever holds the lease now, and truer than a `dead` another worker gave up with.
        await db
          .updateTable('webhook_outbox')
          .set({ status: 'delivered', delivered_at: finished, lease_until: null, last_error: null })
          .where('id', '=', d.id)
          .where('status', 'in', ['pending', 'dead'])
          .execute();
        return;
      }
      round.failed += 1;
      // Only while the lease is still ours: a failure that comes back after the lease ran out must not
      // reschedule an entry that another worker has taken since, or delivered.
      await db
        .updateTable('webhook_outbox')
        .set({
          status: attempts >= MAX_ATTEMPTS ? 'dead' : 'pending',
          next_attempt_at: finished + backoffMs(attempts, ctx.config.webhookRetryBaseMs),
          lease_until: null,
          last_error: error.slice(0, 500),
        })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .where('lease_until', '=', leaseUntil)
        .execute();
      ctx.logger.warn({ delivery: d.id, event: d.event_type, attempts, error }, 'webhook delivery failed');
    }),
  );
  return round;
}
