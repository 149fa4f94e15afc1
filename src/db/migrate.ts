import { type Kysely, sql } from 'kysely';
import * as foundation from './migrations/20261128T120000_foundation.js';
import * as noticeAndAction from './migrations/20261128T130000_notice_and_action.js';
import * as scanning from './migrations/20261128T140000_scanning.js';
import * as queueIndexes from './migrations/20261128T150000_queue_indexes.js';
import * as hashBanks from './migrations/20261128T160000_hash_banks.js';
import * as legalRequests from './migrations/20261128T170000_legal_requests.js';
import * as transparency from './migrations/20261128T180000_transparency.js';
import * as dsaSubmissions from './migrations/20261128T180100_dsa_submissions.js';
import * as dsaFigures from './migrations/20261128T180200_dsa_figures.js';
import * as users from './migrations/20261128T190000_users.js';
import * as requestFigures from './migrations/20261129T000000_request_figures.js';
import * as dsaOutcomes from './migrations/20261129T120000_dsa_outcomes.js';
import * as auditActionIndex from './migrations/20261129T150000_audit_action_index.js';
import type { Store } from './database.js';

interface Migration {
  up(db: Kysely<any>): Promise<void>;
}

/**
 * Migrations are listed here rather than read from a folder, so they load the
 * same way from TypeScript sources and from a bundle. Names sort by timestamp.
 */
const MIGRATIONS: Record<string, Migration> = {
  '20261128T120000_foundation': foundation,
  '20261128T130000_notice_and_action': noticeAndAction,
  '20261128T140000_scanning': scanning,
  '20261128T150000_queue_indexes': queueIndexes,
  '20261128T160000_hash_banks': hashBanks,
  '20261128T170000_legal_requests': legalRequests,
  '20261128T180000_transparency': transparency,
  '20261128T180100_dsa_submissions': dsaSubmissions,
  '20261128T180200_dsa_figures': dsaFigures,
  '20261128T190000_users': users,
  '20261129T000000_request_figures': requestFigures,
  '20261129T120000_dsa_outcomes': dsaOutcomes,
  '20261129T150000_audit_action_index': auditActionIndex,
};

/**
 * Brings the schema up to date; safe when several processes start at once.
 *
 * Kysely's own Migrator finds its bookkeeping tables by introspecting every
 * schema of the database, which misfires when other schemas hold such tables
 * and races with schemas being dropped. This one looks only at its own table,
 * in the connection's schema, and applies each pending migration in its own
 * transaction (DDL is transactional in both stores) under a lock: an advisory
 * transaction lock in PostgreSQL, the write lock of BEGIN IMMEDIATE in SQLite.
 */
export async function migrateToLatest(store: Store): Promise<string[]> {
  const db = store.db as unknown as Kysely<any>;
  try {
    await sql`create table if not exists custos_migrations (name text primary key, applied_at bigint not null)`.execute(
      db,
    );
  } catch (error) {
    // Two processes creating it at the same instant: PostgreSQL reports the loser as a duplicate.
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw error;
  }
  const applied: string[] = [];
  for (const name of Object.keys(MIGRATIONS).sort()) {
    const done = await db.transaction().execute(async (tx) => {
      if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(7243019514)`.execute(tx);
      const row = await tx.selectFrom('custos_migrations').select('name').where('name', '=', name).executeTakeFirst();
      if (row) return false;
      await (MIGRATIONS[name] as Migration).up(tx);
      await tx.insertInto('custos_migrations').values({ name, applied_at: Date.now() }).execute();
      return true;
    });
    if (done) applied.push(name);
  }
  return applied;
}
