import { type Kysely, sql } from 'kysely';
import { columnTypes } from '../column-types.js';

/** Content, reports, cases, the moderation event log, decisions, violations, appeals, webhooks. */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  await db.schema
    .alterTable('accounts')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .execute();
  await db.schema.alterTable('accounts').addColumn('suspended_until', 'bigint').execute();

  await db.schema
    .createTable('content')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('chat_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('image', t.bytes)
    .addColumn('media_ref', 'text')
    .addColumn('image_sha256', 'text')
    .addColumn('image_md5', 'text')
    .addColumn('is_public', 'integer', (c) => c.notNull())
    .addColumn('language', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('content_account').on('content').columns(['account_id', 'created_at']).execute();

  await db.schema
    .createTable('cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('severity', 'integer', (c) => c.notNull())
    .addColumn('language', 'text')
    .addColumn('is_public', 'integer', (c) => c.notNull())
    .addColumn('report_count', 'integer', (c) => c.notNull())
    .addColumn('reporter_count', 'integer', (c) => c.notNull())
    .addColumn('reporter_weight', t.double, (c) => c.notNull())
    .addColumn('trusted_count', 'integer', (c) => c.notNull())
    .addColumn('proposed_action', 'text')
    .addColumn('rank', t.double, (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claim_expires_at', 'bigint')
    .addColumn('decision_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('closed_at', 'bigint')
    .execute();
  // At most one open case per subject: every report about it joins that case.
  await sql`create unique index cases_one_open on cases (subject_type, subject_id) where status = 'open'`.execute(db);
  // The queue: open cases by rank (priority with ageing folded in, see cases/priority.ts).
  await db.schema.createIndex('cases_queue').on('cases').columns(['status', 'queue', 'rank', 'id']).execute();
  await db.schema.createIndex('cases_account').on('cases').columns(['account_id', 'status']).execute();

  await db.schema
    .createTable('reports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('explanation', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('reporter_token_id', 'text')
    .addColumn('reporter_account_id', 'text')
    .addColumn('reporter_email_enc', t.bytes)
    .addColumn('reporter_key', 'text', (c) => c.notNull())
    .addColumn('client_key', 'text')
    .addColumn('weight', t.double, (c) => c.notNull())
    .addColumn('access_key_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('resolved_at', 'bigint')
    .execute();
  await db.schema.createIndex('reports_case').on('reports').columns(['case_id', 'reporter_key']).execute();
  await db.schema
    .createIndex('reports_subject')
    .on('reports')
    .columns(['subject_type', 'subject_id', 'source', 'created_at'])
    .execute();
  await db.schema.createIndex('reports_client').on('reports').columns(['client_key', 'created_at']).execute();

  await db.schema
    .createTable('reporter_stats')
    .addColumn('reporter_key', 'text', (c) => c.primaryKey())
    .addColumn('actioned', 'integer', (c) => c.notNull())
    .addColumn('dismissed', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // The append-only log moderation state is derived from (Ozone's moderation_event).
  await db.schema
    .createTable('moderation_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text')
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('moderation_events_case')
    .on('moderation_events')
    .columns(['case_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('moderation_events_account')
    .on('moderation_events')
    .columns(['account_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('decisions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('actions', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('ground', 'text', (c) => c.notNull())
    .addColumn('explanation', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull())
    .addColumn('automation', 'text', (c) => c.notNull())
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('statement', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('reversed_at', 'bigint')
    .execute();
  await db.schema.createIndex('decisions_account').on('decisions').columns(['account_id', 'created_at']).execute();
  await db.schema.createIndex('decisions_created').on('decisions').column('created_at').execute();

  await db.schema
    .createTable('violations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('decision_id', 'text', (c) => c.notNull().unique())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('ground', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('strike_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('overturned_at', 'bigint')
    .execute();
  await db.schema.createIndex('violations_account').on('violations').columns(['account_id', 'status']).execute();

  await db.schema
    .createTable('appeals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('decision_id', 'text', (c) => c.notNull().unique())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull())
    .addColumn('filed_at', 'bigint', (c) => c.notNull())
    .addColumn('resolved_by', 'text')
    .addColumn('resolution', 'text')
    .addColumn('resolved_at', 'bigint')
    .execute();
  await db.schema.createIndex('appeals_status').on('appeals').columns(['status', 'filed_at']).execute();

  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret_enc', t.bytes, (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // The durable outbox: written in the same transaction as the decision it announces.
  await db.schema
    .createTable('webhook_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('webhook_outbox_due')
    .on('webhook_outbox')
    .columns(['status', 'next_attempt_at'])
    .execute();
}
