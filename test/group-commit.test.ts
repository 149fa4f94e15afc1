import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { GroupCommit } from '../src/db/group-commit.js';
import { AppError } from '../src/errors.js';
import { describeEachStore } from './helpers/harness.js';
import { seedContent } from './helpers/notice-action.js';
import { fileReport } from '../src/reports/service.js';

const ACTOR = { id: 'tok_test', role: 'platform' as const };

describeEachStore('group commit', (get) => {
  it('runs concurrent units in fewer transactions, each unit in its own savepoint', async () => {
    const h = get();
    const db = h.ctx.store.db;
    await sql`create table gc_probe (k text primary key, v integer not null)`.execute(db);
    let transactions = 0;
    let lastTx: unknown = null;
    const group = new GroupCommit(db, async (tx, input: { k: string; fail?: 'before' | 'after' }) => {
      if (tx !== lastTx) {
        transactions += 1;
        lastTx = tx;
      }
      if (input.fail === 'before') throw new AppError('not_found', 'no such thing');
      await tx
        .insertInto('gc_probe' as never)
        .values({ k: input.k, v: 1 } as never)
        .execute();
      // A unit that fails after writing must leave none of its writes behind.
      if (input.fail === 'after') throw new AppError('conflict', 'changed my mind');
      return input.k;
    });
    const inputs = Array.from({ length: 40 }, (_, i) => ({
      k: `k${i}`,
      fail: i % 10 === 3 ? ('before' as const) : i % 10 === 7 ? ('after' as const) : undefined,
    }));
    const settled = await Promise.allSettled(inputs.map((input) => group.submit(input)));
    settled.forEach((s, i) => {
      if (inputs[i]!.fail) {
        assert.equal(s.status, 'rejected');
        assert.ok((s as PromiseRejectedResult).reason instanceof AppError);
      } else assert.deepEqual(s, { status: 'fulfilled', value: `k${i}` });
    });
    const rows = await sql<{ k: string }>`select k from gc_probe order by k`.execute(db);
    const expected = inputs.filter((i) => !i.fail).map((i) => i.k);
    assert.deepEqual(rows.rows.map((r) => r.k).sort(), expected.sort());
    assert.ok(transactions < inputs.length / 2, `${transactions} transactions for ${inputs.length} units`);
  });

  it('gathers units submitted by separate callbacks of one turn of the event loop into one transaction', async () => {
    // Requests read in one poll of the sockets each start from their own callback.
    // A synchronous store (better-sqlite3) would finish a transaction inside each of
    // them before the next one runs, one commit per unit, unless the batch waits
    // for the turn to end.
    const h = get();
    const db = h.ctx.store.db;
    await sql`create table gc_probe4 (k text primary key)`.execute(db);
    const seen = new Set<unknown>();
    const group = new GroupCommit(db, async (tx, k: string) => {
      seen.add(tx);
      await tx
        .insertInto('gc_probe4' as never)
        .values({ k } as never)
        .execute();
      return k;
    });
    const submitted = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => new Promise<Promise<string>>((resolve) => setImmediate(() => resolve(group.submit(`k${i}`)))),
      ),
    );
    assert.equal((await Promise.all(submitted)).length, 20);
    assert.equal(seen.size, 1, `${seen.size} transactions for 20 units`);
  });

  it('when the shared transaction fails, runs every unit again alone: one bad unit fails only itself', async () => {
    const h = get();
    const db = h.ctx.store.db;
    await sql`create table gc_probe2 (k text primary key)`.execute(db);
    const group = new GroupCommit(db, async (tx, k: string) => {
      if (k === 'poison') {
        // An error no savepoint can contain: the transaction itself is gone.
        await sql`rollback`.execute(tx);
        throw new Error('broke the transaction');
      }
      await tx
        .insertInto('gc_probe2' as never)
        .values({ k } as never)
        .execute();
      return k;
    });
    const keys = ['a', 'b', 'poison', 'c', 'd'];
    const settled = await Promise.allSettled(keys.map((k) => group.submit(k)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    const rows = await sql<{ k: string }>`select k from gc_probe2 order by k`.execute(db);
    assert.deepEqual(
      rows.rows.map((r) => r.k),
      ['a', 'b', 'c', 'd'],
    );
  });

  it('runs deferred steps after every unit, in unit order, and none of a unit that failed', async () => {
    const h = get();
    const db = h.ctx.store.db;
    await sql`create table gc_probe3 (seq integer primary key, k text not null)`.execute(db);
    let seq = 0;
    const units: string[] = [];
    const group = new GroupCommit(
      db,
      async (_tx, k: string, unit) => {
        units.push(k);
        unit.defer(async (t) => {
          seq += 1;
          await t
            .insertInto('gc_probe3' as never)
            .values({ seq, k } as never)
            .execute();
        });
        if (k.startsWith('bad')) throw new AppError('conflict', 'no');
        return k;
      },
      { orderBy: (k) => k, concurrency: 2 },
    );
    const keys = ['m', 'bad-1', 'c', 'x', 'a', 'bad-2', 'q'];
    await Promise.allSettled(keys.map((k) => group.submit(k)));
    const rows = await sql<{ k: string }>`select k from gc_probe3 order by seq`.execute(db);
    const logged = rows.rows.map((r) => r.k);
    assert.deepEqual([...logged].sort(), ['a', 'c', 'm', 'q', 'x']);
    // Within each batch the deferred steps follow the units' key order.
    const position = new Map(logged.map((k, i) => [k, i]));
    for (const [a, b] of [
      ['a', 'c'],
      ['q', 'x'],
    ] as const) {
      if (units.indexOf(a) < units.indexOf(b)) assert.ok(position.get(a)! < position.get(b)!, logged.join(','));
    }
  });

  it('a burst of reports, some about unknown subjects: each valid one stored once, each bad one a 404', async () => {
    const h = get();
    const { content } = await seedContent(h);
    const bodies = Array.from({ length: 30 }, (_, i) => ({
      subject: { contentId: i % 6 === 5 ? `missing-${i}` : content.id },
      category: 'spam' as const,
      reporter: { accountId: `reporter-${i}` },
    }));
    const settled = await Promise.allSettled(bodies.map((b) => fileReport(h.ctx, ACTOR, b, '192.0.2.1')));
    const ok = settled.filter((s) => s.status === 'fulfilled');
    const bad = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(ok.length, 25);
    assert.equal(bad.length, 5);
    for (const b of bad) assert.equal((b.reason as AppError).code, 'not_found');
    const db = h.ctx.store.db;
    const stored = await db.selectFrom('reports').select(['case_id']).where('subject_id', '=', content.id).execute();
    assert.equal(stored.length, 25);
    assert.equal(new Set(stored.map((r) => r.case_id)).size, 1, 'all in one case');
    const kase = await db
      .selectFrom('cases')
      .select(['report_count', 'reporter_count'])
      .where('id', '=', stored[0]!.case_id)
      .executeTakeFirstOrThrow();
    assert.equal(kase.report_count, 25);
    assert.equal(kase.reporter_count, 25);
  });
});
