import { type Kysely, PostgresAdapter } from 'kysely';

/** The few column types that differ between the two stores, for migrations. */
export function columnTypes(db: Kysely<any>) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    postgres,
    bytes: (postgres ? 'bytea' : 'blob') as 'bytea',
    double: (postgres ? 'double precision' : 'real') as 'real',
  };
}
