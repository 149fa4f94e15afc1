import type { Db, Tx } from '../db/database.js';
import { newId } from '../ids.js';

/** Events the platform receives. */
export const WEBHOOK_EVENTS = [
  'content.removed',
  'content.restricted',
  'account.suspended',
  'account.banned',
  'account.warned',
  'decision.reversed',
  'report.resolved',
  'appeal.resolved',
  'legal.deadline_near',
  'legal.overdue',
  'account.data_disclosed',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/**
 * Queues an event for every active endpoint subscribed to it. Call it inside the
 * transaction that makes the change it announces: the change and its delivery
 * commit together, so a crash can delay a webhook but never lose it. The outbox
 * row id doubles as the idempotency key the receiver sees.
 */
export async function enqueueWebhook(
  tx: Tx | Db,
  type: WebhookEvent,
  data: Record<string, unknown>,
  now = Date.now(),
): Promise<number> {
  const endpoints = await tx.selectFrom('webhook_endpoints').select(['id', 'events']).where('active', '=', 1).execute();
  let queued = 0;
  for (const endpoint of endpoints) {
    const events = JSON.parse(endpoint.events) as string[];
    if (!events.includes('*') && !events.includes(type)) continue;
    const id = newId('whd');
    await tx
      .insertInto('webhook_outbox')
      .values({
        id,
        endpoint_id: endpoint.id,
        event_type: type,
        payload: JSON.stringify({ id, type, createdAt: new Date(now).toISOString(), data }),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        lease_until: null,
        last_error: null,
        created_at: now,
        delivered_at: null,
      })
      .execute();
    queued += 1;
  }
  return queued;
}
