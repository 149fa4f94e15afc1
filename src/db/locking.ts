import { PostgresAdapter } from 'kysely';
import type { Db, Tx } from './database.js';

/**
 * True when rows read in this transaction should be locked with FOR UPDATE.
 * PostgreSQL needs it: two transactions may read the same row and both act on
 * it. SQLite has no row locks and needs none: every Custos transaction begins
 * IMMEDIATE, holding the database's write lock until it ends.
 */
export function needsRowLocks(tx: Tx | Db): boolean {
  return tx.getExecutor().adapter instanceof PostgresAdapter;
}
