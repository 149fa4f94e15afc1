import type { Actor } from '../audit/actor.js';
import type { Tx } from '../db/database.js';
import { newSortableId } from '../ids.js';

/**
 * Appends one step of an order's history (received, checked, reviewed, narrowed,
 * approved, disclosed, withdrawn, …) with the status it left the order in. The
 * history is append-only; the order row's status is its latest projection.
 */
export async function recordEvent(
  tx: Tx,
  actor: Actor,
  requestId: string,
  type: string,
  status: string,
  details: Record<string, unknown>,
  now = Date.now(),
): Promise<void> {
  await tx
    .insertInto('legal_events')
    .values({
      id: newSortableId('lre'),
      request_id: requestId,
      at: now,
      actor_id: actor.id,
      actor_role: actor.role,
      type,
      status,
      details: JSON.stringify(details),
    })
    .execute();
}
