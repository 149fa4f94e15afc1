import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { CompactSign, type JWK, compactVerify, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { CHECKPOINT_CTY, verifyAuditCheckpoint } from '../src/audit/checkpoint.js';
import { storedEntryHash, verifyAudit } from '../src/audit/service.js';
import type { Db } from '../src/db/database.js';
import { appendFillerEntries, lastSeq, withTampering } from './helpers/audit-chain.js';
import { runCli } from './helpers/cli.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, TEST_ACTOR, describeEachStore } from './helpers/harness.js';

interface CheckpointAnswer {
  seq: number;
  hash: string;
  head: { seq: number; hash: string };
  at: string;
  jws: string;
}

async function fetchCheckpoint(h: Harness, seq?: number): Promise<CheckpointAnswer> {
  const res = await h.call('GET', `/v1/transparency/audit-checkpoint${seq === undefined ? '' : `?seq=${seq}`}`, {
    token: null,
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.data as CheckpointAnswer;
}

/**
 * Rewrites history the way someone with write access to the store could: entry `seq` gets other
 * details, and every hash from it to the head is recomputed, so the chain verifies again.
 */
async function rewriteFrom(db: Db, seq: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', seq - 1)
      .orderBy('seq')
      .execute();
    let prev = Number(rows[0]!.seq) === seq - 1 ? rows[0]!.hash : '0'.repeat(64);
    for (const r of rows) {
      if (Number(r.seq) < seq) continue;
      const details = Number(r.seq) === seq ? JSON.stringify({ rewritten: true }) : r.details;
      const hash = storedEntryHash(prev, { ...r, details });
      await tx
        .updateTable('audit_log')
        .set({ details, prev_hash: prev, hash })
        .where('seq', '=', Number(r.seq))
        .execute();
      prev = hash;
    }
    await tx.updateTable('audit_head').set({ hash: prev }).where('id', '=', 1).execute();
  });
}

describeEachStore('audit checkpoints', (get) => {
  let dir: string;
  before(async () => {
    const h = get();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-checkpoint-'));
    await appendFillerEntries(h.ctx.store.db, 12, TEST_ACTOR);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates one signing key when many requests want the first one at once', async () => {
    const h = get();
    const db = h.ctx.store.db;
    assert.equal((await db.selectFrom('signing_keys').selectAll().execute()).length, 0, 'a fresh store has none');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.call('GET', i % 2 ? '/.well-known/custos-signing-keys.json' : '/v1/transparency/audit-checkpoint?seq=1', {
          token: null,
        }),
      ),
    );
    for (const a of answers) assert.equal(a.statusCode, 200, a.body);
    assert.equal((await db.selectFrom('signing_keys').selectAll().execute()).length, 1);
  });

  it('gives anyone a checkpoint of the head, signed by a key of the published JWKS', async () => {
    const h = get();
    const res = await h.call('GET', '/v1/transparency/audit-checkpoint', { token: null });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'public, max-age=60');
    const c = res.data as CheckpointAnswer;
    const head = await h.ctx.store.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    assert.equal(c.seq, Number(head.seq));
    assert.equal(c.hash, head.hash);
    assert.deepEqual(c.head, { seq: c.seq, hash: c.hash });
    const jwks = (await h.call('GET', '/.well-known/custos-signing-keys.json')).data as { keys: JWK[] };
    const verified = await compactVerify(c.jws, createLocalJWKSet(jwks));
    assert.equal(verified.protectedHeader.alg, 'EdDSA');
    assert.equal(verified.protectedHeader.cty, CHECKPOINT_CTY);
    const { jws: _jws, ...fields } = c;
    assert.deepEqual(JSON.parse(new TextDecoder().decode(verified.payload)), fields);
    // Within the minute the same head is published, however the log grows, and no entry past it is reachable.
    await appendFillerEntries(h.ctx.store.db, 2, TEST_ACTOR);
    assert.deepEqual(await fetchCheckpoint(h), c);
    const ahead = await h.call('GET', `/v1/transparency/audit-checkpoint?seq=${c.seq + 1}`, { token: null });
    assertErrorBody(ahead, 404, 'not_found');
  });

  it('signs an earlier entry when asked, and answers 404 past the head and 422 for a bad number', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const k = (await lastSeq(db)) - 5;
    const c = await fetchCheckpoint(h, k);
    const row = await db.selectFrom('audit_log').select('hash').where('seq', '=', k).executeTakeFirstOrThrow();
    assert.equal(c.seq, k);
    assert.equal(c.hash, row.hash);
    assert.ok(c.head.seq > k);
    const past = await h.call('GET', `/v1/transparency/audit-checkpoint?seq=${c.head.seq + 1000}`, { token: null });
    assertErrorBody(past, 404, 'not_found');
    const zero = await h.call('GET', '/v1/transparency/audit-checkpoint?seq=0', { token: null });
    assertErrorBody(zero, 422, 'validation_failed');
  });

  it('still verifies after the chain has grown, from the API and from the CLI', async () => {
    const h = get();
    const c = await fetchCheckpoint(h);
    await appendFillerEntries(h.ctx.store.db, 3, TEST_ACTOR);
    const verdict = await verifyAuditCheckpoint(h.ctx.store.db, c.jws);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    const file = path.join(dir, 'kept.json');
    fs.writeFileSync(file, JSON.stringify(c));
    const res = await runCli(h, ['audit', 'verify', '--checkpoint', file]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`entry ${c.seq} still has the hash`));
    // An auditor through the API, the check recorded with its outcome.
    const api = await h.call('POST', '/v1/audit/verify', { token: h.tokens.auditor, body: { checkpoint: c.jws } });
    assert.equal(api.statusCode, 200, api.body);
    assert.equal(api.data.ok, true);
    const kid = JSON.parse(Buffer.from(c.jws.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
    assert.deepEqual(api.data.checkpoint, { ok: true, seq: c.seq, at: c.at, keys: 'store', kid });
    const entry = await h.ctx.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'audit.verify')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(entry.details).checkpoint, { ok: true, seq: c.seq, at: c.at, keys: 'store', kid });
    for (const [body, status, code] of [
      [{ checkpoint: 42 }, 400, 'malformed_request'],
      [{ checkpoint: '' }, 422, 'validation_failed'],
      [{ checkpoint: c.jws, extra: 1 }, 400, 'unknown_field'],
      [{ keys: { keys: [] } }, 422, 'validation_failed'],
      [{ checkpoint: 'not a checkpoint' }, 422, 'validation_failed'],
    ] as const) {
      const bad = await h.call('POST', '/v1/audit/verify', { token: h.tokens.auditor, body });
      assertErrorBody(bad, status, code);
    }
    const forged = await h.call('POST', '/v1/audit/verify', {
      token: h.tokens.auditor,
      body: { checkpoint: `${c.jws.slice(0, -4)}AAAA` },
    });
    const details = assertErrorBody(forged, 422, 'validation_failed').details as Array<{ path: string; code: string }>;
    assert.deepEqual(
      details.map((d) => [d.path, d.code]),
      [['/checkpoint', 'invalid_checkpoint']],
    );
  });

  it('catches a rewritten history that the chain check alone accepts', async () => {
    const h = get();
    const c = await fetchCheckpoint(h);
    const earlier = await fetchCheckpoint(h, c.seq - 1);
    const file = path.join(dir, 'before-rewrite.jws');
    fs.writeFileSync(file, c.jws);
    await withTampering(
      h.ctx.store.db,
      (db) => rewriteFrom(db, c.seq - 4),
      async () => {
        assert.equal((await verifyAudit(h.ctx.store.db)).ok, true, 'a full rewrite passes the chain check');
        const verdict = await verifyAuditCheckpoint(h.ctx.store.db, c.jws);
        assert.equal(verdict.ok, false);
        assert.equal(!verdict.ok && verdict.code, 'history_rewritten');
        const res = await runCli(h, ['audit', 'verify', '--checkpoint', file]);
        assert.equal(res.code, 1, res.stdout);
        assert.match(res.stderr, /history_rewritten: entry \d+ hashes to/);
        const api = await h.call('POST', '/v1/audit/verify', { token: h.tokens.auditor, body: { checkpoint: c.jws } });
        assert.equal(api.statusCode, 200, api.body);
        assert.equal(api.data.ok, false, 'the chain verifies on its own, but not against the checkpoint');
        assert.equal(api.data.badSeq, c.seq);
        assert.match(api.data.problem, /rewritten/);
        assert.equal(api.data.checkpoint.ok, false);
        assert.equal(api.data.checkpoint.code, 'history_rewritten');
        // The same route, asked for an entry it signed before, now signs another hash: two signed statements differ.
        assert.notEqual((await fetchCheckpoint(h, c.seq - 1)).hash, earlier.hash);
      },
    );
  });

  it('catches a removed end of the chain', async () => {
    const h = get();
    const c = await fetchCheckpoint(h);
    await withTampering(
      h.ctx.store.db,
      async (db) => {
        await db
          .deleteFrom('audit_log')
          .where('seq', '>', c.seq - 3)
          .execute();
        const last = await db
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '=', c.seq - 3)
          .executeTakeFirstOrThrow();
        await db
          .updateTable('audit_head')
          .set({ seq: c.seq - 3, hash: last.hash })
          .where('id', '=', 1)
          .execute();
      },
      async () => {
        assert.equal((await verifyAudit(h.ctx.store.db)).ok, true, 'a cut end passes the chain check');
        const verdict = await verifyAuditCheckpoint(h.ctx.store.db, c.jws);
        assert.equal(!verdict.ok && verdict.code, 'entry_missing', JSON.stringify(verdict));
      },
    );
  });

  it('refuses an altered or forged checkpoint, and checks against kept keys when the store lost them', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const c = await fetchCheckpoint(h);
    const [header, payload, signature] = c.jws.split('.');
    const altered = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    altered.hash = 'f'.repeat(64);
    const forgedPayload = `${header}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature}`;
    const forgedKey = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')).kid as string;
    const { jws: _jws, ...fields } = c;
    const forgedSignature = await new CompactSign(new TextEncoder().encode(JSON.stringify(fields)))
      .setProtectedHeader({ alg: 'EdDSA', kid, cty: CHECKPOINT_CTY })
      .sign(forgedKey.privateKey);
    const otherType = await new CompactSign(new TextEncoder().encode(JSON.stringify(fields)))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'other', cty: 'something-else' })
      .sign(forgedKey.privateKey);
    const otherKeys = { keys: [{ ...(await exportJWK(forgedKey.publicKey)), kid: 'other', alg: 'EdDSA' }] };
    for (const [jws, keys] of [
      [forgedPayload, undefined],
      [forgedSignature, undefined],
      ['not a jws', undefined],
      [otherType, otherKeys],
    ] as const) {
      const verdict = await verifyAuditCheckpoint(db, jws, { keys });
      assert.equal(!verdict.ok && verdict.code, 'invalid_checkpoint', jws.slice(0, 40));
    }
    // The store's keys removed (as a rewrite could): the published keys no longer verify it, the kept ones do.
    const jwks = (await h.call('GET', '/.well-known/custos-signing-keys.json')).data as { keys: JWK[] };
    const keyRows = await db.selectFrom('signing_keys').selectAll().execute();
    await db.deleteFrom('signing_keys').execute();
    try {
      assert.equal((await verifyAuditCheckpoint(db, c.jws)).ok, false);
      assert.equal((await verifyAuditCheckpoint(db, c.jws, { keys: jwks })).ok, true);
      const keysFile = path.join(dir, 'keys.json');
      fs.writeFileSync(keysFile, JSON.stringify(jwks));
      const res = await runCli(h, ['audit', 'verify', '--checkpoint', c.jws, '--keys', keysFile]);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      await db.insertInto('signing_keys').values(keyRows).execute();
    }
  });

  it('prints a checkpoint from the CLI that the API then verifies', async () => {
    const h = get();
    const res = await runCli(h, ['audit', 'checkpoint']);
    assert.equal(res.code, 0, res.stderr);
    const printed = JSON.parse(res.stdout) as CheckpointAnswer;
    assert.equal(printed.seq, await lastSeq(h.ctx.store.db));
    assert.equal((await verifyAuditCheckpoint(h.ctx.store.db, printed.jws)).ok, true);
    const bad = await runCli(h, ['audit', 'checkpoint', '--seq', '0']);
    assert.notEqual(bad.code, 0);
  });
});
