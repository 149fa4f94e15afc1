import { type Insertable, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { AuditLogTable } from '../db/schema.js';
import type { Db, Tx } from '../db/database.js';
import type { Actor } from './actor.js';
import { GENESIS_HASH, canonicalJson, entryHash } from './chain.js';

export interface AuditEvent {
  /** Dotted verb, e.g. `accounts.ingest`, `personal_data.read`. */
  action: string;
  subjectType?: string;
  subjectId?: string;
  /** Counts and ids only: never a phone number or an IP address. */
  details?: Record<string, unknown>;
}

export interface AuditEntryView {
  seq: number;
  at: string;
  actor: { id: string; role: string };
  action: string;
  subject: { type: string; id: string } | null;
  requestId: string | null;
  details: Record<string, unknown>;
  hash: string;
  prevHash: string;
}

/**
 * Appends one entry to the audit chain. Call it inside the transaction that does
 * the audited work, so the work and its record commit or vanish together.
 * The head row is updated first: in PostgreSQL that row lock, in SQLite the
 * write lock, orders concurrent appenders so the chain never forks.
 */
export async function appendAudit(tx: Tx | Db, actor: Actor, event: AuditEvent, now = Date.now()): Promise<number> {
  const head = await advanceHead.first(tx, {});
  if (!head) throw new Error('the audit chain has no head row');
  const fields = {
    seq: Number(head.seq),
    at: now,
    actorId: actor.id,
    actorRole: actor.role,
    action: event.action,
    subjectType: event.subjectType ?? null,
    subjectId: event.subjectId ?? null,
    requestId: actor.requestId ?? null,
    details: canonicalJson(event.details ?? {}),
  };
  const hash = entryHash(head.hash, fields);
  await insertEntry.execute(tx, {
    seq: fields.seq,
    at: fields.at,
    actor_id: fields.actorId,
    actor_role: fields.actorRole,
    action: fields.action,
    subject_type: fields.subjectType,
    subject_id: fields.subjectId,
    request_id: fields.requestId,
    details: fields.details,
    prev_hash: head.hash,
    hash,
  });
  await setHeadHash.execute(tx, { hash });
  return fields.seq;
}

const advanceHead = prepared([], (db) =>
  db.updateTable('audit_head').set({ seq: sql`seq + 1` }).where('id', '=', sql.lit(1)).returning(['seq', 'hash']),
);

const insertEntry = prepared(
  [
    'seq',
    'at',
    'actor_id',
    'actor_role',
    'action',
    'subject_type',
    'subject_id',
    'request_id',
    'details',
    'prev_hash',
    'hash',
  ],
  (db, row: Insertable<AuditLogTable>) => db.insertInto('audit_log').values(row),
);

const setHeadHash = prepared(['hash'], (db, p: { hash: string }) =>
  db.updateTable('audit_head').set({ hash: p.hash }).where('id', '=', sql.lit(1)),
);

export interface AuditQuery {
  from?: number;
  to?: number;
  afterSeq?: number;
  limit: number;
}

/** Entries in order, a page at a time (keyset on seq). */
export async function listAudit(db: Db, q: AuditQuery): Promise<AuditEntryView[]> {
  let query = db.selectFrom('audit_log').selectAll().orderBy('seq').limit(q.limit);
  if (q.from !== undefined) query = query.where('at', '>=', q.from);
  if (q.to !== undefined) query = query.where('at', '<', q.to);
  if (q.afterSeq !== undefined) query = query.where('seq', '>', q.afterSeq);
  const rows = await query.execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: new Date(Number(r.at)).toISOString(),
    actor: { id: r.actor_id, role: r.actor_role },
    action: r.action,
    subject: r.subject_type && r.subject_id ? { type: r.subject_type, id: r.subject_id } : null,
    requestId: r.request_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
    hash: r.hash,
    prevHash: r.prev_hash,
  }));
}

/** The chain hash a stored row should carry after `prevHash`, from its own fields (`details` as stored). */
export function storedEntryHash(prevHash: string, r: AuditLogTable): string {
  return entryHash(prevHash, {
    seq: Number(r.seq),
    at: Number(r.at),
    actorId: r.actor_id,
    actorRole: r.actor_role,
    action: r.action,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    requestId: r.request_id,
    details: r.details,
  });
}

export type VerifyResult =
  | { ok: true; entries: number; headHash: string }
  | { ok: false; entries: number; badSeq: number; problem: string };

/**
 * Walks the whole chain in order and recomputes every hash. Reports the first
 * entry that is missing (a gap in seq), altered (its hash no longer matches its
 * fields), or out of place (its prev_hash is not its predecessor's hash), and a
 * truncated tail (the head row is ahead of the last entry).
 */
export async function verifyAudit(db: Db, pageSize = 5000): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expectedSeq) {
        return { ok: false, entries: count, badSeq: expectedSeq, problem: `entry ${expectedSeq} is missing` };
      }
      if (r.prev_hash !== prevHash) {
        return {
          ok: false,
          entries: count,
          badSeq: seq,
          problem: `entry ${seq} does not follow entry ${seq - 1} (removed or reordered)`,
        };
      }
      const recomputed = storedEntryHash(prevHash, r);
      if (recomputed !== r.hash) {
        return { ok: false, entries: count, badSeq: seq, problem: `entry ${seq} was altered (hash mismatch)` };
      }
      prevHash = r.hash;
      expectedSeq = seq + 1;
      count += 1;
    }
    if (rows.length < pageSize) break;
  }
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  if (!head || Number(head.seq) !== count || head.hash !== prevHash) {
    const headSeq = head ? Number(head.seq) : 0;
    return {
      ok: false,
      entries: count,
      // Entries beyond the head were appended around the chain's lock: the first of them is bad.
      badSeq: count > headSeq ? headSeq + 1 : count + 1,
      problem:
        headSeq > count
          ? `entries ${count + 1}..${headSeq} are missing (tail removed)`
          : count > headSeq
            ? `entry ${headSeq + 1} was appended without moving the chain head (forged)`
            : `entry ${count} does not match the chain head`,
    };
  }
  return { ok: true, entries: count, headHash: prevHash };
}

/**
 * {@link verifyAudit} for a live store: the walk takes no snapshot, so entries appended
 * meanwhile can look like a moved head. A failure is believed only when the head stood
 * still while the chain was walked; otherwise the walk is repeated, `attempts` times at most.
 */
export async function verifyAuditSettled(db: Db, attempts = 3): Promise<VerifyResult> {
  const headSeq = async () =>
    Number((await db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirst())?.seq ?? 0);
  for (let attempt = 1; ; attempt++) {
    const before = await headSeq();
    const result = await verifyAudit(db);
    if (result.ok || attempt >= attempts || (await headSeq()) === before) return result;
  }
}
