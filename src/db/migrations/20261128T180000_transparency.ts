import type { Kysely } from 'kysely';

/**
 * Transparency: the request figures are computed from the legal event log by event
 * type and time, and the policy history records each policy version the first and
 * last time a process ran with it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('legal_events_type_at').on('legal_events').columns(['type', 'at']).execute();
  await db.schema
    .createTable('policy_versions')
    .addColumn('version', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .execute();
}
