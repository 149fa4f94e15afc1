import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ConfigError, toConfig } from '../src/config.js';
import { type Harness, TEST_PG_URL, TEST_STORES, startHarness, stopHarness } from './helpers/harness.js';
import { orderAgainst, seedViolator } from './helpers/legal.js';
import { type TcpProxy, startTcpProxy } from './helpers/tcp-proxy.js';

/**
 * CUSTOS_DATABASE_READ_URL: the heavy read-only reports (request figures, the DSA
 * year, the statements export, the transparency page, the auditors' access report)
 * read a replica; everything else the primary. The "replica" here is the same
 * PostgreSQL reached through a TCP proxy, so the test can count its connections
 * and take it away. Its sessions are read-only, as a hot standby's are.
 */
describe('configuration of the read replica', () => {
  it('needs a postgres:// URL and a primary', () => {
    assert.throws(
      () => toConfig({ CUSTOS_DATABASE_READ_URL: 'postgres://replica/db' }),
      (e: unknown) => e instanceof ConfigError && /CUSTOS_DATABASE_READ_URL/.test(e.message),
    );
    assert.throws(
      () => toConfig({ CUSTOS_DATABASE_URL: TEST_PG_URL, CUSTOS_DATABASE_READ_URL: 'mysql://replica/db' }),
      (e: unknown) => e instanceof ConfigError && /postgres:\/\//.test(e.message),
    );
    const config = toConfig({
      CUSTOS_DATABASE_URL: TEST_PG_URL,
      CUSTOS_DATABASE_READ_URL: 'postgres://replica:5432/custos',
      CUSTOS_PG_READ_POOL_SIZE: '3',
    });
    assert.equal(config.readDatabaseUrl, 'postgres://replica:5432/custos');
    assert.equal(config.pgReadPoolSize, 3);
    assert.equal(toConfig({}).readDatabaseUrl, undefined);
  });
});

describe('transparency reports on a read replica (PostgreSQL)', { skip: !TEST_STORES.includes('postgres') }, () => {
  let proxy: TcpProxy;
  let h: Harness;
  const year = new Date().getUTCFullYear();
  const today = new Date().toISOString().slice(0, 10);

  before(async () => {
    proxy = await startTcpProxy(Number(new URL(TEST_PG_URL).port || 5432), new URL(TEST_PG_URL).hostname);
    const replica = new URL(TEST_PG_URL);
    replica.host = `127.0.0.1:${proxy.port}`;
    h = await startHarness('postgres', { config: { readDatabaseUrl: replica.toString(), pgReadPoolSize: 2 } });
    const violator = await seedViolator(h);
    await orderAgainst(h, [violator.accountId]);
  });
  after(async () => {
    await stopHarness(h);
    await proxy.stop();
  });

  it('sends every report to the replica, and none of them writes', async () => {
    const before = proxy.connections;
    const auditor = { token: h.tokens.auditor };
    const calls: Array<[string, { token?: string }]> = [
      [`/v1/transparency/requests?country=DE&from=${year}-01-01&to=${year + 1}-01-01`, {}],
      [`/v1/transparency/dsa?year=${year}`, {}],
      [`/v1/transparency/statements?from=${today}&to=${today}`, auditor],
      ['/v1/audit/personal-data-access?limit=5', auditor],
      ['/v1/transparency/policy', {}],
      ['/transparency?country=DE', {}],
    ];
    for (const [url, options] of calls) {
      const res = await h.call('GET', url, options);
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
    }
    const figures = await h.call('GET', `/v1/transparency/requests?country=DE&from=${year}-01-01&to=${year + 1}-01-01`);
    assert.ok(
      JSON.stringify(figures.data).includes('"received"'),
      'the figures name the orders received (read through the replica)',
    );
    assert.ok(proxy.connections > before, 'the reports opened connections to the replica');
    const ready = await h.call('GET', '/readyz');
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.data.checks.replica, 'ok');
  });

  it('refuses a write through the read pool, as a standby would', async () => {
    await assert.rejects(
      sql`insert into policy_versions (version, kind, name, first_seen_at, last_seen_at) values ('x', 'x', 'x', 0, 0)`.execute(
        h.ctx.store.reads,
      ),
      /read-only transaction/,
    );
    await assert.rejects(sql`create table replica_probe (x int)`.execute(h.ctx.store.reads), /read-only transaction/);
  });

  it('keeps the API up when the replica is down: only the reports fail, and come back with it', async () => {
    await proxy.stop();
    try {
      const ready = await h.call('GET', '/readyz');
      assert.equal(ready.statusCode, 200, 'a lost replica does not take the API out of the load balancer');
      assert.equal(ready.data.checks.replica, 'down');
      assert.equal(ready.data.checks.store, 'ok');
      // Not cached: a country not asked for before.
      const figures = await h.call(
        'GET',
        `/v1/transparency/requests?country=FR&from=${year}-01-01&to=${year + 1}-01-01`,
      );
      assert.equal(figures.statusCode, 503, figures.body);
      const report = await h.call('POST', '/v1/reports', {
        token: h.tokens.platform,
        body: { subject: { accountId: 'replica-down-subject' }, category: 'spam' },
      });
      assert.ok([201, 404].includes(report.statusCode), `intake answered ${report.statusCode}: ${report.body}`);
      assert.notEqual(report.statusCode, 503, 'intake writes to the primary');
    } finally {
      await proxy.start();
    }
    const again = await h.call('GET', `/v1/transparency/requests?country=FR&from=${year}-01-01&to=${year + 1}-01-01`);
    assert.equal(again.statusCode, 200, again.body);
    assert.equal((await h.call('GET', '/readyz')).data.checks.replica, 'ok');
  });
});
