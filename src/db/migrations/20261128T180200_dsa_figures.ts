import type { Kysely } from 'kysely';

/**
 * The DSA yearly figures (transparency/dsa-figures.ts) read one calendar year of
 * reports, appeals and legal orders by the time each was received. The existing
 * indexes on these tables lead with another column (case, status, authority), so
 * a year's range read every row ever stored; these let both stores read only the
 * year. Decisions already have `decisions_created`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('reports_created').on('reports').column('created_at').execute();
  await db.schema.createIndex('appeals_filed').on('appeals').column('filed_at').execute();
  await db.schema.createIndex('legal_requests_received').on('legal_requests').column('received_at').execute();
}
