import crypto from 'node:crypto';
import type { Actor } from '../../src/audit/actor.js';
import assert from 'node:assert/strict';
import { appendAudit, verifyAudit } from '../../src/audit/service.js';
import type { Db } from '../../src/db/database.js';
import type { AuditHeadTable, AuditLogTable } from '../../src/db/schema.js';

/** The audit tables as they are, so a test can tamper with them and put them back. */
export interface AuditSnapshot {
  rows: AuditLogTable[];
  head: AuditHeadTable;
}

export async function snapshotAudit(db: Db): Promise<AuditSnapshot> {
  const rows = await db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  const head = await db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  return {
    rows: rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) })),
    head: { ...head, seq: Number(head.seq) },
  };
}

/** Puts the audit tables back exactly as snapshotted. */
export async function restoreAudit(db: Db, snapshot: AuditSnapshot): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('audit_log').execute();
    for (let i = 0; i < snapshot.rows.length; i += 200) {
      await tx
        .insertInto('audit_log')
        .values(snapshot.rows.slice(i, i + 200))
        .execute();
    }
    await tx
      .updateTable('audit_head')
      .set({ seq: snapshot.head.seq, hash: snapshot.head.hash })
      .where('id', '=', 1)
      .execute();
  });
}

/** Runs `check` on a tampered chain, then puts the audit tables back and makes sure the chain is whole again. */
export async function withTampering(
  db: Db,
  tamper: (db: Db) => Promise<void>,
  check: () => Promise<void>,
): Promise<void> {
  const snapshot = await snapshotAudit(db);
  try {
    await tamper(db);
    await check();
  } finally {
    await restoreAudit(db, snapshot);
  }
  assert.equal((await verifyAudit(db)).ok, true, 'the chain is whole again after the restore');
}

/** The highest seq in the log (0 when empty). */
export async function lastSeq(db: Db): Promise<number> {
  const row = await db.selectFrom('audit_log').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? Number(row.seq) : 0;
}

/** Swaps the seq numbers of two rows, moving each row to the other's place. */
export async function swapSeq(db: Db, a: number, b: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('audit_log').set({ seq: -1 }).where('seq', '=', a).execute();
    await tx.updateTable('audit_log').set({ seq: a }).where('seq', '=', b).execute();
    await tx.updateTable('audit_log').set({ seq: b }).where('seq', '=', -1).execute();
  });
}

/** Swaps everything but the seq numbers of two rows. */
export async function swapContents(db: Db, a: number, b: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const rowA = await tx.selectFrom('audit_log').selectAll().where('seq', '=', a).executeTakeFirstOrThrow();
    const rowB = await tx.selectFrom('audit_log').selectAll().where('seq', '=', b).executeTakeFirstOrThrow();
    const { seq: _a, ...contentA } = rowA;
    const { seq: _b, ...contentB } = rowB;
    await tx.updateTable('audit_log').set(contentB).where('seq', '=', a).execute();
    await tx.updateTable('audit_log').set(contentA).where('seq', '=', b).execute();
  });
}

/** Appends `n` harmless entries, so a test has a chain long enough to cut in the middle. */
export async function appendFillerEntries(db: Db, n: number, actor: Actor, at?: (i: number) => number) {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const seq = await db
      .transaction()
      .execute((tx) =>
        appendAudit(
          tx,
          actor,
          { action: 'test.filler', subjectType: 'test', subjectId: crypto.randomUUID(), details: { i } },
          at ? at(i) : undefined,
        ),
      );
    seqs.push(seq);
  }
  return seqs;
}
