import crypto from 'node:crypto';
import pg from 'pg';
import { TEST_PG_URL } from './harness.js';

/**
 * A PostgreSQL database of its own on the test server, for tests that must not
 * see (or be seen by) the schemas other suites create in the shared database.
 */
export interface ScratchDatabase {
  /** Connection URL of the new database. */
  readonly url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(prefix = 'custos_scratch'): Promise<ScratchDatabase> {
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
