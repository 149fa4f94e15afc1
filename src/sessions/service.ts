import { PostgresAdapter, sql } from 'kysely';
import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db, Tx } from '../db/database.js';
import type { SessionTable } from '../db/schema.js';
import { type FieldProblem, ValidationError } from '../errors.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { chunks } from '../db/chunks.js';
import { normaliseIp } from './ip.js';

export const IP_FIELD = 'sessions.ip';

/** Rows per insert statement: under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 1000;

/** Clock skew tolerated between the platform and Custos for session times. */
const MAX_FUTURE_MS = 5 * 60 * 1000;

export interface SessionInput {
  accountId: string;
  ip: string;
  port?: number;
  at: string;
}

export interface SessionIngestResult {
  received: number;
  inserted: number;
  duplicates: number;
}

export interface SessionRecord {
  ip: string;
  port: number | null;
  at: string;
}

export interface SessionIngestOptions {
  retentionDays: number;
  now?: number;
}

/**
 * Stores a batch of login/connection records, atomically. A session's id is a
 * keyed hash of (account, ip, port, time), so re-sending a batch inserts nothing
 * new, and the id reveals nothing about the address. Every item must name a known
 * account, a valid IP, and a time inside the retention window and not in the future.
 */
export async function ingestSessions(
  db: Db,
  cipher: PersonalDataCipher,
  actor: Actor,
  items: SessionInput[],
  options: SessionIngestOptions,
): Promise<SessionIngestResult> {
  const now = options.now ?? Date.now();
  const oldest = now - options.retentionDays * 86_400_000;
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();

  const prepare = (from: number, to: number): SessionTable[] => {
    const rows: SessionTable[] = [];
    for (let i = from; i < to; i++) {
      const item = items[i] as SessionInput;
      const ip = normaliseIp(item.ip);
      const at = Date.parse(item.at);
      if (!ip) {
        problems.push({ path: `/sessions/${i}/ip`, code: 'invalid_ip', message: 'not a valid IPv4 or IPv6 address' });
      }
      if (at > now + MAX_FUTURE_MS) {
        problems.push({ path: `/sessions/${i}/at`, code: 'in_the_future', message: 'session time is in the future' });
      } else if (at < oldest) {
        problems.push({
          path: `/sessions/${i}/at`,
          code: 'older_than_retention',
          message: `session time is older than the ${options.retentionDays}-day retention window`,
        });
      }
      if (!ip) continue;
      const id = sessionId(cipher, item.accountId, ip.address, item.port ?? null, at);
      const first = seen.get(id);
      if (first !== undefined) {
        problems.push({
          path: `/sessions/${i}`,
          code: 'duplicate_item',
          message: `repeats item ${first} of this batch`,
        });
        continue;
      }
      seen.set(id, i);
      rows.push({
        id,
        account_id: item.accountId,
        ip_enc: cipher.encrypt(IP_FIELD, item.accountId, ip.address),
        ip_version: ip.version,
        port: item.port ?? null,
        at,
        received_at: now,
      });
    }
    return rows;
  };

  return db.transaction().execute(async (tx) => {
    // Pipelined: the account check and each chunk's insert are sent before the
    // next chunk is prepared, so the database works while we encrypt. A bad item
    // found later still rejects the batch: the transaction rolls back.
    const known = knownAccounts(tx, [...new Set(items.map((s) => s.accountId))]);
    const writes: Promise<number>[] = [];
    for (let from = 0; from < items.length; from += INSERT_CHUNK) {
      const rows = prepare(from, Math.min(items.length, from + INSERT_CHUNK));
      if (problems.length > 0 || rows.length === 0) continue;
      writes.push(
        tx
          .insertInto('sessions')
          .values(rows)
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst()
          .then((r) => Number(r.numInsertedOrUpdatedRows ?? 0)),
      );
    }
    // Settle every query before deciding, so none fails unobserved.
    const [knownResult, ...written] = await Promise.allSettled([known, ...writes]);
    if (knownResult?.status === 'rejected') throw knownResult.reason;
    const failed = written.find((w) => w.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const knownIds = (knownResult as PromiseFulfilledResult<Set<string>>).value;
    items.forEach((item, i) => {
      if (!knownIds.has(item.accountId)) {
        problems.push({
          path: `/sessions/${i}/accountId`,
          code: 'unknown_account',
          message: 'no such account; ingest the account first',
        });
      }
    });
    if (problems.length > 0) {
      problems.sort((a, b) => comparePaths(a.path, b.path));
      throw new ValidationError(problems, `${problems.length} invalid item(s); nothing was stored.`);
    }
    const inserted = written.reduce((n, w) => n + (w as PromiseFulfilledResult<number>).value, 0);
    const result = { received: items.length, inserted, duplicates: items.length - inserted };
    await appendAudit(tx, actor, { action: 'sessions.ingest', subjectType: 'batch', details: result }, now);
    return result;
  });
}

/** Keyed hash of (account, ip, port, time), the session's idempotency key. */
export function sessionId(
  cipher: PersonalDataCipher,
  accountId: string,
  ip: string,
  port: number | null,
  at: number,
): string {
  // The blind-index key keeps the id from being a guessable hash of the address.
  return cipher.blindIndex('sessions.id', `${accountId}\0${ip}\0${port ?? ''}\0${at}`).slice(0, 32);
}

async function knownAccounts(tx: Tx, ids: string[]): Promise<Set<string>> {
  const known = new Set<string>();
  if (tx.getExecutor().adapter instanceof PostgresAdapter) {
    // One round trip with an array parameter instead of one IN list per thousand ids.
    const rows = await tx
      .selectFrom('accounts')
      .select('id')
      .where('id', '=', sql<string>`any(${ids}::text[])`)
      .execute();
    for (const r of rows) known.add(r.id);
    return known;
  }
  for (const part of chunks(ids, 1000)) {
    const rows = await tx.selectFrom('accounts').select('id').where('id', 'in', part).execute();
    for (const r of rows) known.add(r.id);
  }
  return known;
}

function comparePaths(a: string, b: string): number {
  const na = Number(a.split('/')[2]);
  const nb = Number(b.split('/')[2]);
  return na - nb || a.localeCompare(b);
}

/** One account's sessions in [from, to), oldest first, decrypted. Callers audit the read. */
export async function sessionsInPeriod(
  db: Db | Tx,
  cipher: PersonalDataCipher,
  accountId: string,
  from: number,
  to: number,
): Promise<SessionRecord[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(['ip_enc', 'port', 'at'])
    .where('account_id', '=', accountId)
    .where('at', '>=', from)
    .where('at', '<', to)
    .orderBy('at')
    .execute();
  return rows.map((r) => ({
    ip: cipher.decrypt(IP_FIELD, accountId, r.ip_enc),
    port: r.port,
    at: new Date(Number(r.at)).toISOString(),
  }));
}
