import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';

/**
 * Lawful requests: legal orders and their targets, the automatic checks and the
 * reviews (both append-only), the order's history, the court-order document
 * (encrypted), the disclosure package produced, and the platform's signing keys
 * (private halves encrypted under the master key).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  await db.schema
    .createTable('legal_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('authority_id', 'text', (c) => c.notNull().references('authorities.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('case_reference', 'text', (c) => c.notNull())
    .addColumn('legal_basis', 'text', (c) => c.notNull())
    .addColumn('issuing_authority', 'text', (c) => c.notNull())
    .addColumn('court_order', 'text', (c) => c.notNull())
    .addColumn('document_sha256', 'text')
    .addColumn('document_size', 'integer')
    .addColumn('offence_category', 'text', (c) => c.notNull())
    .addColumn('offence', 'text', (c) => c.notNull())
    .addColumn('data_categories', 'text', (c) => c.notNull())
    .addColumn('period_from', 'bigint', (c) => c.notNull())
    .addColumn('period_to', 'bigint', (c) => c.notNull())
    .addColumn('requested', 'text', (c) => c.notNull())
    .addColumn('non_disclosure_until', 'bigint')
    .addColumn('emergency_justification', 'text')
    .addColumn('preservation_request_id', 'text')
    .addColumn('extra_review', 'integer', (c) => c.notNull())
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('disclosed_at', 'bigint')
    .addColumn('second_approval_owed', 'integer', (c) => c.notNull())
    .addColumn('preserved_until', 'bigint')
    .addColumn('preservation_extended', 'integer', (c) => c.notNull())
    .addColumn('consumed_by', 'text')
    .addColumn('deadline_warned_at', 'bigint')
    .addColumn('overdue_warned_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The legal queue: open orders, nearest deadline first; an authority's own orders.
  await db.schema.createIndex('legal_requests_status_due').on('legal_requests').columns(['status', 'due_at']).execute();
  await db.schema
    .createIndex('legal_requests_authority')
    .on('legal_requests')
    .columns(['authority_id', 'received_at'])
    .execute();

  await db.schema
    .createTable('legal_documents')
    .addColumn('request_id', 'text', (c) => c.primaryKey().references('legal_requests.id'))
    .addColumn('content_enc', t.bytes, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('legal_targets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().references('legal_requests.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('given_enc', t.bytes, (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('notice_due_at', 'bigint')
    .addColumn('notified_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('legal_targets_request')
    .on('legal_targets')
    .columns(['request_id', 'position'])
    .execute();
  await db.schema.createIndex('legal_targets_notice').on('legal_targets').columns(['notice_due_at']).execute();

  await db.schema
    .createTable('legal_checks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().references('legal_requests.id'))
    .addColumn('target_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('legal_checks_request').on('legal_checks').column('request_id').execute();

  await db.schema
    .createTable('legal_reviews')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().references('legal_requests.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('reviewer_id', 'text', (c) => c.notNull())
    .addColumn('reviewer_role', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('narrowed', 'text')
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  // One review per reviewer per round: the same person approving twice is refused by the store too.
  await db.schema
    .createIndex('legal_reviews_once')
    .on('legal_reviews')
    .columns(['request_id', 'round', 'reviewer_id'])
    .unique()
    .execute();

  await db.schema
    .createTable('legal_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().references('legal_requests.id'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('legal_events_request').on('legal_events').columns(['request_id', 'at']).execute();

  await db.schema
    .createTable('disclosure_packages')
    .addColumn('request_id', 'text', (c) => c.primaryKey().references('legal_requests.id'))
    .addColumn('jwe', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('kid', 'text', (c) => c.notNull())
    .addColumn('targets', 'integer', (c) => c.notNull())
    .addColumn('records', 'integer', (c) => c.notNull())
    .addColumn('policy_version', 'text', (c) => c.notNull())
    .addColumn('produced_at', 'bigint', (c) => c.notNull())
    .addColumn('downloaded_at', 'bigint')
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_enc', t.bytes, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
}
