import type { Kysely } from 'kysely';

/** Placeholder: filled in by the capability that owns it. */
export async function up(_db: Kysely<any>): Promise<void> {}
