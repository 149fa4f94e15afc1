import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { sql } from 'kysely';
import { findAccountsByPhone } from '../src/accounts/service.js';
import { verifyAudit } from '../src/audit/service.js';
import { toConfig } from '../src/config.js';
import { type Context, closeContext, createContext } from '../src/context.js';
import { MASTER_KEY_FILE } from '../src/crypto/master-key.js';
import { assertMasterKeyFits, checkStoreKey } from '../src/crypto/master-key-rotation.js';
import { BackupError, backupStore, restoreStore } from '../src/db/backup.js';
import type { Db } from '../src/db/database.js';
import { DOCUMENT_FIELD } from '../src/legal/service.js';
import { sessionsInPeriod } from '../src/sessions/service.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { runCli as runCliProcess } from './helpers/cli-process.js';
import { type EncryptedWorld, fillEncryptedWorld, registryValueCounts } from './helpers/encrypted-world.js';
import { describeEachStore } from './helpers/harness.js';
import { type ScratchDatabase, createScratchDatabase } from './helpers/scratch-database.js';

const DAY = 86_400_000;

/** Rows per table, every table of the schema. */
async function tableCounts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await db.introspection.getTables()) {
    const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(t.name)}`.execute(db);
    out[t.name] = Number(r.rows[0]?.n ?? 0);
  }
  return out;
}

describeEachStore('backup and restore', (get, dialect) => {
  let world: EncryptedWorld;
  let backupFile: string;
  let restoredDir: string;
  let scratch: ScratchDatabase | undefined;
  let restored: Context | undefined;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-backup-test-'));

  after(async () => {
    if (restored) await closeContext(restored).catch(() => {});
    await scratch?.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('custos backup writes a backup of a filled store (mode 0600)', async () => {
    const h = get();
    world = await fillEncryptedWorld(h, 2);
    backupFile = path.join(work, 'custos.backup');
    const res = await runCli(h, ['backup', '--out', backupFile]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /backup written: /);
    assert.equal(fs.statSync(backupFile).mode & 0o777, 0o600);
    await assert.rejects(backupStore(h.config, backupFile), /exists/, 'refuses to overwrite a backup');
  });

  it('custos restore loads it into a fresh store; counts match, fields decrypt, the audit chain verifies', async () => {
    const h = get();
    restoredDir = path.join(work, 'restored');
    fs.mkdirSync(restoredDir, { mode: 0o700 });
    // The master key travels separately from the backup.
    fs.copyFileSync(path.join(h.config.dataDir, MASTER_KEY_FILE), path.join(restoredDir, MASTER_KEY_FILE));
    fs.chmodSync(path.join(restoredDir, MASTER_KEY_FILE), 0o600);
    const env: NodeJS.ProcessEnv = { ...cliEnv(h), CUSTOS_DATA_DIR: restoredDir };
    delete env.PGOPTIONS;
    if (dialect === 'postgres') {
      scratch = await createScratchDatabase('custos_restore');
      env.CUSTOS_DATABASE_URL = scratch.url;
    }
    const res = await runCliProcess(['restore', '--from', backupFile], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /audit chain intact: \d+ entries/);
    assert.match(res.stdout, /decrypts all \d+ encrypted values/);

    const config = toConfig(
      { CUSTOS_DATA_DIR: restoredDir, ...(scratch ? { CUSTOS_DATABASE_URL: scratch.url } : {}) },
      { logLevel: 'warn', pgPoolSize: 2 },
    );
    restored = await createContext(config, dialect === 'postgres' ? { pgSchema: h.location } : {});
    const db = restored.store.db;
    assert.deepEqual(await tableCounts(db), await tableCounts(h.ctx.store.db));
    const values = await registryValueCounts(db);
    for (const [column, n] of Object.entries(values)) assert.ok(n > 0, `${column} restored with values`);
    assert.deepEqual(values, await registryValueCounts(h.ctx.store.db));
    assert.equal((await checkStoreKey(db, restored.cipher)).undecryptable, 0);
    await assertMasterKeyFits(db, restored.cipher);
    for (const [accountId, phone] of world.phones) {
      assert.deepEqual(
        (await findAccountsByPhone(db, restored.cipher, phone)).map((a) => a.id),
        [accountId],
      );
      const sessions = await sessionsInPeriod(db, restored.cipher, accountId, Date.now() - 60 * DAY, Date.now() + DAY);
      assert.deepEqual(sessions.map((s) => s.ip).sort(), [...world.ips.get(accountId)!].sort());
    }
    const doc = await db
      .selectFrom('legal_documents')
      .selectAll()
      .where('request_id', '=', world.legalRequestId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(restored.cipher.decryptBytes(DOCUMENT_FIELD, doc.request_id, doc.content_enc), world.document);

    const original = await verifyAudit(h.ctx.store.db);
    const copy = await verifyAudit(db);
    assert.ok(copy.ok && original.ok);
    assert.equal(copy.headHash, original.headHash);
    assert.equal(copy.entries, original.entries);

    // `custos audit verify`, as an operator runs it after a restore.
    const verifyEnv: NodeJS.ProcessEnv = {
      ...env,
      ...(dialect === 'postgres' ? { PGOPTIONS: `-c search_path=${h.location}` } : {}),
    };
    const verified = await runCliProcess(['audit', 'verify'], verifyEnv);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`audit chain intact: ${copy.entries} entries, head ${copy.headHash}`));
  });

  it('restore refuses a store that already holds data', async () => {
    const config = toConfig(
      { CUSTOS_DATA_DIR: restoredDir, ...(scratch ? { CUSTOS_DATABASE_URL: scratch.url } : {}) },
      { logLevel: 'warn', pgPoolSize: 2 },
    );
    await assert.rejects(restoreStore(config, backupFile), BackupError);
  });
});
