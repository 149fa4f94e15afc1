import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db, Tx } from '../db/database.js';
import { needsRowLocks } from '../db/locking.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import type { LegalStatus } from '../legal/service.js';
import { type SessionRecord, sessionsInPeriod } from '../sessions/service.js';
import { PHONE_FIELD } from './service.js';

export interface PersonalDataView {
  accountId: string;
  /** The categories the order covers (as narrowed by review): only these are read. */
  categories: DataCategory[];
  /** Null when the account has none, or when the order does not ask for it. */
  phoneNumber: string | null;
  period: { from: string; to: string };
  /** Empty when the order does not ask for IP addresses. */
  sessions: SessionRecord[];
}

export type DataCategory = 'phone_number' | 'ip_addresses';
const DATA_CATEGORIES: readonly DataCategory[] = ['phone_number', 'ip_addresses'];

export interface PersonalDataRequest {
  accountId: string;
  /** The legal request (order) that justifies the read. */
  orderId: string;
  from: number;
  to: number;
  purpose: string;
}

/**
 * The order states in which the legal team may read a target's data: approved or
 * disclosed, that is after the two-person review (or an emergency's senior approval)
 * accepted the order, for follow-up work on it (the authority's questions, a check of
 * what the package held). Before that the data is nobody's to see: reviewers judge the
 * order, its targets and their violations, not the phone numbers and addresses it asks
 * for. A preservation order freezes data and discloses nothing, so it justifies no read
 * either. A rejected or withdrawn order justifies nothing any more.
 */
export const READ_JUSTIFYING_STATUSES: readonly LegalStatus[] = ['approved', 'disclosed'];
/** States that end an order for good: a read under them is refused as `order_closed`. */
const CLOSED_STATUSES: readonly string[] = ['rejected', 'withdrawn'];

const orderProblem = (code: string, message: string) =>
  new ValidationError([{ path: '/querystring/orderId', code, message }], 'The order does not justify this read.');

/**
 * Refuses a read that the order does not cover: an unknown order, an order rejected or
 * withdrawn, an order not approved (in review, or a preservation order), an account that is not one of its included targets, or a period outside
 * the order's (as narrowed by review), checked in that order. All before the account
 * is looked up, so a refusal reads the same whether the account exists or not. On PostgreSQL the order row
 * is locked FOR SHARE, so it cannot be withdrawn or rejected while the read runs.
 */
async function requireOrderCovers(tx: Tx, request: PersonalDataRequest): Promise<DataCategory[]> {
  let query = tx
    .selectFrom('legal_requests')
    .select(['status', 'period_from', 'period_to', 'data_categories'])
    .where('id', '=', request.orderId);
  if (needsRowLocks(tx)) query = query.forShare();
  const order = await query.executeTakeFirst();
  if (!order) throw orderProblem('unknown_order', 'no legal request has this id');
  if (CLOSED_STATUSES.includes(order.status)) {
    throw orderProblem('order_closed', `the order is ${order.status}: it no longer justifies a read`);
  }
  if (!(READ_JUSTIFYING_STATUSES as readonly string[]).includes(order.status)) {
    throw orderProblem(
      'order_not_approved',
      order.status === 'preserved'
        ? 'a preservation order keeps data and discloses none: it justifies no read'
        : `the order is ${order.status.replace('_', ' ')}: data is read only once its review has approved it`,
    );
  }
  // A target dropped by the checks or removed by a narrowing review is not covered by the order.
  const target = await tx
    .selectFrom('legal_targets')
    .select('id')
    .where('request_id', '=', request.orderId)
    .where('account_id', '=', request.accountId)
    .where('status', '=', 'included')
    .executeTakeFirst();
  if (!target) throw orderProblem('not_a_target', 'the order does not name this account among its targets');
  if (request.from < Number(order.period_from) || request.to > Number(order.period_to)) {
    throw orderProblem(
      'outside_order_period',
      `from and to must lie within the order's period, ${new Date(Number(order.period_from)).toISOString()} to ${new Date(Number(order.period_to)).toISOString()}`,
    );
  }
  // What the order asks for, as its review left it: a category narrowed away is not read.
  const asked = JSON.parse(order.data_categories) as string[];
  return DATA_CATEGORIES.filter((c) => asked.includes(c));
}

/**
 * Decrypts one account's phone number and its sessions in a period, for a legal order
 * that names the account and covers the period (see `requireOrderCovers`). The check,
 * the read and its audit entry (who, which order, why, what categories, how many
 * records) happen in one transaction: if the entry cannot be written, nothing is
 * returned; a refused read writes nothing here.
 */
export async function readPersonalData(
  db: Db,
  cipher: PersonalDataCipher,
  actor: Actor,
  request: PersonalDataRequest,
): Promise<PersonalDataView> {
  return db.transaction().execute(async (tx) => {
    const categories = await requireOrderCovers(tx, request);
    const account = await tx
      .selectFrom('accounts')
      .select(['id', 'phone_enc'])
      .where('id', '=', request.accountId)
      .executeTakeFirst();
    if (!account) throw new NotFoundError('Account');
    const sessions = categories.includes('ip_addresses')
      ? await sessionsInPeriod(tx, cipher, account.id, request.from, request.to)
      : [];
    const phoneNumber =
      categories.includes('phone_number') && account.phone_enc
        ? cipher.decrypt(PHONE_FIELD, account.id, account.phone_enc)
        : null;
    const view: PersonalDataView = {
      accountId: account.id,
      categories,
      phoneNumber,
      period: { from: new Date(request.from).toISOString(), to: new Date(request.to).toISOString() },
      sessions,
    };
    await appendAudit(tx, actor, {
      action: 'personal_data.read',
      subjectType: 'account',
      subjectId: account.id,
      details: {
        categories,
        orderId: request.orderId,
        purpose: request.purpose,
        period: view.period,
        records: sessions.length,
      },
    });
    return view;
  });
}
