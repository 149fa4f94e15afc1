import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { sql } from 'kysely';
import { findAccountsByPhone } from '../src/accounts/service.js';
import { verifyAudit } from '../src/audit/service.js';
import { ENCRYPTED_TABLES } from '../src/crypto/encrypted-columns.js';
import {
  MASTER_KEY_FILE,
  MasterKeyError,
  NEXT_MASTER_KEY_FILE,
  loadMasterKey,
  masterKeyId,
  readKeyFile,
} from '../src/crypto/master-key.js';
import {
  SimulatedCrashError,
  assertMasterKeyFits,
  checkStoreKey,
  rotateMasterKey,
} from '../src/crypto/master-key-rotation.js';
import { PersonalDataCipher } from '../src/crypto/personal-data-cipher.js';
import { DOCUMENT_FIELD } from '../src/legal/service.js';
import { REPORTER_EMAIL_FIELD, reporterKeyOf } from '../src/reports/service.js';
import { ingestSessions, sessionsInPeriod } from '../src/sessions/service.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { runCli as runCliProcess } from './helpers/cli-process.js';
import {
  type EncryptedWorld,
  decryptability,
  fillEncryptedWorld,
  registryValueCounts,
} from './helpers/encrypted-world.js';
import { type Harness, TEST_ACTOR, describeEachStore } from './helpers/harness.js';

const DAY = 86_400_000;

describeEachStore('master key rotation', (get) => {
  let world: EncryptedWorld;
  let oldKey: Buffer;
  let newKey: Buffer;

  it('fills every column of the encrypted-column registry', async () => {
    const h = get();
    world = await fillEncryptedWorld(h);
    oldKey = loadMasterKey(h.config.dataDir, undefined);
    const counts = await registryValueCounts(h.ctx.store.db);
    assert.equal(Object.keys(counts).length, ENCRYPTED_TABLES.flatMap((t) => t.encrypted).length);
    for (const [column, n] of Object.entries(counts)) assert.ok(n > 0, `${column} holds no value in the test world`);
    // Every column named as ciphertext (`*_enc`) or blind index (`*_bidx`) is in the registry.
    const registered = new Set(
      ENCRYPTED_TABLES.flatMap((t) =>
        [...t.encrypted.map((c) => c.column), ...t.blindIndexes].map((c) => `${t.table}.${c}`),
      ),
    );
    for (const table of await h.ctx.store.db.introspection.getTables()) {
      for (const c of table.columns) {
        if (/_enc$|_bidx$/.test(c.name))
          assert.ok(registered.has(`${table.name}.${c.name}`), `${table.name}.${c.name}`);
      }
    }
    // Each blind-index column the registry names has values to recompute.
    for (const t of ENCRYPTED_TABLES) {
      for (const b of t.blindIndexes) {
        const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(t.table)}
          where ${sql.ref(b)} is not null`.execute(h.ctx.store.db);
        assert.ok(Number(r.rows[0]?.n) > 0, `${t.table}.${b} holds no value`);
      }
    }
  });

  it('a crash midway leaves every value readable by exactly one key, and the app refuses to start', async () => {
    const h = get();
    const db = h.ctx.store.db;
    await assert.rejects(
      rotateMasterKey(db, {
        dataDir: h.config.dataDir,
        configuredKey: undefined,
        actor: TEST_ACTOR,
        batchSize: 2,
        crashAfterBatches: 4,
      }),
      SimulatedCrashError,
    );
    const nextFile = path.join(h.config.dataDir, NEXT_MASTER_KEY_FILE);
    assert.equal(fs.statSync(nextFile).mode & 0o777, 0o600);
    newKey = readKeyFile(nextFile);
    assert.throws(() => loadMasterKey(h.config.dataDir, undefined), MasterKeyError);
    const underOld = await decryptability(db, new PersonalDataCipher(oldKey));
    const underNew = await decryptability(db, new PersonalDataCipher(newKey));
    let moved = 0;
    let left = 0;
    for (const column of Object.keys(underOld)) {
      const o = underOld[column]!;
      const n = underNew[column]!;
      assert.equal(o.ok + n.ok, o.ok + o.bad, `${column}: every value decrypts under exactly one key`);
      assert.equal(o.ok, n.bad, column);
      moved += n.ok;
      left += o.ok;
    }
    assert.ok(moved > 0 && left > 0, `a partial rotation (${moved} moved, ${left} left)`);
  });

  it('resumes, and afterwards every value decrypts under the new key only, blind indexes included', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const result = await rotateMasterKey(db, {
      dataDir: h.config.dataDir,
      configuredKey: undefined,
      actor: TEST_ACTOR,
    });
    assert.equal(result.resumed, true);
    assert.equal(result.newKeyId, masterKeyId(newKey));
    assert.ok(!fs.existsSync(path.join(h.config.dataDir, NEXT_MASTER_KEY_FILE)));
    assert.deepEqual(loadMasterKey(h.config.dataDir, undefined), newKey, 'master.key now holds the new key');
    assert.equal(fs.statSync(path.join(h.config.dataDir, MASTER_KEY_FILE)).mode & 0o777, 0o600);

    const oldCipher = new PersonalDataCipher(oldKey);
    const newCipher = new PersonalDataCipher(newKey);
    const underNew = await decryptability(db, newCipher);
    const underOld = await decryptability(db, oldCipher);
    for (const [column, n] of Object.entries(underNew)) {
      assert.ok(n.ok > 0, column);
      assert.equal(n.bad, 0, `${column}: every value decrypts under the new key`);
      assert.equal(underOld[column]!.ok, 0, `${column}: no value decrypts under the old key`);
    }
    assert.equal((await checkStoreKey(db, newCipher)).undecryptable, 0);

    // Values are the ones stored, and lookups by phone work with the new key only.
    for (const [accountId, phone] of world.phones) {
      const found = await findAccountsByPhone(db, newCipher, phone);
      assert.deepEqual(
        found.map((a) => a.id),
        [accountId],
      );
      assert.equal((await findAccountsByPhone(db, oldCipher, phone)).length, 0);
      const sessions = await sessionsInPeriod(db, newCipher, accountId, Date.now() - 60 * DAY, Date.now() + DAY);
      assert.deepEqual(sessions.map((s) => s.ip).sort(), [...world.ips.get(accountId)!].sort());
    }
    const doc = await db.selectFrom('legal_documents').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual(newCipher.decryptBytes(DOCUMENT_FIELD, doc.request_id, doc.content_enc), world.document);
    const emailReport = await db
      .selectFrom('reports')
      .selectAll()
      .where('reporter_email_enc', 'is not', null)
      .executeTakeFirstOrThrow();
    assert.equal(
      newCipher.decrypt(REPORTER_EMAIL_FIELD, emailReport.id, emailReport.reporter_email_enc!),
      world.reporterEmail,
    );
    assert.equal(emailReport.reporter_key, reporterKeyOf(newCipher, `email:${world.reporterEmail.toLowerCase()}`));

    // Reporters' keys (and their track record) follow them to the new key.
    const byAccount = await db
      .selectFrom('reports')
      .select(['reporter_account_id', 'reporter_key'])
      .where('reporter_account_id', 'is not', null)
      .execute();
    assert.ok(byAccount.length > 0);
    for (const r of byAccount) assert.equal(r.reporter_key, reporterKeyOf(newCipher, `acct:${r.reporter_account_id}`));
    const stats = await db.selectFrom('reporter_stats').select('reporter_key').execute();
    assert.ok(stats.length > 0);
    const keys = new Set(byAccount.map((r) => r.reporter_key));
    for (const s of stats) assert.ok(keys.has(s.reporter_key), 'reporter_stats renamed to the new keys');

    // A re-sent session still collapses onto its stored row (its id is a keyed hash).
    const [accountId, ips] = [...world.ips.entries()][0]!;
    const stored = await db
      .selectFrom('sessions')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    const again = await ingestSessions(
      db,
      newCipher,
      TEST_ACTOR,
      [
        {
          accountId,
          ip: newCipher.decrypt('sessions.ip', accountId, stored.ip_enc),
          port: stored.port ?? undefined,
          at: new Date(Number(stored.at)).toISOString(),
        },
      ],
      { retentionDays: 365 },
    );
    assert.ok(ips.length > 0);
    assert.deepEqual([again.inserted, again.duplicates], [0, 1]);

    // The start-up check accepts the new key and refuses the old one, clearly.
    await assertMasterKeyFits(db, newCipher);
    await assert.rejects(assertMasterKeyFits(db, oldCipher), (e: Error) => {
      assert.ok(e instanceof MasterKeyError);
      assert.match(e.message, /does not decrypt .*written under another key/);
      return true;
    });

    // Audited, chain intact, and no personal data in the entries.
    const audit = await verifyAudit(db);
    assert.ok(audit.ok);
    const entries = await db.selectFrom('audit_log').selectAll().where('action', 'like', 'keys.%').execute();
    assert.deepEqual(
      entries.map((e) => e.action),
      ['keys.master_rotation_started', 'keys.master_rotation_started', 'keys.master_rotated'],
    );
    const text = JSON.stringify(entries);
    for (const phone of world.phones.values()) assert.ok(!text.includes(phone));
    assert.ok(!text.includes(newKey.toString('hex')) && !text.includes(oldKey.toString('hex')));
  });

  it('custos keys rotate-master rotates again from the CLI, printing no key; the old key then fails `keys check`', async () => {
    const h = get();
    const before = readKeyFile(path.join(h.config.dataDir, MASTER_KEY_FILE));
    const rotated = await runCli(h, ['keys', 'rotate-master', '--batch-size', '3']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const after = readKeyFile(path.join(h.config.dataDir, MASTER_KEY_FILE));
    assert.ok(!after.equals(before));
    assert.match(rotated.stdout, new RegExp(`key ${masterKeyId(before)} -> ${masterKeyId(after)}`));
    assert.match(rotated.stdout, /accounts\.phone_enc: \d+ re-encrypted/);
    const output = rotated.stdout + rotated.stderr;
    for (const secret of [before, after]) assert.ok(!output.includes(secret.toString('hex')));
    for (const phone of world.phones.values()) assert.ok(!output.includes(phone));

    // With CUSTOS_MASTER_KEY set to the previous key: refuses, naming a column, printing no value.
    const stale = await runCliWithKey(h, before, ['keys', 'check']);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /do not decrypt under the configured master key/);
    assert.equal((await checkStoreKey(h.ctx.store.db, new PersonalDataCipher(after))).undecryptable, 0);
  });

  it('refuses a new key equal to the current one and, with CUSTOS_MASTER_KEY, needs --new-key-file', async () => {
    const h = get();
    const current = readKeyFile(path.join(h.config.dataDir, MASTER_KEY_FILE));
    await assert.rejects(
      rotateMasterKey(h.ctx.store.db, { dataDir: h.config.dataDir, configuredKey: current, actor: TEST_ACTOR }),
      /--new-key-file/,
    );
    const same = path.join(h.config.dataDir, 'same.key');
    fs.writeFileSync(same, current.toString('hex'), { mode: 0o600 });
    await assert.rejects(
      rotateMasterKey(h.ctx.store.db, {
        dataDir: h.config.dataDir,
        configuredKey: current,
        newKeyFile: same,
        actor: TEST_ACTOR,
      }),
      /is the current one/,
    );
    // A configured key rotated to a file's key: the next-key file is removed, master.key untouched.
    const next = path.join(h.config.dataDir, 'next.key');
    const nextKey = crypto.randomBytes(32);
    fs.writeFileSync(next, nextKey.toString('hex'), { mode: 0o600 });
    const result = await rotateMasterKey(h.ctx.store.db, {
      dataDir: h.config.dataDir,
      configuredKey: current,
      newKeyFile: next,
      actor: TEST_ACTOR,
    });
    assert.equal(result.keyFile, null);
    assert.ok(!fs.existsSync(path.join(h.config.dataDir, NEXT_MASTER_KEY_FILE)));
    assert.equal((await checkStoreKey(h.ctx.store.db, new PersonalDataCipher(nextKey))).undecryptable, 0);
  });
});

function runCliWithKey(h: Harness, key: Buffer, args: string[]) {
  return runCliProcess(args, { ...cliEnv(h), CUSTOS_MASTER_KEY: key.toString('hex') });
}
