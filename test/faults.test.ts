import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { toConfig } from '../src/config.js';
import { type Context, closeContext, createContext } from '../src/context.js';
import { createToken } from '../src/identity/tokens.js';
import { createLogger } from '../src/logging.js';
import { cleanEnv, runCli } from './helpers/cli-process.js';
import { assertErrorBody, assertNoStack } from './helpers/error-body.js';
import { buildAccount, buildSession } from './helpers/factories.js';
import {
  type Harness,
  TEST_ACTOR,
  TEST_STORES,
  describeEachStore,
  startHarness,
  stopHarness,
} from './helpers/harness.js';
import { orderAgainst, personalDataUrl } from './helpers/legal.js';
import { type ScratchDatabase, createScratchDatabase } from './helpers/scratch-database.js';
import { type TcpProxy, startTcpProxy } from './helpers/tcp-proxy.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

async function inject(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  options: { token?: string; body?: unknown } = {},
) {
  const res = await app.inject({
    method,
    url,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    payload: options.body ? JSON.stringify(options.body) : undefined,
  });
  return Object.assign(res, { data: res.body ? JSON.parse(res.body) : undefined });
}

async function countIds(ctx: Context, ids: string[]): Promise<number> {
  const rows = await ctx.store.db.selectFrom('accounts').select('id').where('id', 'in', ids).execute();
  return rows.length;
}

async function countAudit(ctx: Context, action: string): Promise<number> {
  const rows = await ctx.store.db.selectFrom('audit_log').select('seq').where('action', '=', action).execute();
  return rows.length;
}

// One database of its own for the PostgreSQL scenarios below: the proxy and the
// neighbour schemas made here must not disturb (or be disturbed by) other suites.
let scratch: ScratchDatabase | undefined;
async function scratchUrl(): Promise<string> {
  scratch ??= await createScratchDatabase('custos_faults');
  return scratch.url;
}
after(async () => {
  await scratch?.drop();
});

describe('faults: database down at start', () => {
  it('`custos serve` exits non-zero within seconds, saying the data store cannot be reached, without a stack', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-down-'));
    try {
      const result = await runCli(
        ['serve', '--port', '0'],
        cleanEnv({ CUSTOS_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test', CUSTOS_DATA_DIR: dataDir }),
        30_000,
      );
      assert.equal(result.signal, null, `it exits by itself (${result.ms} ms)`);
      assert.notEqual(result.code, 0);
      // Generous for a loaded machine; the failure this guards against is waiting on connection retries.
      assert.ok(result.ms < 20_000, `took ${result.ms} ms`);
      assert.match(result.stderr, /data store/i);
      for (const stream of [result.stderr, result.stdout]) {
        assertNoStack({ body: stream }, 'the output');
      }
      assert.doesNotMatch(result.stdout, /listening/i, 'it never listened');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('faults: PostgreSQL goes away during requests', { skip: !TEST_STORES.includes('postgres') }, () => {
  let proxy: TcpProxy;
  let ctx: Context;
  let app: FastifyInstance;
  let platform: string;
  let legal: string;
  let dataDir: string | undefined;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-proxy-'));
    const databaseUrl = await scratchUrl();
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const config = toConfig({ CUSTOS_DATA_DIR: dataDir, CUSTOS_DATABASE_URL: url.toString() }, { pgPoolSize: 2 });
    ctx = await createContext(config, { pgSchema: 'custos', logger: createLogger('silent') });
    app = await buildApp(ctx);
    platform = (await createToken(ctx.store.db, TEST_ACTOR, { role: 'platform', name: 'p' })).token;
    legal = (await createToken(ctx.store.db, TEST_ACTOR, { role: 'legal', name: 'l' })).token;
  });

  after(async () => {
    await app?.close();
    if (ctx) await closeContext(ctx);
    await proxy?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while it is down, writes nothing, and takes the re-sent batch exactly once', async () => {
    const warm = buildAccount();
    const ok = await inject(app, 'POST', '/v1/ingest/accounts', { token: platform, body: { accounts: [warm] } });
    assert.equal(ok.statusCode, 200, ok.body);

    await proxy.stop();
    const batch = [buildAccount(), buildAccount(), buildAccount()];
    const down = await inject(app, 'POST', '/v1/ingest/accounts', { token: platform, body: { accounts: batch } });
    assertErrorBody(down, 503, 'store_unavailable');
    assert.equal(down.headers['retry-after'], '5');
    const sessions = await inject(app, 'POST', '/v1/ingest/sessions', {
      token: platform,
      body: { sessions: [buildSession(warm.id)] },
    });
    assertErrorBody(sessions, 503, 'store_unavailable');
    const from = new Date(Date.now() - 86_400_000).toISOString();
    // The order is looked up first, in the store: with the store down, any id gets the 503.
    const read = await inject(
      app,
      'GET',
      `/v1/accounts/${warm.id}/personal-data?from=${from}&to=${new Date().toISOString()}&orderId=lr_outage&purpose=outage%20test`,
      { token: legal },
    );
    assertErrorBody(read, 503, 'store_unavailable');
    const ready = await inject(app, 'GET', '/readyz');
    assertErrorBody(ready, 503);
    assert.ok(ready.headers['retry-after'], 'readyz says when to retry');
    assert.equal((await inject(app, 'GET', '/healthz')).statusCode, 200, 'the process itself is up');

    await proxy.start();
    assert.equal((await inject(app, 'GET', '/readyz')).statusCode, 200, 'ready again once the database is back');
    assert.equal(
      await countIds(
        ctx,
        batch.map((a) => a.id),
      ),
      0,
      'the failed batch left no rows',
    );
    assert.equal(await countAudit(ctx, 'accounts.ingest'), 1, 'nor an audit entry');
    assert.equal(await countAudit(ctx, 'sessions.ingest'), 0);

    const resent = await inject(app, 'POST', '/v1/ingest/accounts', { token: platform, body: { accounts: batch } });
    assert.equal(resent.statusCode, 200, resent.body);
    assert.deepEqual(resent.data, { received: 3, inserted: 3, updated: 0, unchanged: 0 });
    const again = await inject(app, 'POST', '/v1/ingest/accounts', { token: platform, body: { accounts: batch } });
    assert.deepEqual(again.data, { received: 3, inserted: 0, updated: 0, unchanged: 3 });
    assert.equal(
      await countIds(
        ctx,
        batch.map((a) => a.id),
      ),
      3,
    );
  });

  it('answers 503 and keeps running when the connection dies in the middle of a transaction', {}, async () => {
    // In a child process: an uncaught 'error' event there must not take the test runner down.
    const script = path.join(HERE, 'helpers/pg-drop-mid-transaction.ts');
    const databaseUrl = await scratchUrl();
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', script, databaseUrl, 'midtx'], {
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => {
        stdout += d;
      });
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      const timer = setTimeout(() => p.kill('SIGKILL'), 40_000);
      p.on('error', reject);
      p.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    const cause = child.stderr
      .split('\n')
      .filter((l) => /Unhandled|Error/.test(l))
      .join(' | ');
    assert.equal(child.code, 0, `the process must survive the lost connection; it died: ${cause}`);
    const seen = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
    assert.equal(seen.warm, 200);
    assert.equal(seen.cut, true, 'the connection was cut inside the transaction');
    assert.equal(seen.failed.status, 503);
    assert.equal(seen.failed.body.error.code, 'store_unavailable');
    assert.equal(seen.failed.retryAfter, '5');
    assert.equal(seen.rowsAfterFailure, 0, 'nothing half-written');
    assert.equal(seen.retried.status, 200);
    assert.equal(seen.retried.body.inserted, 2);
    assert.equal(seen.rowsAfterRetry, 2);
  });
});

describe('faults: a PostgreSQL database shared by several schemas', { skip: !TEST_STORES.includes('postgres') }, () => {
  /** Opens a context on `first`, then one on `second` beside it; returns the second one's accounts. */
  async function secondBesideFirst(first: string, second: string | undefined): Promise<unknown[]> {
    const databaseUrl = await scratchUrl();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-schemas-'));
    const config = toConfig({ CUSTOS_DATA_DIR: dataDir, CUSTOS_DATABASE_URL: databaseUrl }, { pgPoolSize: 2 });
    const opened: Context[] = [];
    try {
      opened.push(await createContext(config, { pgSchema: first, logger: createLogger('silent') }));
      opened.push(
        await createContext(config, { ...(second ? { pgSchema: second } : {}), logger: createLogger('silent') }),
      );
      return await opened[1]!.store.db.selectFrom('accounts').select('id').execute();
    } finally {
      for (const c of opened) await closeContext(c);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }

  it('migrates a suite schema while another schema of the same database already holds Custos tables', async () => {
    assert.deepEqual(await secondBesideFirst('first_suite', 'second_suite'), [], 'its own, empty, tables');
  });

  it('migrates the default schema while another schema of the same database holds Kysely tables', {}, async () => {
    assert.deepEqual(await secondBesideFirst('other_app', undefined), [], 'its own, empty, tables in public');
  });
});

describe('faults: SQLite locked by another process', { skip: !TEST_STORES.includes('sqlite') }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('sqlite', { config: { sqliteBusyTimeoutMs: 200 } });
  });
  after(async () => {
    if (h) await stopHarness(h);
  });

  it('answers 503 after the busy timeout, stores nothing, and takes the same batch once the lock is released', async () => {
    const known = buildAccount();
    const first = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [known] },
    });
    assert.equal(first.statusCode, 200, first.body);
    const batch = [buildAccount(), buildAccount()];
    const sessions = [buildSession(known.id), buildSession(known.id)];

    for (const begin of ['BEGIN IMMEDIATE', 'BEGIN EXCLUSIVE']) {
      const locker = new BetterSqlite3(h.location);
      try {
        locker.exec(begin);
        const started = Date.now();
        const res = await h.call('POST', '/v1/ingest/accounts', {
          token: h.tokens.platform,
          body: { accounts: batch },
        });
        const waited = Date.now() - started;
        assertErrorBody(res, 503, 'store_unavailable');
        assert.equal(res.headers['retry-after'], '5');
        assert.ok(waited >= 150, `it waited for the lock (${waited} ms) before giving up`);
        assert.ok(waited < 5000, `it gave up after about the busy timeout (${waited} ms)`);
        const s = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
        assertErrorBody(s, 503, 'store_unavailable');
      } finally {
        if (locker.inTransaction) locker.exec('ROLLBACK');
        locker.close();
      }
      assert.equal(
        await countIds(
          h.ctx,
          batch.map((a) => a.id),
        ),
        0,
        `${begin}: the failed batch left no rows`,
      );
    }
    const sessionRows = await h.ctx.store.db.selectFrom('sessions').select('id').execute();
    assert.equal(sessionRows.length, 0);

    const resent = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: batch } });
    assert.equal(resent.statusCode, 200, resent.body);
    assert.equal(resent.data.inserted, 2);
    const s = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
    assert.equal(s.statusCode, 200, s.body);
    assert.deepEqual(s.data, { received: 2, inserted: 2, duplicates: 0 });
    assert.equal(
      await countIds(
        h.ctx,
        batch.map((a) => a.id),
      ),
      2,
    );
  });
});

describeEachStore('faults: internal errors', (get) => {
  it('answers a failure inside Custos as internal_error, with no stack, no source path and no internals', async () => {
    const h = get();
    const a = buildAccount();
    const ok = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    assert.equal(ok.statusCode, 200, ok.body);
    const order = await orderAgainst(h, [a.id]);
    // A row that no longer decrypts (a storage fault) makes the read fail inside the service.
    await h.ctx.store.db
      .updateTable('accounts')
      .set({ phone_enc: Buffer.from('not a ciphertext') })
      .where('id', '=', a.id)
      .execute();
    const res = await h.call(
      'GET',
      personalDataUrl(a.id, {
        orderId: order.id,
        from: Date.now() - 86_400_000,
        to: Date.now(),
        purpose: 'fault test',
      }),
      { token: h.tokens.legal },
    );
    const error = assertErrorBody(res, 500, 'internal_error');
    assert.equal(error.details, undefined);
    assert.doesNotMatch(res.body, /decrypt|accounts\.phone|unknown format|src\//, 'the cause stays in the log');
    assert.match(h.logs(), /"msg":"unhandled error"/, 'the cause is logged');
  });
});
