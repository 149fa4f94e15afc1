import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { it } from 'node:test';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';

const randomPdq = () => crypto.randomBytes(32).toString('hex');
const randomMd5 = () => crypto.randomBytes(16).toString('hex');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A creation body, overridable field by field; a fresh name each time. */
function buildBank(overrides: Record<string, unknown> = {}) {
  return { name: `bank-${crypto.randomBytes(4).toString('hex')}`, category: 'spam', ...overrides };
}

async function createBank(h: Harness, body: unknown, token: string | null = h.tokens.admin) {
  return h.call('POST', '/v1/hash-banks', { token, body });
}

async function addHashes(h: Harness, bank: string, body: unknown, token = h.tokens.admin) {
  return h.call('POST', `/v1/hash-banks/${bank}/hashes`, { token, body });
}

async function auditHead(h: Harness): Promise<number> {
  const head = await h.ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
  return Number(head.seq);
}

/** Entries audited after `seq`, oldest first. */
async function auditedSince(h: Harness, seq: number) {
  return h.ctx.store.db.selectFrom('audit_log').selectAll().where('seq', '>', seq).orderBy('seq').execute();
}

/** What the store holds: banks by name and their hashes (kind:value, enabled or not). */
async function stored(h: Harness) {
  const banks = await h.ctx.store.db.selectFrom('hash_banks').select(['id', 'name']).execute();
  const hashes = await h.ctx.store.db
    .selectFrom('bank_hashes')
    .select(['bank_id', 'kind', 'value', 'enabled'])
    .execute();
  return { banks: banks.map((b) => b.name).sort(), hashes: hashes.length };
}

async function tokenId(h: Harness, role: 'admin'): Promise<string> {
  const row = await h.ctx.store.db
    .selectFrom('api_tokens')
    .select('id')
    .where('name', '=', `test ${role}`)
    .executeTakeFirstOrThrow();
  return row.id;
}

describeEachStore('hash banks over HTTP (admin only)', (get) => {
  it('refuses every other role with 403 and no token with 401, before validation, and stores nothing', async () => {
    const h = get();
    const before = await stored(h);
    const head = await auditHead(h);
    for (const role of ['moderator', 'auditor', 'legal', 'platform', 'trusted_flagger', 'authority'] as const) {
      const token = h.tokens[role];
      assertErrorBody(await h.call('GET', '/v1/hash-banks', { token }), 403, 'forbidden');
      assertErrorBody(await createBank(h, buildBank(), token), 403, 'forbidden');
      assertErrorBody(await createBank(h, { name: 'Not A Name' }, token), 403, 'forbidden');
      assertErrorBody(await addHashes(h, 'any', { hashes: [{ kind: 'pdq', value: randomPdq() }] }, token), 403);
      assertErrorBody(
        await h.call('DELETE', `/v1/hash-banks/any/hashes/pdq/${randomPdq()}`, { token }),
        403,
        'forbidden',
      );
    }
    assertErrorBody(await h.call('GET', '/v1/hash-banks', { token: null }), 401, 'unauthenticated');
    assertErrorBody(await createBank(h, buildBank(), null), 401, 'unauthenticated');
    assert.deepEqual(await stored(h), before);
    assert.deepEqual(await auditedSince(h, head), [], 'a refused request writes nothing');
  });

  it('a bank with bad settings is one 422 naming each field, and nothing is stored', async () => {
    const h = get();
    const before = await stored(h);
    const head = await auditHead(h);
    const res = await createBank(h, { name: 'Bad Name!', category: 'gossip', action: 'delete', threshold: 64 });
    const error = assertErrorBody(res, 422, 'validation_failed');
    assert.deepEqual(
      (error.details as Array<{ path: string; code: string }>).map((p) => [p.path, p.code]),
      [
        ['/name', 'invalid_name'],
        ['/category', 'unknown_category'],
        ['/action', 'invalid_action'],
        ['/threshold', 'out_of_range'],
      ],
    );
    const missing = assertErrorBody(await createBank(h, { name: 'no-category' }), 422, 'validation_failed');
    assert.deepEqual(
      (missing.details as Array<{ path: string }>).map((p) => p.path),
      ['/category'],
    );
    assertErrorBody(await createBank(h, buildBank({ enabled: true })), 400, 'unknown_field');
    assertErrorBody(await createBank(h, buildBank({ threshold: 2.5 })), 422, 'validation_failed');
    assert.deepEqual(await stored(h), before);
    assert.deepEqual(await auditedSince(h, head), []);
  });

  it('creates a bank, adds hashes (0x and any case, repeats counted), lists it, and this process matches them at once', async () => {
    const h = get();
    await h.ctx.hashes.ready();
    const body = buildBank({ category: 'csam', action: 'remove', threshold: 20 });
    const created = await createBank(h, body);
    assert.equal(created.statusCode, 201, created.body);
    assert.match(created.data.id, /^bank_/);
    assert.match(created.data.createdAt, ISO);
    assert.deepEqual(
      { ...created.data, id: undefined, createdAt: undefined },
      {
        id: undefined,
        createdAt: undefined,
        name: body.name,
        category: 'csam',
        action: 'remove',
        threshold: 20,
        enabled: true,
        hashes: 0,
      },
    );
    assertErrorBody(await createBank(h, { name: body.name, category: 'spam' }), 409, 'conflict');

    const [pdq, md5] = [randomPdq(), randomMd5()];
    const added = await addHashes(h, body.name, {
      hashes: [
        { kind: 'pdq', value: `0x${pdq.toUpperCase()}` },
        { kind: 'md5', value: md5 },
        { kind: 'pdq', value: pdq },
      ],
      source: 'ncmec-2026-11.csv',
    });
    assert.equal(added.statusCode, 200, added.body);
    assert.deepEqual(added.data, { bank: body.name, given: 3, inserted: 2, alreadyPresent: 0, repeated: 1 });
    const again = await addHashes(h, body.name, { hashes: [{ kind: 'md5', value: md5 }] });
    assert.deepEqual(again.data, { bank: body.name, given: 1, inserted: 0, alreadyPresent: 1, repeated: 0 });

    const rows = await h.ctx.store.db
      .selectFrom('bank_hashes')
      .select(['kind', 'value', 'source'])
      .where('bank_id', '=', created.data.id)
      .orderBy('kind')
      .execute();
    assert.deepEqual(rows, [
      { kind: 'md5', value: md5, source: 'ncmec-2026-11.csv' },
      { kind: 'pdq', value: pdq, source: 'ncmec-2026-11.csv' },
    ]);

    const list = await h.call('GET', '/v1/hash-banks', { token: h.tokens.admin });
    assert.equal(list.statusCode, 200, list.body);
    const listed = list.data.banks.find((b: { name: string }) => b.name === body.name);
    assert.deepEqual(listed, { ...created.data, hashes: 2 });

    // No refresh here: the route brought this process's matcher up to date itself.
    const match = h.ctx.hashes.match({ md5: '0'.repeat(32), sha256: '0'.repeat(64), pdq: { original: pdq } });
    assert.deepEqual([match?.bank.name, match?.category, match?.distance], [body.name, 'csam', 0]);

    // Disabling one hash: the list counts it no more and matching stops at once.
    const removed = await h.call('DELETE', `/v1/hash-banks/${body.name}/hashes/pdq/${pdq}`, { token: h.tokens.admin });
    assert.equal(removed.statusCode, 204, removed.body);
    assert.equal(h.ctx.hashes.match({ md5: '0'.repeat(32), sha256: '0'.repeat(64), pdq: { original: pdq } }), null);
    const after = await h.call('GET', '/v1/hash-banks', { token: h.tokens.admin });
    assert.equal(after.data.banks.find((b: { name: string }) => b.name === body.name).hashes, 1);
    assertErrorBody(
      await h.call('DELETE', `/v1/hash-banks/${body.name}/hashes/pdq/${randomPdq()}`, { token: h.tokens.admin }),
      404,
      'not_found',
    );
  });

  it('a list with bad hashes is refused whole: 422 naming each by index, nothing stored, nothing audited', async () => {
    const h = get();
    const body = buildBank();
    assert.equal((await createBank(h, body)).statusCode, 201);
    const before = await stored(h);
    const head = await auditHead(h);
    const res = await addHashes(h, body.name, {
      hashes: [
        { kind: 'pdq', value: randomPdq() },
        { kind: 'pdq', value: 'not a hash' },
        { kind: 'md5', value: randomPdq() },
        { kind: 'crc32', value: 'deadbeef' },
        { kind: 'sha256', value: crypto.randomBytes(32).toString('hex') },
      ],
    });
    const error = assertErrorBody(res, 422, 'validation_failed');
    assert.deepEqual(
      (error.details as Array<{ path: string; code: string }>).map((p) => [p.path, p.code]),
      [
        ['/hashes/1/value', 'invalid_hash'],
        ['/hashes/2/value', 'invalid_hash'],
        ['/hashes/3/kind', 'invalid_kind'],
      ],
    );
    assert.match(error.message, /3 of the 5 hashes are not valid; nothing was added/);
    assert.deepEqual(await stored(h), before);
    assert.deepEqual(await auditedSince(h, head), []);

    assertErrorBody(await addHashes(h, body.name, { hashes: [] }), 422, 'validation_failed');
    assertErrorBody(
      await addHashes(h, 'no-such-bank', { hashes: [{ kind: 'pdq', value: randomPdq() }] }),
      404,
      'not_found',
    );
    const tooMany = Array.from({ length: 5001 }, () => ({ kind: 'md5', value: randomMd5() }));
    assertErrorBody(await addHashes(h, body.name, { hashes: tooMany }), 413, 'batch_too_large');
    assert.deepEqual(await stored(h), before);
  });

  it('every write is audited with the admin token and the request id', async () => {
    const h = get();
    const head = await auditHead(h);
    const body = buildBank({ category: 'terrorism' });
    const created = await createBank(h, body);
    const pdq = randomPdq();
    const added = await addHashes(h, body.name, { hashes: [{ kind: 'pdq', value: pdq }] });
    const removed = await h.call('DELETE', `/v1/hash-banks/${body.name}/hashes/pdq/${pdq}`, {
      token: h.tokens.admin,
    });
    assert.equal(removed.statusCode, 204);
    const entries = await auditedSince(h, head);
    const admin = await tokenId(h, 'admin');
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor_id, e.actor_role, e.request_id]),
      [
        ['hash_bank.created', admin, 'admin', created.headers['x-request-id']],
        ['hash_bank.hashes_added', admin, 'admin', added.headers['x-request-id']],
        ['hash.disabled', admin, 'admin', removed.headers['x-request-id']],
      ],
    );
    assert.equal(entries[0]!.subject_id, created.data.id);
    const details = (e: { details: unknown }) => (typeof e.details === 'string' ? JSON.parse(e.details) : e.details);
    assert.deepEqual(details(entries[0]!), { name: body.name, category: 'terrorism', action: 'review', threshold: 31 });
    assert.deepEqual(details(entries[1]!), {
      bank: body.name,
      source: null,
      given: 1,
      inserted: 1,
      alreadyPresent: 0,
      repeated: 0,
    });
  });
});
