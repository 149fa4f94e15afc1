import { type Kysely, sql } from 'kysely';

/**
 * Hash banks (named lists of known images: PDQ, MD5 and SHA-256 hashes) and
 * the change counter that running matchers follow. Every write to a bank or a
 * hash takes the next `hash_head.seq` inside its transaction; the head row's
 * lock makes those transactions commit in seq order, so a matcher that reads
 * "everything after the last seq I saw" never skips a change.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('hash_banks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('threshold', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('bank_hashes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('bank_id', 'text', (c) => c.notNull().references('hash_banks.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('source', 'text')
    // A hash's own category, when it differs from its bank's (local-confirmed holds every category).
    .addColumn('category', 'text')
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('bank_hashes_value', ['bank_id', 'kind', 'value'])
    .execute();
  await db.schema.createIndex('bank_hashes_seq').on('bank_hashes').column('seq').execute();

  await db.schema
    .createTable('hash_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into hash_head (id, seq) values (1, 0)`.execute(db);

  // The perceptual hash of each stored image, so a moderator's removal can add it to a bank.
  await db.schema.alterTable('content').addColumn('image_pdq', 'text').execute();
}
