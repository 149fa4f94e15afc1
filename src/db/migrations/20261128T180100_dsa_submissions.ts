import { type Kysely, sql } from 'kysely';

/**
 * The DSA submission outbox: one row per statement of reasons, written in the
 * decision's transaction, until the Transparency Database has accepted it.
 * `status` is pending (to send, or sent and awaiting an answer while leased),
 * accepted (never sent again) or failed (refused by the rules: sending it again
 * cannot succeed until someone fixes it). Statements made before this table
 * existed are queued here too, so none is left out.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dsa_submissions')
    .addColumn('decision_id', 'text', (c) => c.primaryKey().references('decisions.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('batch_id', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('accepted_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('dsa_submissions_due')
    .on('dsa_submissions')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema.createIndex('dsa_submissions_batch').on('dsa_submissions').column('batch_id').execute();
  await sql`insert into dsa_submissions (decision_id, status, attempts, next_attempt_at, created_at)
    select id, 'pending', 0, created_at, created_at from decisions where statement is not null`.execute(db);
}
