import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type Config, toConfig } from '../src/config.js';
import { type Context, closeContext, createContext } from '../src/context.js';
import type { Db, Dialect } from '../src/db/database.js';
import { createLogger } from '../src/logging.js';

/** PostgreSQL the benchmarks run against; each run gets its own schema in it, dropped at the end. */
export const BENCH_PG_URL = process.env.CUSTOS_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const DIR_PREFIX = 'custos-bench-';
const SCHEMA_PREFIX = 'bench_';
/** Whole databases, for benchmarks that start the real server (it takes a database URL, not a schema). */
const DATABASE_PREFIX = 'custos_bench_';

/** A fresh, migrated store for one benchmark: a SQLite file in a temp folder or a new PostgreSQL schema. */
export interface BenchStore {
  readonly dialect: Dialect;
  readonly config: Config;
  /** PostgreSQL schema, or undefined for SQLite. */
  readonly schema: string | undefined;
  /** The SQLite file, or undefined for PostgreSQL. */
  readonly sqliteFile: string | undefined;
  ctx: Context;
  /** Closes the context, runs `whileClosed` (a raw bulk load), then opens a new context on the same data. */
  reopen(whileClosed?: () => void | Promise<void>): Promise<void>;
  /** Drops the schema / deletes the folder. Safe to call twice. */
  destroy(): Promise<void>;
}

/**
 * Names carry the process id, so a later run can tell the leftovers of an
 * interrupted run (its process is gone) from those of a run still going.
 */
function ownedName(prefix: string): string {
  return `${prefix}${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const live = new Set<BenchStore>();
const liveDirs = new Set<string>();

/** A fresh temp folder named so that `removeLeftovers` can tell whose it is; removed by `removeTempDir`. */
export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}_`));
  liveDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  liveDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A fresh, empty PostgreSQL database on the benchmark server, for a Custos process of its own. */
export interface BenchDatabase {
  readonly name: string;
  /** BENCH_PG_URL with this database in its path. */
  readonly url: string;
  /** Drops the database (closing any connection still open to it). Safe to call twice. */
  drop(): Promise<void>;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = ownedName(DATABASE_PREFIX);
  await adminQuery(`create database "${name}"`);
  const url = new URL(BENCH_PG_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await adminQuery(`drop database if exists "${name}" with (force)`);
    },
  };
}

/**
 * Creates the schema with Kysely's two migration tables already in it.
 * `migrateToLatest` (src/db/migrate.ts) gives the Migrator no
 * `migrationTableSchema`, and Kysely then looks for its tables in *every*
 * schema: while another suite's schema holding them exists (tests running at the
 * same time), it skips creating them in ours and fails with `relation
 * "kysely_migration_lock" does not exist`. Creating them here, in our schema,
 * sidesteps that until src/ is fixed.
 */
async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

async function prepareSchema(schema: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: BENCH_PG_URL, max: 1, options: `-c search_path=${schema}` });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    const migrator = new Migrator({ db, provider: { getMigrations: async () => ({}) }, migrationTableSchema: schema });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  } finally {
    await db.destroy();
  }
}

export async function openBenchStore(dialect: Dialect): Promise<BenchStore> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}_`));
  const schema = dialect === 'postgres' ? ownedName(SCHEMA_PREFIX) : undefined;
  const config = toConfig(
    {
      CUSTOS_DATA_DIR: dataDir,
      CUSTOS_MASTER_KEY: crypto.randomBytes(32).toString('hex'),
      ...(dialect === 'postgres' ? { CUSTOS_DATABASE_URL: BENCH_PG_URL } : {}),
    },
    { logLevel: 'silent' },
  );
  const open = () => createContext(config, { pgSchema: schema, logger: createLogger('silent') });
  let ctx: Context;
  try {
    if (schema) await prepareSchema(schema);
    ctx = await open();
  } catch (error) {
    if (schema) await dropSchema(schema).catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let destroyed = false;
  const store: BenchStore = {
    dialect,
    config,
    schema,
    sqliteFile: dialect === 'sqlite' ? path.join(dataDir, 'custos.sqlite') : undefined,
    ctx,
    async reopen(whileClosed) {
      await closeContext(store.ctx);
      await whileClosed?.();
      store.ctx = await open();
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(store);
      try {
        if (schema) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.ctx.store.db);
      } finally {
        await closeContext(store.ctx).catch(() => {});
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
  live.add(store);
  return store;
}

/**
 * On Ctrl-C the temp folders go at once; a schema whose bulk load is still
 * running cannot be dropped from here (the load holds its locks until the
 * connection closes), so `removeLeftovers` drops it at the start of the next run.
 */
export function removeTempFoldersNow(): void {
  for (const store of live) {
    fs.rmSync(store.config.dataDir, { recursive: true, force: true });
  }
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
}

/** Drops schemas, databases and folders left by benchmark runs that were killed before they cleaned up. */
export async function removeLeftovers(dialects: readonly Dialect[]): Promise<string[]> {
  const removed: string[] = [];
  const stale = (name: string, prefix: string) => {
    const pid = Number(name.slice(prefix.length).split('_')[0]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
  };
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (entry.startsWith(DIR_PREFIX) && stale(entry, DIR_PREFIX)) {
      fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
      removed.push(entry);
    }
  }
  if (dialects.includes('postgres')) {
    const client = new pg.Client({ connectionString: BENCH_PG_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ nspname: string }>(
        `select nspname from pg_namespace where nspname like '${SCHEMA_PREFIX}%'`,
      );
      for (const { nspname } of rows) {
        if (!stale(nspname, SCHEMA_PREFIX)) continue;
        await client.query(`drop schema if exists "${nspname}" cascade`);
        removed.push(nspname);
      }
      const { rows: databases } = await client.query<{ datname: string }>(
        `select datname from pg_database where datname like '${DATABASE_PREFIX}%'`,
      );
      for (const { datname } of databases) {
        if (!stale(datname, DATABASE_PREFIX)) continue;
        await client.query(`drop database if exists "${datname}" with (force)`);
        removed.push(datname);
      }
    } finally {
      await client.end();
    }
  }
  return removed;
}

/** The settings that decide what a commit costs, for the results file. */
export async function storeSettings(db: Db, dialect: Dialect): Promise<string> {
  const read = async (query: ReturnType<typeof sql.raw>) => {
    const { rows } = await query.execute(db);
    const row = rows[0] as Record<string, unknown> | undefined;
    return String(row ? Object.values(row)[0] : '?');
  };
  if (dialect === 'sqlite') {
    const synchronous = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][Number(await read(sql.raw('pragma synchronous')))] ?? '?';
    return [
      `journal_mode=${await read(sql.raw('pragma journal_mode'))}`,
      `synchronous=${synchronous}`,
      `cache_size=${await read(sql.raw('pragma cache_size'))}`,
    ].join(', ');
  }
  const names = ['synchronous_commit', 'shared_buffers', 'work_mem'];
  const values = await Promise.all(names.map((n) => read(sql.raw(`show ${n}`))));
  return names.map((n, i) => `${n}=${values[i]}`).join(', ');
}

/** The database engine's version, for the results file. */
export async function storeVersion(db: Db, dialect: Dialect): Promise<string> {
  const query =
    dialect === 'sqlite' ? sql<{ v: string }>`select sqlite_version() as v` : sql<{ v: string }>`show server_version`;
  const { rows } = await query.execute(db);
  const row = rows[0] as Record<string, string> | undefined;
  const version = row ? Object.values(row)[0] : 'unknown';
  return `${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${version}`;
}

/**
 * For a bulk load on PostgreSQL: drops `table`'s primary key and other indexes in
 * `schema`, and returns what rebuilds them from their own definitions (the
 * primary key first), so the rows go in without index maintenance.
 */
export async function dropPostgresIndexes(
  client: pg.Client,
  schema: string,
  table: string,
): Promise<() => Promise<void>> {
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `select i.relname as name, pg_get_indexdef(i.oid) as def
       from pg_index x
       join pg_class i on i.oid = x.indexrelid
       join pg_class t on t.oid = x.indrelid
       join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = $1 and t.relname = $2 and not x.indisprimary`,
    [schema, table],
  );
  const { rows: keys } = await client.query<{ name: string; def: string }>(
    `select c.conname as name, pg_get_constraintdef(c.oid) as def
       from pg_constraint c
       join pg_class t on t.oid = c.conrelid
       join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = $1 and t.relname = $2 and c.contype = 'p'`,
    [schema, table],
  );
  for (const i of indexes) await client.query(`drop index "${i.name}"`);
  for (const k of keys) await client.query(`alter table "${table}" drop constraint "${k.name}"`);
  return async () => {
    for (const k of keys) await client.query(`alter table "${table}" add constraint "${k.name}" ${k.def}`);
    for (const i of indexes) await client.query(i.def);
  };
}
