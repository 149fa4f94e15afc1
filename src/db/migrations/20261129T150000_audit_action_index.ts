import type { Kysely } from 'kysely';

/**
 * The auditors' personal-data access report (audit/personal-data-access.ts) asks
 * the audit log for the entries of a few actions, in sequence order. Without an
 * index on `action` that read every entry of the log; with (action, seq) it reads
 * only the personal-data entries. Ordinary appends pay one small index insert.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'seq']).execute();
}
