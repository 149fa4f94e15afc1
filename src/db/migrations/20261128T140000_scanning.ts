import type { Kysely } from 'kysely';

/** Scan results (verdicts with their signals) and the durable scan job queue of the embedded mode. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scan_results')
    .addColumn('content_id', 'text', (c) => c.primaryKey())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('score', 'real')
    .addColumn('language', 'text')
    .addColumn('signals', 'text', (c) => c.notNull())
    .addColumn('versions', 'text', (c) => c.notNull())
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('scanned_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('scan_jobs')
    .addColumn('content_id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('scan_jobs_due').on('scan_jobs').columns(['status', 'next_attempt_at']).execute();
}
