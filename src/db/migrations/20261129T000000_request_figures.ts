import { type Kysely, sql } from 'kysely';
import { disclosedDataLabel, rejectionLabel } from '../../legal/events.js';

/**
 * The request figures read a quarter of the legal event log. Grouping each event by
 * the filing authority's country, the order's type, what it disclosed and why it was
 * rejected used to take a join to the orders, their authorities and their checks per
 * figure: about five seconds for a quarter with a million orders in the store on
 * PostgreSQL (bench/transparency.ts). Each event now carries its country and label
 * (legal/events.ts), one covering index serves the whole quarter, and the accounts a
 * disclosure disclosed are listed with its country and time. Existing events are
 * filled in from the orders as they stand.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('legal_events').addColumn('country', 'text').execute();
  await db.schema.alterTable('legal_events').addColumn('label', 'text').execute();
  await db.schema
    .createTable('legal_disclosed_accounts')
    .addColumn('request_id', 'text', (c) => c.notNull().references('legal_requests.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('legal_disclosed_accounts_pk', ['request_id', 'account_id'])
    .execute();
  await fillRequestFigures(db);
  await db.schema
    .createIndex('legal_disclosed_accounts_at')
    .on('legal_disclosed_accounts')
    .columns(['at', 'country', 'account_id'])
    .execute();

  // Covers every figure of a quarter; its (type, at) prefix replaces the old index.
  await db.schema
    .createIndex('legal_events_figures')
    .on('legal_events')
    .columns(['type', 'at', 'country', 'status', 'label'])
    .execute();
  await db.schema.dropIndex('legal_events_type_at').execute();
}

/** Labels the events recorded before this migration, from the orders as they stand. */
export async function fillRequestFigures(db: Kysely<any>): Promise<void> {
  await sql`update legal_events set country = (
      select a.country from legal_requests r join authorities a on a.id = r.authority_id
      where r.id = legal_events.request_id)`.execute(db);
  await sql`update legal_events set label = (
      select r.type from legal_requests r where r.id = legal_events.request_id)
    where type = 'received'`.execute(db);
  const disclosed = await db
    .selectFrom('legal_events as e')
    .innerJoin('legal_requests as r', 'r.id', 'e.request_id')
    .select(['e.id', 'r.data_categories'])
    .where('e.type', '=', 'disclosed')
    .execute();
  for (const e of disclosed) {
    const label = disclosedDataLabel(JSON.parse(e.data_categories) as string[]);
    await db.updateTable('legal_events').set({ label }).where('id', '=', e.id).execute();
  }
  const rejected = await db
    .selectFrom('legal_events')
    .select(['id', 'request_id'])
    .where('type', '=', 'checks.rejected')
    .execute();
  for (const e of rejected) {
    const failed = await db
      .selectFrom('legal_checks')
      .select('code')
      .where('request_id', '=', e.request_id)
      .where('result', '=', 'fail')
      .where('code', 'is not', null)
      .execute();
    await db
      .updateTable('legal_events')
      .set({ label: rejectionLabel(failed.map((c) => c.code as string)) })
      .where('id', '=', e.id)
      .execute();
  }

  await sql`insert into legal_disclosed_accounts (request_id, account_id, country, at)
    select distinct e.request_id, t.account_id, e.country, e.at
      from legal_events e join legal_targets t on t.request_id = e.request_id
     where e.type = 'disclosed' and t.status = 'included' and t.account_id is not null`.execute(db);
}
