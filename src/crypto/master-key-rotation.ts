import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Actor } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { Db, Tx } from '../db/database.js';
import { ENCRYPTED_TABLES, type EncryptedTable, type RekeyKeys } from './encrypted-columns.js';
import {
  MASTER_KEY_FILE,
  MasterKeyError,
  NEXT_MASTER_KEY_FILE,
  masterKeyId,
  readKeyFile,
  syncFolder,
  writeKeyFile,
} from './master-key.js';
import { PersonalDataCipher } from './personal-data-cipher.js';

/*
 * Why a crash cannot leave a value readable by neither key
 * ---------------------------------------------------------
 * 1. The next key is written to `<dataDir>/master.key.next` (fsynced, mode 0600)
 *    before any row changes, so both keys survive any crash. While that file
 *    exists the app refuses to start (loadMasterKey), and a re-run of the command
 *    picks it up and resumes.
 * 2. Rows are re-encrypted in batches, one transaction per batch, and each row in
 *    one UPDATE that sets its ciphertexts and its blind indexes together: a row is
 *    wholly under the old key or wholly under the new one, in both stores.
 * 3. Which key a value is under needs no bookkeeping (and so no schema change):
 *    AES-GCM authenticates, so a value decrypts under exactly one of the two keys
 *    (a false match has probability 2^-128). Each run tries the new key first and
 *    rewrites only what is still under the old key; blind indexes are recomputed
 *    from the plaintext, never from the old index, so redoing a row is harmless.
 *    A resumed run rescans from the start, reading but not writing finished rows.
 * 4. Only after a full pass and a second, read-only pass have found every value
 *    under the new key is the key file swapped (an atomic rename of
 *    master.key.next over master.key) or, with CUSTOS_MASTER_KEY, the next file
 *    removed and the operator told to change the variable.
 * The app must be stopped meanwhile: a process still running with the old key
 * would write rows under it behind the scan (the read-only pass catches those and
 * the command refuses to finish while they keep appearing).
 */

export interface RekeyCounts {
  /** `table.column` -> values re-encrypted under the new key. */
  readonly reencrypted: Record<string, number>;
  /** `table.column` -> values already under the new key (a resumed run). */
  readonly alreadyCurrent: Record<string, number>;
  /** `table.column` -> blind-index values recomputed and changed. */
  readonly blindIndexes: Record<string, number>;
  readonly batches: number;
}

export interface RekeyOptions {
  batchSize?: number;
  /** Test hook: stop with an error after this many committed batches, as a crash would. */
  crashAfterBatches?: number;
}

/** Thrown by the crashAfterBatches test hook. */
export class SimulatedCrashError extends Error {
  override readonly name = 'SimulatedCrashError';
}

/**
 * Moves every value of the registry (encrypted-columns.ts) from `keys.from` to
 * `keys.to` and recomputes the blind indexes, batch by batch. Safe to re-run after
 * a crash (see the note at the top of this file). Throws, naming the table, column
 * and row key, on a value that decrypts under neither key.
 */
export async function rekeyStore(db: Db, keys: RekeyKeys, options: RekeyOptions = {}): Promise<RekeyCounts> {
  const counts: RekeyCounts = { reencrypted: {}, alreadyCurrent: {}, blindIndexes: {}, batches: 0 };
  let batches = 0;
  for (const table of ENCRYPTED_TABLES) {
    for (const c of table.encrypted) {
      counts.reencrypted[`${table.table}.${c.column}`] = 0;
      counts.alreadyCurrent[`${table.table}.${c.column}`] = 0;
    }
    for (const b of table.blindIndexes) counts.blindIndexes[`${table.table}.${b}`] = 0;
    let cursor = '';
    for (;;) {
      const page = await db.transaction().execute(async (tx) => {
        const rows = await readPage(tx, table, cursor, options.batchSize ?? 500);
        for (const row of rows) await rekeyRow(tx, table, row, keys, counts);
        return rows;
      });
      if (page.length === 0) break;
      cursor = String(page[page.length - 1]![table.key]);
      batches++;
      if (options.crashAfterBatches !== undefined && batches >= options.crashAfterBatches) {
        throw new SimulatedCrashError(`stopped after ${batches} batches`);
      }
    }
  }
  return { ...counts, batches };
}

async function readPage(
  tx: Tx,
  table: EncryptedTable,
  after: string,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const columns = [
    ...new Set([
      table.key,
      ...table.reads,
      ...table.blindIndexes,
      ...table.encrypted.flatMap((c) => [c.column, c.owner]),
    ]),
  ];
  const result = await sql<Record<string, unknown>>`
    select ${sql.join(columns.map((c) => sql.ref(c)))} from ${sql.table(table.table)}
    where ${sql.ref(table.key)} > ${after} order by ${sql.ref(table.key)} limit ${limit}`.execute(tx);
  return result.rows;
}

async function rekeyRow(
  tx: Tx,
  table: EncryptedTable,
  row: Record<string, unknown>,
  keys: RekeyKeys,
  counts: RekeyCounts,
): Promise<void> {
  const set: Record<string, unknown> = {};
  const plain: Record<string, Buffer | null> = {};
  for (const c of table.encrypted) {
    const sealed = row[c.column] as Buffer | Uint8Array | null;
    const name = `${table.table}.${c.column}`;
    if (sealed === null || sealed === undefined) {
      plain[c.column] = null;
      continue;
    }
    const owner = String(row[c.owner]);
    const current = tryDecrypt(keys.to, c.field, owner, sealed);
    if (current) {
      plain[c.column] = current;
      counts.alreadyCurrent[name]!++;
      continue;
    }
    const old = tryDecrypt(keys.from, c.field, owner, sealed);
    if (!old) {
      throw new MasterKeyError(
        `${name} of ${table.table} ${String(row[table.key])} decrypts under neither the current nor the new master key`,
      );
    }
    plain[c.column] = old;
    set[c.column] = keys.to.encryptBytes(c.field, owner, old);
    counts.reencrypted[name]!++;
  }
  const change = table.rekeyBlindIndexes?.({ row, plain }, keys);
  for (const [column, value] of Object.entries(change?.set ?? {})) {
    if (row[column] === value) continue;
    set[column] = value;
    counts.blindIndexes[`${table.table}.${column}`]!++;
  }
  for (const r of change?.renames ?? []) {
    // A second report of the same reporter finds the row already renamed: nothing to do.
    await sql`update ${sql.table(r.table)} set ${sql.ref(r.column)} = ${r.to}
      where ${sql.ref(r.column)} = ${r.from}
      and not exists (select 1 from ${sql.table(r.table)} where ${sql.ref(r.column)} = ${r.to})`.execute(tx);
  }
  if (Object.keys(set).length === 0) return;
  await sql`update ${sql.table(table.table)}
    set ${sql.join(Object.entries(set).map(([c, v]) => sql`${sql.ref(c)} = ${v}`))}
    where ${sql.ref(table.key)} = ${row[table.key]}`.execute(tx);
}

function tryDecrypt(
  cipher: PersonalDataCipher,
  field: string,
  owner: string,
  sealed: Buffer | Uint8Array,
): Buffer | null {
  try {
    return cipher.decryptBytes(field, owner, sealed);
  } catch {
    return null;
  }
}

export interface KeyCheck {
  /** `table.column` -> { values, undecryptable }. */
  readonly columns: Record<string, { values: number; undecryptable: number }>;
  readonly undecryptable: number;
}

/** Reads every value of the registry and counts those that do not decrypt under `cipher` (read-only). */
export async function checkStoreKey(db: Db, cipher: PersonalDataCipher, batchSize = 1000): Promise<KeyCheck> {
  const columns: Record<string, { values: number; undecryptable: number }> = {};
  let undecryptable = 0;
  for (const table of ENCRYPTED_TABLES) {
    for (const c of table.encrypted) columns[`${table.table}.${c.column}`] = { values: 0, undecryptable: 0 };
    let cursor = '';
    for (;;) {
      const rows = await readPage(db as unknown as Tx, table, cursor, batchSize);
      if (rows.length === 0) break;
      cursor = String(rows[rows.length - 1]![table.key]);
      for (const row of rows) {
        for (const c of table.encrypted) {
          const sealed = row[c.column] as Buffer | null;
          if (sealed === null || sealed === undefined) continue;
          const entry = columns[`${table.table}.${c.column}`]!;
          entry.values++;
          if (!tryDecrypt(cipher, c.field, String(row[c.owner]), sealed)) {
            entry.undecryptable++;
            undecryptable++;
          }
        }
      }
    }
  }
  return { columns, undecryptable };
}

/**
 * The start-up check: one stored value per encrypted column must decrypt under the
 * configured key. Catches the app started with a key the data is not under (the
 * old key after a rotation, a restore with the wrong key) before it serves errors.
 */
export async function assertMasterKeyFits(db: Db, cipher: PersonalDataCipher): Promise<void> {
  for (const table of ENCRYPTED_TABLES) {
    for (const c of table.encrypted) {
      const result = await sql<Record<string, unknown>>`
        select ${sql.ref(c.owner)} as owner, ${sql.ref(c.column)} as sealed from ${sql.table(table.table)}
        where ${sql.ref(c.column)} is not null limit 1`.execute(db);
      const row = result.rows[0];
      if (!row) continue;
      if (!tryDecrypt(cipher, c.field, String(row.owner), row.sealed as Buffer)) {
        throw new MasterKeyError(
          `the master key (id ${cipher.keyId}) does not decrypt ${table.table}.${c.column}: the data was written under another key. After \`custos keys rotate-master\`, start custos with the new key; after a restore, with the key of the backup`,
        );
      }
    }
  }
}

export interface RotateMasterKeyOptions {
  dataDir: string;
  /** CUSTOS_MASTER_KEY, when the key is configured rather than kept in `<dataDir>/master.key`. */
  configuredKey: Buffer | undefined;
  /** File holding the new key (64 hex digits, mode 0600); required with CUSTOS_MASTER_KEY. */
  newKeyFile?: string;
  actor: Actor;
  batchSize?: number;
  /** Test hook, see {@link RekeyOptions}. */
  crashAfterBatches?: number;
}

export interface RotateMasterKeyResult {
  readonly oldKeyId: string;
  readonly newKeyId: string;
  /** True when an unfinished rotation was picked up. */
  readonly resumed: boolean;
  readonly counts: RekeyCounts;
  /** Where the new key now is: `<dataDir>/master.key`, or null when CUSTOS_MASTER_KEY must be changed. */
  readonly keyFile: string | null;
}

/** `custos keys rotate-master`: see the note at the top of this file for why it is crash-safe. */
export async function rotateMasterKey(db: Db, options: RotateMasterKeyOptions): Promise<RotateMasterKeyResult> {
  const keyFile = path.join(options.dataDir, MASTER_KEY_FILE);
  const nextFile = path.join(options.dataDir, NEXT_MASTER_KEY_FILE);
  if (!options.configuredKey && !fs.existsSync(keyFile)) {
    throw new MasterKeyError(`no master key: neither CUSTOS_MASTER_KEY nor ${keyFile} is set`);
  }
  const current = options.configuredKey ?? readKeyFile(keyFile);
  const offered = options.newKeyFile ? readKeyFile(options.newKeyFile) : undefined;
  let next: Buffer;
  const resumed = fs.existsSync(nextFile);
  if (resumed) {
    next = readKeyFile(nextFile);
    if (offered && !offered.equals(next)) {
      throw new MasterKeyError(
        `an unfinished rotation to another key is recorded in ${nextFile}; finish it first (run without --new-key-file or with the same file)`,
      );
    }
  } else {
    if (!offered && options.configuredKey) {
      throw new MasterKeyError(
        'CUSTOS_MASTER_KEY is set: give the new key with --new-key-file (custos cannot change the variable)',
      );
    }
    next = offered ?? crypto.randomBytes(32);
    if (next.equals(current)) throw new MasterKeyError('the new master key is the current one');
    writeKeyFile(nextFile, next);
  }
  const keys = { from: new PersonalDataCipher(current), to: new PersonalDataCipher(next) };
  const ids = { from: masterKeyId(current), to: masterKeyId(next) };
  await appendAudit(db, options.actor, {
    action: 'keys.master_rotation_started',
    subjectType: 'master_key',
    subjectId: ids.to,
    details: { from: ids.from, to: ids.to, resumed },
  });
  let counts = await rekeyStore(db, keys, {
    batchSize: options.batchSize,
    crashAfterBatches: options.crashAfterBatches,
  });
  let check = await checkStoreKey(db, keys.to);
  if (check.undecryptable > 0) {
    // Rows written behind the scan by a process still on the old key: one more pass.
    counts = await rekeyStore(db, keys, { batchSize: options.batchSize });
    check = await checkStoreKey(db, keys.to);
    if (check.undecryptable > 0) {
      throw new MasterKeyError(
        `${check.undecryptable} values are still written under the old key: stop every custos process and run the command again`,
      );
    }
  }
  await appendAudit(db, options.actor, {
    action: 'keys.master_rotated',
    subjectType: 'master_key',
    subjectId: ids.to,
    details: {
      from: ids.from,
      to: ids.to,
      resumed,
      reencrypted: counts.reencrypted,
      blindIndexes: counts.blindIndexes,
    },
  });
  if (options.configuredKey) {
    fs.rmSync(nextFile);
  } else {
    fs.renameSync(nextFile, keyFile);
  }
  syncFolder(options.dataDir);
  return { oldKeyId: ids.from, newKeyId: ids.to, resumed, counts, keyFile: options.configuredKey ? null : keyFile };
}
