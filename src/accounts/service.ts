import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db } from '../db/database.js';
import type { Insertable, Selectable } from 'kysely';
import type { AccountTable } from '../db/schema.js';
import { type FieldProblem, NotFoundError, ValidationError } from '../errors.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { chunks } from '../db/chunks.js';
import { normalisePhone } from './phone.js';
import { isCountryCode } from '../geo/countries.js';

export const PHONE_FIELD = 'accounts.phone';

export interface AccountInput {
  id: string;
  phone?: string;
  username?: string;
  country?: string;
  createdAt?: string;
}

export interface IngestResult {
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

/** An account as staff see it: no phone number, only whether there is one and its country. */
export interface AccountView {
  id: string;
  username: string | null;
  country: string | null;
  hasPhone: boolean;
  phoneCountry: string | null;
  createdAt: string | null;
  firstSeenAt: string;
  updatedAt: string;
  /** Enforcement state: active, suspended or banned. */
  status: string;
  suspendedUntil: string | null;
}

interface PreparedAccount {
  id: string;
  phone?: { e164: string; country: string; bidx: string };
  username?: string;
  country?: string;
  createdAt?: number;
}

/**
 * Upserts a batch of accounts, atomically: every item is checked first, and one
 * bad item rejects the whole batch with a 422 naming its index and field.
 * Fields left out of an item keep their stored value. Re-sending a batch changes
 * nothing: rows whose values are already stored are not rewritten.
 */
export async function ingestAccounts(
  db: Db,
  cipher: PersonalDataCipher,
  actor: Actor,
  items: AccountInput[],
  now = Date.now(),
): Promise<IngestResult> {
  const prepared = prepareAccounts(cipher, items);
  return db.transaction().execute(async (tx) => {
    const existing = new Map<string, Selectable<AccountTable>>();
    for (const part of chunks(prepared, 1000)) {
      const rows = await tx
        .selectFrom('accounts')
        .selectAll()
        .where(
          'id',
          'in',
          part.map((a) => a.id),
        )
        .execute();
      for (const row of rows) existing.set(row.id, row);
    }
    const inserts: Insertable<AccountTable>[] = [];
    let updated = 0;
    for (const a of prepared) {
      const old = existing.get(a.id);
      if (!old) {
        inserts.push({
          id: a.id,
          phone_enc: a.phone ? cipher.encrypt(PHONE_FIELD, a.id, a.phone.e164) : null,
          phone_bidx: a.phone?.bidx ?? null,
          phone_country: a.phone?.country ?? null,
          username: a.username ?? null,
          country: a.country ?? null,
          created_at: a.createdAt ?? null,
          first_seen_at: now,
          updated_at: now,
        });
        continue;
      }
      const change: Partial<Insertable<AccountTable>> = {};
      if (a.phone && a.phone.bidx !== old.phone_bidx) {
        change.phone_enc = cipher.encrypt(PHONE_FIELD, a.id, a.phone.e164);
        change.phone_bidx = a.phone.bidx;
        change.phone_country = a.phone.country;
      }
      if (a.username !== undefined && a.username !== old.username) change.username = a.username;
      if (a.country !== undefined && a.country !== old.country) change.country = a.country;
      if (a.createdAt !== undefined && a.createdAt !== (old.created_at === null ? null : Number(old.created_at))) {
        change.created_at = a.createdAt;
      }
      if (Object.keys(change).length === 0) continue;
      await tx
        .updateTable('accounts')
        .set({ ...change, updated_at: now })
        .where('id', '=', a.id)
        .execute();
      updated += 1;
    }
    // A concurrent batch may have inserted the same new id since we looked: its
    // row stands and ours counts as unchanged, instead of failing the batch.
    let inserted = 0;
    for (const part of chunks(inserts, 500)) {
      const res = await tx
        .insertInto('accounts')
        .values(part)
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      inserted += Number(res.numInsertedOrUpdatedRows ?? 0);
    }
    const result = {
      received: items.length,
      inserted,
      updated,
      unchanged: items.length - inserted - updated,
    };
    await appendAudit(tx, actor, { action: 'accounts.ingest', subjectType: 'batch', details: result }, now);
    return result;
  });
}

function prepareAccounts(cipher: PersonalDataCipher, items: AccountInput[]): PreparedAccount[] {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  const prepared = items.map((item, i): PreparedAccount => {
    const first = seen.get(item.id);
    if (first !== undefined) {
      problems.push({
        path: `/accounts/${i}/id`,
        code: 'duplicate_id',
        message: `account id repeats item ${first} of this batch`,
      });
    } else seen.set(item.id, i);
    const out: PreparedAccount = { id: item.id };
    if (item.phone !== undefined) {
      const phone = normalisePhone(item.phone);
      if (!phone) {
        // The value itself is left out: error bodies end up in logs.
        problems.push({
          path: `/accounts/${i}/phone`,
          code: 'invalid_phone',
          message: 'not a valid international phone number (E.164, with country code)',
        });
      } else out.phone = { ...phone, bidx: cipher.blindIndex(PHONE_FIELD, phone.e164) };
    }
    if (item.username !== undefined) out.username = item.username;
    if (item.country !== undefined) {
      if (!isCountryCode(item.country)) {
        problems.push({
          path: `/accounts/${i}/country`,
          code: 'unknown_country',
          message: 'not an ISO 3166-1 country code',
        });
      }
      out.country = item.country;
    }
    if (item.createdAt !== undefined) out.createdAt = Date.parse(item.createdAt);
    return out;
  });
  if (problems.length > 0)
    throw new ValidationError(problems, `${problems.length} invalid item(s); nothing was stored.`);
  return prepared;
}

export async function getAccount(db: Db, id: string): Promise<AccountView> {
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Account');
  return toAccountView(row);
}

/** Finds accounts by phone number through the blind index; the number is never compared in clear. */
export async function findAccountsByPhone(db: Db, cipher: PersonalDataCipher, phone: string): Promise<AccountView[]> {
  const normalised = normalisePhone(phone);
  if (!normalised) return [];
  const rows = await db
    .selectFrom('accounts')
    .selectAll()
    .where('phone_bidx', '=', cipher.blindIndex(PHONE_FIELD, normalised.e164))
    .execute();
  return rows.map(toAccountView);
}

function toAccountView(row: Selectable<AccountTable>): AccountView {
  const iso = (t: number) => new Date(Number(t)).toISOString();
  return {
    id: row.id,
    username: row.username,
    country: row.country,
    hasPhone: row.phone_enc !== null,
    phoneCountry: row.phone_country,
    createdAt: row.created_at === null ? null : iso(row.created_at),
    firstSeenAt: iso(row.first_seen_at),
    updatedAt: iso(row.updated_at),
    // A suspension that has run out is over, even before the expiry job records it.
    status:
      row.status === 'suspended' && row.suspended_until !== null && Number(row.suspended_until) <= Date.now()
        ? 'active'
        : row.status,
    suspendedUntil: row.suspended_until === null ? null : iso(row.suspended_until),
  };
}
