import type { Actor } from '../audit/actor.js';
import type { Tx } from '../db/database.js';
import { newSortableId } from '../ids.js';

/**
 * Appends one step of an order's history (received, checked, reviewed, narrowed,
 * approved, disclosed, withdrawn, …) with the status it left the order in. The
 * history is append-only; the order row's status is its latest projection.
 *
 * Each event also carries what the request figures (transparency/requests.ts) group
 * it by, fixed at the moment it happened: the country of the authority that filed the
 * order, and for the counted steps a label — the order's type when received, what was
 * disclosed, the reason codes of a rejection by the checks. A quarter's figures are
 * then one pass over the `(type, at)` range of this table, with no join to the orders
 * (bench/transparency.ts). A disclosure also lists the accounts it disclosed, with the
 * same country and time, in `legal_disclosed_accounts`.
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
  const order = await tx
    .selectFrom('legal_requests as r')
    .innerJoin('authorities as a', 'a.id', 'r.authority_id')
    .select(['a.country', 'r.type', 'r.data_categories'])
    .where('r.id', '=', requestId)
    .executeTakeFirstOrThrow();
  let label: string | null = null;
  if (type === 'received') label = order.type;
  else if (type === 'disclosed') label = disclosedDataLabel(JSON.parse(order.data_categories) as string[]);
  else if (type === 'checks.rejected') {
    const failed = await tx
      .selectFrom('legal_checks')
      .select('code')
      .distinct()
      .where('request_id', '=', requestId)
      .where('result', '=', 'fail')
      .where('code', 'is not', null)
      .execute();
    label = rejectionLabel(failed.map((c) => c.code!));
  }
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
      country: order.country,
      label,
    })
    .execute();
  if (type === 'disclosed') {
    const accounts = await tx
      .selectFrom('legal_targets')
      .select('account_id')
      .distinct()
      .where('request_id', '=', requestId)
      .where('status', '=', 'included')
      .where('account_id', 'is not', null)
      .execute();
    if (accounts.length > 0) {
      await tx
        .insertInto('legal_disclosed_accounts')
        .values(
          accounts.map((a) => ({ request_id: requestId, account_id: a.account_id!, country: order.country, at: now })),
        )
        .execute();
    }
  }
}

/** What a fulfilled order disclosed, as the figures count it. */
export type DisclosedData = 'ip_addresses' | 'phone_number' | 'both';

export function disclosedDataLabel(categories: string[]): DisclosedData {
  const ip = categories.includes('ip_addresses');
  const phone = categories.includes('phone_number');
  return ip && phone ? 'both' : ip ? 'ip_addresses' : 'phone_number';
}

/** The distinct reason codes of an order's failed checks, sorted, comma-separated. */
export function rejectionLabel(codes: string[]): string {
  return [...new Set(codes)].sort().join(',');
}
