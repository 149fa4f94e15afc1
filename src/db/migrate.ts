import { type Migration, type MigrationResultSet, Migrator } from 'kysely';
import * as foundation from './migrations/20261128T120000_foundation.js';
import * as noticeAndAction from './migrations/20261128T130000_notice_and_action.js';
import type { Store } from './database.js';

/**
 * Migrations are listed here rather than read from a folder, so they load the
 * same way from TypeScript sources and from a bundle. Names sort by timestamp.
 */
const MIGRATIONS: Record<string, Migration> = {
  '20261128T120000_foundation': foundation,
  '20261128T130000_notice_and_action': noticeAndAction,
};

/** Brings the store's schema up to date; safe to run while another process runs. */
export async function migrateToLatest(store: Store): Promise<string[]> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => MIGRATIONS },
    // Kysely looks for its bookkeeping tables across all schemas unless told which one.
    ...(store.schema ? { migrationTableSchema: store.schema } : {}),
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
