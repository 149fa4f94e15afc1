import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { Config } from '../config.js';
import { syncFolder } from '../crypto/master-key.js';
import { openStore } from './database.js';

/*
 * Backups use each store's own consistent-snapshot tool rather than a logical
 * export of our own: SQLite's online backup API (through better-sqlite3) copies a
 * consistent image while the server keeps running, WAL included; for PostgreSQL,
 * pg_dump's custom format is a consistent snapshot (one repeatable-read
 * transaction) that pg_restore loads in a single transaction. Either way the
 * backup holds personal data only encrypted: it is useless without the master key,
 * which is never in the store and must be kept (and backed up) separately.
 */

const run = promisify(execFile);

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

export interface BackupResult {
  readonly dialect: 'sqlite' | 'postgres';
  readonly file: string;
  readonly bytes: number;
  /** The PostgreSQL schema dumped. */
  readonly schema?: string;
}

/** The SQLite file of a configuration (as openStore uses it). */
export function sqliteFileOf(config: Config): string {
  return path.join(config.dataDir, 'custos.sqlite');
}

/**
 * Writes a backup of the configured store to `out` (mode 0600), through a
 * temporary file renamed into place, so a failed run leaves no half-written backup.
 * Refuses to overwrite an existing file.
 */
export async function backupStore(config: Config, out: string): Promise<BackupResult> {
  if (fs.existsSync(out)) throw new BackupError(`${out} exists; choose a new file name`);
  const partial = `${out}.partial-${process.pid}`;
  try {
    let schema: string | undefined;
    if (config.databaseUrl) {
      schema = await currentSchema(config);
      const { url, env } = pgConnection(config.databaseUrl);
      await run(
        'pg_dump',
        [
          '--format=custom',
          '--no-owner',
          '--no-privileges',
          `--schema=${schema}`,
          `--file=${partial}`,
          `--dbname=${url}`,
        ],
        { env, maxBuffer: 16 * 1024 * 1024 },
      ).catch(toolFailed('pg_dump'));
    } else {
      const file = sqliteFileOf(config);
      if (!fs.existsSync(file)) throw new BackupError(`no SQLite store at ${file}`);
      const handle = new BetterSqlite3(file, { fileMustExist: true, timeout: config.sqliteBusyTimeoutMs });
      try {
        await handle.backup(partial);
      } finally {
        handle.close();
      }
    }
    fs.chmodSync(partial, 0o600);
    fsyncFile(partial);
    fs.renameSync(partial, out);
    syncFolder(path.dirname(path.resolve(out)));
    return {
      dialect: config.databaseUrl ? 'postgres' : 'sqlite',
      file: out,
      bytes: fs.statSync(out).size,
      ...(schema ? { schema } : {}),
    };
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

export interface RestoreResult {
  readonly dialect: 'sqlite' | 'postgres';
  /** The SQLite file written, or the PostgreSQL schema restored. */
  readonly target: string;
}

/**
 * Restores a backup made by {@link backupStore} into the configured store, which
 * must be empty: a fresh SQLite data folder, or a PostgreSQL database where the
 * backup's schema is absent or has no tables. It never overwrites data.
 */
export async function restoreStore(config: Config, from: string): Promise<RestoreResult> {
  if (!fs.existsSync(from)) throw new BackupError(`no backup at ${from}`);
  return config.databaseUrl ? restorePostgres(config, from) : restoreSqlite(config, from);
}

function restoreSqlite(config: Config, from: string): RestoreResult {
  const target = sqliteFileOf(config);
  for (const f of [target, `${target}-wal`]) {
    if (fs.existsSync(f)) throw new BackupError(`${f} exists: restore goes into a fresh data folder only`);
  }
  const source = new BetterSqlite3(from, { readonly: true, fileMustExist: true });
  try {
    const check = source.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`${from} is damaged: ${String(check)}`);
    const head = source.prepare("select 1 from sqlite_master where type = 'table' and name = 'audit_head'").get();
    if (!head) throw new BackupError(`${from} is not a Custos SQLite backup`);
  } catch (error) {
    source.close();
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${from} is not a SQLite backup: ${(error as Error).message}`);
  }
  source.close();
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const partial = `${target}.partial-${process.pid}`;
  try {
    fs.copyFileSync(from, partial, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(partial, 0o600);
    fsyncFile(partial);
    fs.renameSync(partial, target);
    syncFolder(config.dataDir);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
  return { dialect: 'sqlite', target };
}

async function restorePostgres(config: Config, from: string): Promise<RestoreResult> {
  const { url, env } = pgConnection(config.databaseUrl!);
  const listing = await run('pg_restore', ['--list', from], { env, maxBuffer: 64 * 1024 * 1024 }).catch(
    toolFailed('pg_restore --list'),
  );
  const schemaEntry = /^\d+; \d+ \d+ SCHEMA - (\S+) /m.exec(listing.stdout);
  if (!schemaEntry) throw new BackupError(`${from} is not a pg_dump of one Custos schema`);
  const schema = schemaEntry[1]!;
  const store = await openStore(config);
  try {
    const tables = await sql<{ n: number }>`
      select count(*)::int as n from information_schema.tables where table_schema = ${schema}`.execute(store.db);
    if ((tables.rows[0]?.n ?? 0) > 0) {
      throw new BackupError(`schema ${schema} already has tables: restore goes into an empty database only`);
    }
    // Created here and left out of the restore list: pg_restore would fail on an
    // existing schema (`public` always exists in a new database).
    await sql`create schema if not exists ${sql.id(schema)}`.execute(store.db);
  } finally {
    await store.close();
  }
  const list = listing.stdout
    .split('\n')
    .filter((line) => !/ SCHEMA - /.test(line) && !/ COMMENT - SCHEMA /.test(line))
    .join('\n');
  const listFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'custos-restore-')), 'toc.list');
  fs.writeFileSync(listFile, list, { mode: 0o600 });
  try {
    await run(
      'pg_restore',
      [
        '--no-owner',
        '--no-privileges',
        '--exit-on-error',
        '--single-transaction',
        `--use-list=${listFile}`,
        `--dbname=${url}`,
        from,
      ],
      { env, maxBuffer: 16 * 1024 * 1024 },
    ).catch(toolFailed('pg_restore'));
  } finally {
    fs.rmSync(path.dirname(listFile), { recursive: true, force: true });
  }
  return { dialect: 'postgres', target: schema };
}

async function currentSchema(config: Config): Promise<string> {
  const store = await openStore(config);
  try {
    return store.schema ?? 'public';
  } finally {
    await store.close();
  }
}

/** The URL without its password (visible to `ps` otherwise), which goes in PGPASSWORD instead. */
function pgConnection(databaseUrl: string): { url: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (url.password) {
    env.PGPASSWORD = decodeURIComponent(url.password);
    url.password = '';
  }
  return { url: url.toString(), env };
}

function toolFailed(tool: string) {
  return (error: NodeJS.ErrnoException & { stderr?: string }): never => {
    if (error.code === 'ENOENT') throw new BackupError(`${tool} is not installed (PostgreSQL client tools)`);
    throw new BackupError(`${tool} failed: ${(error.stderr ?? error.message).trim()}`);
  };
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
