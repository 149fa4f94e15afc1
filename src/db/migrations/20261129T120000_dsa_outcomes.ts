import { type Kysely, sql } from 'kysely';

/**
 * The DSA yearly figures (transparency/dsa-figures.ts) used to find what became of
 * each notice by joining reports → cases → decisions, and which decisions were taken
 * on Custos's own initiative by reading every case's `case.opened` event: 234 s for a
 * year with ten million decisions in the store on PostgreSQL (bench/transparency.ts).
 * The facts are now written where they are counted, in the transaction that decides
 * the case:
 * - a report's `ground` is the ground of the restriction its case was decided with
 *   (null for a dismissal or while open), beside its `outcome` and `resolved_at`;
 * - a case's `opened_by` is what opened it (report, scan or strikes), and each
 *   decision carries its case's `opened_by`, whether it restricts anything (it has
 *   a statement of reasons: not a dismissal) and whether it removes content.
 * One index per table covers the year's figures, and the first check of an order
 * (its acknowledgement) is read from an index. Existing rows are filled in from
 * the decisions and the event log as they stand.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('reports').addColumn('ground', 'text').execute();
  await db.schema.alterTable('cases').addColumn('opened_by', 'text').execute();
  await db.schema.alterTable('decisions').addColumn('opened_by', 'text').execute();
  await db.schema
    .alterTable('decisions')
    .addColumn('restricts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('decisions')
    .addColumn('removes_content', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await fillDsaOutcomes(db);

  // Every notice figure of a year, read from the index alone on PostgreSQL.
  await db.schema
    .createIndex('reports_figures')
    .on('reports')
    .columns(['created_at', 'category', 'source', 'outcome', 'ground', 'resolved_at'])
    .execute();
  await db.schema.dropIndex('reports_created').execute();
  await db.schema
    .createIndex('decisions_figures')
    .on('decisions')
    .columns(['created_at', 'restricts', 'opened_by', 'automation', 'category', 'removes_content'])
    .execute();
  // Its prefix serves every read by time that `decisions_created` served.
  await db.schema.dropIndex('decisions_created').execute();

  // The time an order was first checked (acknowledged) is one probe of this index
  // per order; its prefix serves every read by order that `legal_checks_request` served.
  await db.schema.createIndex('legal_checks_request_at').on('legal_checks').columns(['request_id', 'at']).execute();
  await db.schema.dropIndex('legal_checks_request').execute();
}

/** Fills in the columns for rows written before this migration. */
export async function fillDsaOutcomes(db: Kysely<any>): Promise<void> {
  await sql`update reports set ground = (
      select d.ground from cases c join decisions d on d.id = c.decision_id
      where c.id = reports.case_id and d.statement is not null)
    where outcome = 'action_taken'`.execute(db);
  // `case.opened` payloads are written by JSON.stringify with `source` first
  // (cases/open-case.ts), so the prefix names the opener exactly in both stores
  // without their different JSON functions.
  for (const source of ['report', 'scan', 'strikes']) {
    await sql`update cases set opened_by = ${source} where id in (
        select case_id from moderation_events
        where type = 'case.opened' and payload like ${`{"source":"${source}"%`})`.execute(db);
  }
  await sql`update decisions set opened_by = (
      select c.opened_by from cases c where c.id = decisions.case_id)`.execute(db);
  await sql`update decisions set restricts = 1 where statement is not null`.execute(db);
  // `actions` is the JSON list of {type, until?}; the type names are fixed codes.
  await sql`update decisions set removes_content = 1 where actions like '%"remove_content"%'`.execute(db);
}
