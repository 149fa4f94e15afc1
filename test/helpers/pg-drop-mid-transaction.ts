/**
 * Run as a child process by faults.test.ts (a crash here must not take the test
 * runner down): Custos on PostgreSQL behind a TCP proxy, whose connection is cut
 * in the middle of an ingest transaction. Prints one JSON line saying what the
 * client saw and what was stored.
 * Usage: node --import tsx pg-drop-mid-transaction.ts <postgres-url> <schema>
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.js';
import { toConfig } from '../../src/config.js';
import { closeContext, createContext } from '../../src/context.js';
import { createToken } from '../../src/identity/tokens.js';
import { createLogger } from '../../src/logging.js';
import { buildAccount } from './factories.js';
import { TEST_ACTOR } from './harness.js';
import { startTcpProxy } from './tcp-proxy.js';

const [databaseUrl, schema] = process.argv.slice(2);
if (!databaseUrl || !schema) throw new Error('usage: pg-drop-mid-transaction.ts <postgres-url> <schema>');

const target = new URL(databaseUrl);
const proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
const viaProxy = new URL(databaseUrl);
viaProxy.hostname = '127.0.0.1';
viaProxy.port = String(proxy.port);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-midtx-'));
const config = toConfig({ CUSTOS_DATA_DIR: dataDir, CUSTOS_DATABASE_URL: viaProxy.toString() }, { pgPoolSize: 2 });
const ctx = await createContext(config, { pgSchema: schema, logger: createLogger('silent') });
const app = await buildApp(ctx);
const { token } = await createToken(ctx.store.db, TEST_ACTOR, { role: 'platform', name: 'mid-transaction' });

const ingest = async (accounts: unknown[]) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/ingest/accounts',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ accounts }),
  });
  return { status: res.statusCode, retryAfter: res.headers['retry-after'] ?? null, body: JSON.parse(res.body) };
};

const warm = await ingest([buildAccount()]);
const batch = [buildAccount(), buildAccount()];
// The accounts are inserted by then; the audit entry comes last in the transaction.
proxy.cutOn('insert into "audit_log"');
const failed = await ingest(batch);
const rowsAfterFailure = (
  await ctx.store.db
    .selectFrom('accounts')
    .select('id')
    .where(
      'id',
      'in',
      batch.map((a) => a.id),
    )
    .execute()
).length;
const retried = await ingest(batch);
const rowsAfterRetry = (
  await ctx.store.db
    .selectFrom('accounts')
    .select('id')
    .where(
      'id',
      'in',
      batch.map((a) => a.id),
    )
    .execute()
).length;

process.stdout.write(
  `${JSON.stringify({ warm: warm.status, cut: proxy.cut, failed, rowsAfterFailure, retried, rowsAfterRetry })}\n`,
);
await app.close();
await closeContext(ctx);
await proxy.stop();
fs.rmSync(dataDir, { recursive: true, force: true });
