import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/db/database.js';

it('SQLite: the WAL is copied into the database by the checkpoint thread, not by the serving connection', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-ckpt-'));
  const store = await openStore(loadConfig({ CUSTOS_DATA_DIR: dir }));
  try {
    const file = path.join(dir, 'custos.sqlite');
    await sql`create table filler (id integer primary key, data blob not null)`.execute(store.db);
    const before = fs.statSync(file).size;
    // About 8 MB in 2,000 commits: below the serving connection's own threshold (10,000 pages).
    for (let i = 0; i < 2000; i++) {
      await sql`insert into filler (data) values (randomblob(4000))`.execute(store.db);
    }
    const deadline = Date.now() + 20_000;
    while (fs.statSync(file).size < before + 7_000_000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(fs.statSync(file).size >= before + 7_000_000, `database file is ${fs.statSync(file).size} bytes`);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
