import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { prepared } from '../src/db/prepared.js';
import { describeEachStore } from './helpers/harness.js';

describeEachStore('prepared queries', (get) => {
  it('compile once per dialect and run with fresh values each time, inside and outside transactions', async () => {
    const db = get().ctx.store.db;
    await sql`create table prep_probe (k text primary key, n integer not null)`.execute(db);
    let builds = 0;
    const insert = prepared(['k', 'n'], (d, row: { k: string; n: number }) => {
      builds += 1;
      return d.insertInto('prep_probe' as never).values(row as never);
    });
    const byN = prepared(['min'], (d, p: { min: number }) => {
      builds += 1;
      return d
        .selectFrom('prep_probe' as never)
        .select(['k' as never])
        .where('n' as never, '>=', p.min as never)
        .orderBy('k' as never);
    });
    for (let i = 0; i < 5; i++) await insert.execute(db, { k: `k${i}`, n: i });
    await db.transaction().execute(async (tx) => {
      await insert.execute(tx, { k: 'k9', n: 9 });
    });
    assert.deepEqual(
      (await byN.rows(db, { min: 3 })).map((r) => (r as { k: string }).k),
      ['k3', 'k4', 'k9'],
    );
    assert.deepEqual(
      (await byN.rows(db, { min: 9 })).map((r) => (r as { k: string }).k),
      ['k9'],
    );
    assert.equal(builds, 2, 'each query built once');
  });

  it('refuses a parameter it was not given, and one that would become SQL text', async () => {
    const db = get().ctx.store.db;
    const unnamed = prepared(['a'], (d, p: { a: string; b: string }) =>
      d.selectFrom('accounts').select('id').where('id', '=', p.b),
    );
    await assert.rejects(unnamed.first(db, { a: 'x', b: 'y' }), /no parameter b/);
    const asText = prepared(['name'], (d, p: { name: string }) =>
      d.selectFrom('accounts').select(sql.id(p.name).as('x')),
    );
    await assert.rejects(asText.first(db, { name: 'id' }), /became SQL text/);
  });
});
