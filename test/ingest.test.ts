import assert from 'node:assert/strict';
import { it } from 'node:test';
import { buildAccount, buildSession } from './helpers/factories.js';
import { describeEachStore } from './helpers/harness.js';
import { storedPersonalData } from './helpers/stored-personal-data.js';

const count = async (
  h: ReturnType<Parameters<Parameters<typeof describeEachStore>[1]>[0]>,
  table: 'accounts' | 'sessions',
) =>
  Number(
    (await h.ctx.store.db.selectFrom(table).select(h.ctx.store.db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
  );

describeEachStore('platform ingest', (get) => {
  it('upserts accounts and answers counts; re-sending the batch changes nothing', async () => {
    const h = get();
    const accounts = [buildAccount(), buildAccount({ phone: '+888 0123 4567' }), buildAccount({ phone: undefined })];
    const first = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.data, { received: 3, inserted: 3, updated: 0, unchanged: 0 });

    const before = await h.ctx.store.db.selectFrom('accounts').selectAll().orderBy('id').execute();
    const again = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.data, { received: 3, inserted: 0, updated: 0, unchanged: 3 });
    const after = await h.ctx.store.db.selectFrom('accounts').selectAll().orderBy('id').execute();
    assert.deepEqual(after, before, 'a re-sent batch must not rewrite any row');

    const changed = { ...accounts[0], username: 'renamed' };
    const upd = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [changed] },
    });
    assert.deepEqual(upd.data, { received: 1, inserted: 0, updated: 1, unchanged: 0 });
    const view = await h.call('GET', `/v1/accounts/${changed.id}`, { token: h.tokens.moderator });
    assert.equal(view.statusCode, 200);
    assert.equal(view.data.username, 'renamed');
    assert.equal(view.data.hasPhone, true, 'a field left out keeps its stored value');
    assert.equal(view.data.phone, undefined, 'the account view never carries the phone number');
  });

  it('accepts anonymous +888 numbers and stores phone numbers as E.164', async () => {
    const h = get();
    const a = buildAccount({ phone: '+888 0999 1234' });
    const b = buildAccount({ phone: '+49 (151) 2345-6789' });
    const res = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a, b] } });
    assert.equal(res.statusCode, 200, res.body);
    // What was stored, decrypted (reading it through the API needs a legal order: test/personal-data.test.ts).
    assert.equal((await storedPersonalData(h, b.id)).phoneNumber, '+4915123456789');
    assert.equal((await storedPersonalData(h, a.id)).phoneNumber, '+88809991234');
    const view = await h.call('GET', `/v1/accounts/${a.id}`, { token: h.tokens.legal });
    assert.equal(view.data.phoneCountry, '001');
  });

  it('rejects a whole batch when one item is invalid, naming index and field', async () => {
    const h = get();
    const before = await count(h, 'accounts');
    const accounts = [
      buildAccount(),
      buildAccount(),
      buildAccount({ phone: '+49 123' }),
      buildAccount({ country: 'ZZ' }),
    ];
    const res = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
    assert.equal(res.statusCode, 422);
    assert.equal(res.data.error.code, 'validation_failed');
    assert.deepEqual(
      res.data.error.details.map((d: { path: string; code: string }) => [d.path, d.code]),
      [
        ['/accounts/2/phone', 'invalid_phone'],
        ['/accounts/3/country', 'unknown_country'],
      ],
    );
    assert.equal(await count(h, 'accounts'), before, 'nothing of the batch is stored');
  });

  it('rejects duplicate ids inside one batch', async () => {
    const h = get();
    const a = buildAccount();
    const res = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [a, buildAccount(), { ...a, username: 'other' }] },
    });
    assert.equal(res.statusCode, 422);
    assert.equal(res.data.error.details[0].path, '/accounts/2/id');
    assert.equal(res.data.error.details[0].code, 'duplicate_id');
  });

  it('answers 400 for malformed JSON, wrong types and unknown fields; 422 for a missing field', async () => {
    const h = get();
    const before = await count(h, 'accounts');
    const bad = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, rawBody: '{"accounts":[{' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.data.error.code, 'malformed_json');
    assert.equal(bad.data.error.stack, undefined);

    const wrongType = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [{ id: 12 }] },
    });
    assert.equal(wrongType.statusCode, 400);
    assert.equal(wrongType.data.error.code, 'malformed_request');
    assert.equal(wrongType.data.error.details[0].path, '/accounts/0/id');

    const unknown = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [buildAccount()], extra: true },
    });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.data.error.code, 'unknown_field');
    assert.equal(unknown.data.error.details[0].path, '/extra');

    const missing = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [{ phone: '+4915112345678' }] },
    });
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(missing.data.error.details[0], {
      path: '/accounts/0/id',
      code: 'missing_field',
      message: 'is required',
    });
    assert.equal(await count(h, 'accounts'), before);
  });

  it('answers 413 for more than 10,000 items and for a body over the size limit', async () => {
    const h = get();
    const accounts = Array.from({ length: 10_001 }, (_, i) => ({ id: `big-${i}` }));
    const res = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
    assert.equal(res.statusCode, 413);
    assert.equal(res.data.error.code, 'batch_too_large');

    const huge = JSON.stringify({ accounts: [{ id: 'x', username: 'y'.repeat(h.config.bodyLimitBytes) }] });
    const res2 = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, rawBody: huge });
    assert.equal(res2.statusCode, 413);
    assert.equal(res2.data.error.code, 'payload_too_large');
    assert.equal(
      await h.ctx.store.db.selectFrom('accounts').select('id').where('id', '=', 'big-0').executeTakeFirst(),
      undefined,
    );
  });

  it('accepts exactly 10,000 accounts in one batch', async () => {
    const h = get();
    const accounts = Array.from({ length: 10_000 }, (_, i) => ({ id: `max-${i}`, country: 'FR' }));
    const res = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.data.inserted, 10_000);
  });

  it('stores sessions idempotently with normalised IPv4 and IPv6 addresses', async () => {
    const h = get();
    const a = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const sessions = [
      buildSession(a.id, { ip: '::FFFF:203.0.113.7', port: 443, at }),
      buildSession(a.id, { ip: '2001:0DB8:0000:0000:0000:0000:0000:0001', at }),
      buildSession(a.id, { ip: '198.51.100.20' }),
    ];
    const res = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.data, { received: 3, inserted: 3, duplicates: 0 });
    const again = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
    assert.deepEqual(again.data, { received: 3, inserted: 0, duplicates: 3 });

    const stored = await storedPersonalData(h, a.id, Date.now() - 40 * 86_400_000, Date.now() + 60_000);
    const ips = stored.sessions.map((s) => s.ip).sort();
    assert.deepEqual(ips, ['198.51.100.20', '2001:db8::1', '203.0.113.7']);
    assert.equal(stored.sessions.find((s) => s.ip === '203.0.113.7')?.port, 443);
  });

  it('rejects invalid IPs, unknown accounts, future and expired times and in-batch duplicates, atomically', async () => {
    const h = get();
    const a = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    const before = await count(h, 'sessions');
    const dup = buildSession(a.id);
    const sessions = [
      buildSession(a.id),
      buildSession(a.id, { ip: '300.1.2.3' }),
      buildSession(a.id, { ip: '01.2.3.4' }),
      buildSession('no-such-account'),
      buildSession(a.id, { at: new Date(Date.now() + 3_600_000).toISOString() }),
      buildSession(a.id, { at: new Date(Date.now() - 400 * 86_400_000).toISOString() }),
      dup,
      { ...dup },
      buildSession(a.id, { ip: 'fe80::1%eth0' }),
    ];
    const res = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
    assert.equal(res.statusCode, 422, res.body);
    const got = res.data.error.details.map((d: { path: string; code: string }) => `${d.path}:${d.code}`);
    assert.deepEqual(got, [
      '/sessions/1/ip:invalid_ip',
      '/sessions/2/ip:invalid_ip',
      '/sessions/3/accountId:unknown_account',
      '/sessions/4/at:in_the_future',
      '/sessions/5/at:older_than_retention',
      '/sessions/7:duplicate_item',
      '/sessions/8/ip:invalid_ip',
    ]);
    assert.equal(await count(h, 'sessions'), before);
    for (const bad of ['300.1.2.3', '01.2.3.4'])
      assert.ok(!res.body.includes(bad), 'error bodies do not echo addresses');
  });

  it('rejects a port out of range and a time without a zone', async () => {
    const h = get();
    const a = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    const res = await h.call('POST', '/v1/ingest/sessions', {
      token: h.tokens.platform,
      body: { sessions: [buildSession(a.id, { port: 70000 }), buildSession(a.id, { at: '2026-11-01 10:00' })] },
    });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(
      res.data.error.details.map((d: { path: string }) => d.path),
      ['/sessions/0/port', '/sessions/1/at'],
    );
  });
});
