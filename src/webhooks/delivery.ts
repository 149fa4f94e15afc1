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
  const now = options.now ?? Date.now();
  const timeout = ctx.config.webhookTimeoutMs;
  const due = await db
    .selectFrom('webhook_outbox')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_outbox.endpoint_id')
    .select([
      'webhook_outbox.id',
      'webhook_outbox.payload',
      'webhook_outbox.event_type',
      'webhook_outbox.attempts',
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
      const leased = await db
        .updateTable('webhook_outbox')
        .set({ lease_until: now + 2 * timeout })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        // Re-checked: another worker may have failed and rescheduled it since we looked.
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(leased.numUpdatedRows) !== 1) return;
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
        await db
          .updateTable('webhook_outbox')
          .set({
            status: 'delivered',
            delivered_at: finished,
            attempts: d.attempts + 1,
            lease_until: null,
            last_error: null,
          })
          .where('id', '=', d.id)
          .execute();
        return;
      }
      round.failed += 1;
      const attempts = d.attempts + 1;
      await db
        .updateTable('webhook_outbox')
        .set({
          attempts,
          status: attempts >= MAX_ATTEMPTS ? 'dead' : 'pending',
          next_attempt_at: finished + backoffMs(attempts, ctx.config.webhookRetryBaseMs),
          lease_until: null,
          last_error: error.slice(0, 500),
        })
        .where('id', '=', d.id)
        .execute();
      ctx.logger.warn({ delivery: d.id, event: d.event_type, attempts, error }, 'webhook delivery failed');
    }),
  );
  return round;
}
