import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type SqliteDatabase,
  SqliteDriver,
  type Transaction,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Database } from './schema.js';
import { isStoreUnavailable } from './store-errors.js';
import { StoreUnavailableError } from '../errors.js';
import { startCheckpointer } from './sqlite-checkpointer.js';

const SAFETY_NET_CHECKPOINT_PAGES = 10_000;

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

/** An open store: the Kysely handle plus what the rest of the code needs to know of it. */
export interface Store {
  readonly db: Db;
  /**
   * For the heavy read-only reports (transparency figures, the DSA export, the
   * auditors' access report): the read replica when one is configured
   * (CUSTOS_DATABASE_READ_URL), else `db` itself. It may lag the primary by a
   * moment; nothing that writes or decides may read through it.
   */
  readonly reads: Db;
  /** The read replica, when one is configured: where it is, and whether it answers. */
  readonly replica?: { readonly description: string; ping(): Promise<void> };
  readonly dialect: Dialect;
  /** Where the data lives, without credentials (for logs and `readyz`). */
  readonly description: string;
  /** The PostgreSQL schema this store is confined to, when one was given. */
  readonly schema?: string;
  /** Throws when the store cannot answer a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// int8 (bigint) columns hold epoch milliseconds and sequence numbers, all far
// below 2^53, so they are read as numbers rather than strings.
pg.types.setTypeParser(20, (value: string) => Number(value));

/**
 * SQLite's default `BEGIN` is deferred: a transaction that reads first and writes
 * later can fail with SQLITE_BUSY when another process (a CLI command) wrote in
 * between, without waiting. `BEGIN IMMEDIATE` takes the write lock up front and
 * honours busy_timeout, so concurrent writers queue instead of failing.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * better-sqlite3 behind Kysely's SQLite dialect, with prepared statements kept
 * and reused by their SQL text. Kysely prepares every query afresh, which cost
 * about a fifth of a report's CPU time; the same few hundred statements recur
 * for the life of the process. A statement still mid-iteration (a streamed
 * query) is never handed out twice: a fresh one is prepared instead.
 */
class CachingSqliteDatabase implements SqliteDatabase {
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  constructor(
    private readonly handle: BetterSqlite3.Database,
    private readonly capacity = 500,
  ) {}

  prepare(text: string): BetterSqlite3.Statement {
    const cached = this.#statements.get(text);
    if (cached && !cached.busy) return cached;
    const statement = this.handle.prepare(text);
    if (!cached) {
      // Oldest first out: generated SQL (an IN list per batch size) must not grow the cache without bound.
      if (this.#statements.size >= this.capacity) this.#statements.delete(this.#statements.keys().next().value!);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.#statements.clear();
    this.handle.close();
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.#config);
  }
}

export interface OpenStoreOptions {
  /** PostgreSQL schema to use (tests give each suite its own); created if missing. */
  pgSchema?: string;
  /** SQLite file to use instead of `<dataDir>/custos.sqlite`. */
  sqliteFile?: string;
}

/** Opens the store the configuration names: PostgreSQL when a URL is set, else SQLite. */
export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  return config.databaseUrl
    ? openPostgres(
        config.databaseUrl,
        config.pgPoolSize,
        options.pgSchema,
        config.readDatabaseUrl ? { url: config.readDatabaseUrl, poolSize: config.pgReadPoolSize } : undefined,
      )
    : openSqlite(
        options.sqliteFile ?? path.join(config.dataDir, 'custos.sqlite'),
        config.sqliteBusyTimeoutMs,
        config.sqliteSynchronous,
      );
}

function openSqlite(file: string, busyTimeoutMs: number, synchronous: 'NORMAL' | 'FULL'): Store {
  // The data folder holds the database and the key: other local users keep out.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let handle: BetterSqlite3.Database;
  try {
    handle = new BetterSqlite3(file, { timeout: busyTimeoutMs });
    handle.pragma('journal_mode = WAL');
    // See Config.sqliteSynchronous for the durability trade-off.
    handle.pragma(`synchronous = ${synchronous}`);
    handle.pragma('foreign_keys = ON');
    // Savepoints (group commit) and sorts keep their scratch data in memory, not temp files.
    handle.pragma('temp_store = MEMORY');
    // 64 MiB of page cache (the default is 2 MiB): the indexes a report touches stay in memory.
    handle.pragma('cache_size = -65536');
    // Checkpoints run in a thread of their own (see sqlite-checkpointer.ts); this
    // much larger automatic threshold (about 40 MiB of WAL) is only the safety net.
    handle.pragma(`wal_autocheckpoint = ${SAFETY_NET_CHECKPOINT_PAGES}`);
  } catch (error) {
    throw new StoreUnavailableError(error);
  }
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: new CachingSqliteDatabase(handle) }),
  });
  const checkpointer = startCheckpointer(file, {
    busyTimeoutMs,
    onError: (message) => process.emitWarning(`SQLite background checkpoint failed: ${message}`),
  });
  return {
    db,
    reads: db,
    dialect: 'sqlite',
    description: `sqlite:${file}`,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await checkpointer.stop();
      await db.destroy();
    },
  };
}

/**
 * A Kysely handle over a pg pool confined to `schema` (when given). A read-only
 * pool's sessions refuse every write, as a hot standby would: code that writes
 * through `Store.reads` by mistake fails on the first run, not on the day a
 * replica is configured.
 */
function postgresDb(url: string, poolSize: number, schema: string | undefined, readOnly = false): Db {
  const options = [
    ...(schema ? [`-c search_path=${schema}`] : []),
    ...(readOnly ? ['-c default_transaction_read_only=on'] : []),
  ].join(' ');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    ...(options ? { options } : {}),
  });
  // An idle client that loses its server emits 'error' on the pool; without a
  // listener that would crash the process. The next query reports it instead.
  pool.on('error', () => {});
  // pg-pool drops its own listener from a client while it is checked out, and a
  // connection that dies mid-query then emits 'error' with nobody listening,
  // which would crash the process. The query itself still fails (and becomes 503).
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Where a PostgreSQL URL points, without credentials. */
function describePostgres(url: string, schema: string | undefined): string {
  const safeUrl = new URL(url);
  safeUrl.password = '';
  return `postgres:${safeUrl.host}${safeUrl.pathname}${schema ? `#${schema}` : ''}`;
}

async function openPostgres(
  url: string,
  poolSize: number,
  schema?: string,
  replica?: { url: string; poolSize: number },
): Promise<Store> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  }
  const db = postgresDb(url, poolSize, schema);
  // The replica carries the primary's schemas (streaming replication copies the whole cluster).
  const reads = replica ? postgresDb(replica.url, replica.poolSize, schema, true) : db;
  const store: Store = {
    db,
    reads,
    ...(replica
      ? {
          replica: {
            description: describePostgres(replica.url, schema),
            async ping() {
              await sql`select 1`.execute(reads);
            },
          },
        }
      : {}),
    dialect: 'postgres',
    description: describePostgres(url, schema),
    schema,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (reads !== db) await reads.destroy();
      await db.destroy();
    },
  };
  try {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    else {
      // Pin the migrator to the schema we actually write to (see migrate.ts).
      const current = await sql<{ s: string }>`select current_schema() as s`.execute(db);
      return { ...store, schema: current.rows[0]?.s ?? 'public' };
    }
  } catch (error) {
    if (reads !== db) await reads.destroy().catch(() => {});
    await db.destroy();
    throw isStoreUnavailable(error) ? new StoreUnavailableError(error) : error;
  }
  return store;
}
