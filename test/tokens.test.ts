import { ROLES } from '../src/identity/roles.js';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { addAuthority, expiredToken, issueToken, sha256Hex, tokenIdOf } from './helpers/identity.js';

const TOKEN_VIEW_KEYS = ['authorityId', 'createdAt', 'expiresAt', 'id', 'name', 'revokedAt', 'role'];

async function tokenRows(h: Harness) {
  return h.ctx.store.db.selectFrom('api_tokens').selectAll().execute();
}

async function createViaApi(h: Harness, body: Record<string, unknown>) {
  return h.call('POST', '/v1/tokens', { token: h.tokens.admin, body });
}

describeEachStore('API tokens', (get) => {
  it('answers 201 {id, token, tokenInfo} once, and stores only the SHA-256 of the token', async () => {
    const h = get();
    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const res = await createViaApi(h, { role: 'moderator', name: 'Mona Moderator', expiresAt });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(Object.keys(res.data).sort(), ['id', 'token', 'tokenInfo']);
    const { id, token, tokenInfo } = res.data;
    assert.match(token, /^cus_[A-Za-z0-9_-]{40,}$/);
    assert.equal(tokenInfo.id, id);
    assert.deepEqual(Object.keys(tokenInfo).sort(), TOKEN_VIEW_KEYS);
    assert.equal(tokenInfo.role, 'moderator');
    assert.equal(tokenInfo.name, 'Mona Moderator');
    assert.equal(tokenInfo.authorityId, null);
    assert.equal(tokenInfo.revokedAt, null);
    assert.equal(Date.parse(tokenInfo.expiresAt), Date.parse(expiresAt));

    const row = (await tokenRows(h)).find((r) => r.id === id);
    assert.ok(row, 'the token is stored');
    assert.equal(row.token_hash, sha256Hex(token));
    assert.equal(row.role, 'moderator');

    const me = await h.call('GET', '/v1/me', { token });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.data, { tokenId: id, name: 'Mona Moderator', role: 'moderator', authorityId: null });

    const again = await createViaApi(h, { role: 'moderator', name: 'Mona Moderator' });
    assert.notEqual(again.data.token, token, 'every token is new');
    assert.notEqual(again.data.id, id);
  });

  it('keeps no raw token anywhere in api_tokens, the audit log or the logs', async () => {
    const h = get();
    const created = await createViaApi(h, { role: 'auditor', name: 'raw check' });
    assert.equal(created.statusCode, 201);
    const raw = [...Object.values(h.tokens).filter((t) => t.startsWith('cus_')), created.data.token as string];
    assert.equal(raw.length, ROLES.length + 1, 'one per role and the one just made');
    const tokens = JSON.stringify(await tokenRows(h));
    const audit = JSON.stringify(await h.ctx.store.db.selectFrom('audit_log').selectAll().execute());
    for (const token of raw) {
      // The secret part alone, too: a store that dropped the prefix would still leak it.
      const secret = token.slice('cus_'.length);
      for (const [where, text] of [
        ['api_tokens', tokens],
        ['audit_log', audit],
        ['logs', h.logs()],
      ] as const) {
        assert.ok(!text.includes(secret), `${where} holds a raw token`);
      }
      assert.ok(tokens.includes(sha256Hex(token)), 'each token is stored as its hash');
    }
    assert.ok(
      h.logs().includes('"route":"/v1/tokens"'),
      'the token requests were logged, so the check means something',
    );
  });

  it('lists tokens without their secret or hash', async () => {
    const h = get();
    const created = await createViaApi(h, { role: 'legal', name: 'listed' });
    const res = await h.call('GET', '/v1/tokens', { token: h.tokens.admin });
    assert.equal(res.statusCode, 200, res.body);
    const listed = res.data.tokens as Record<string, unknown>[];
    assert.ok(listed.length >= 8);
    const mine = listed.find((t) => t.id === created.data.id);
    assert.ok(mine, 'the new token is listed');
    assert.equal(mine.role, 'legal');
    for (const t of listed) assert.deepEqual(Object.keys(t).sort(), TOKEN_VIEW_KEYS);
    const rows = await tokenRows(h);
    for (const secret of [created.data.token, ...Object.values(h.tokens).filter((t) => t.startsWith('cus_'))]) {
      assert.ok(!res.body.includes(secret), 'a token is listed in clear');
    }
    for (const row of rows) assert.ok(!res.body.includes(row.token_hash), 'a token hash is listed');
  });

  it('binds authority tokens to an existing authority, and no other role to any', async () => {
    const h = get();
    const authorityId = await addAuthority(h, { country: 'NL', kind: 'court' });
    const before = (await tokenRows(h)).length;

    const ok = await createViaApi(h, { role: 'authority', name: 'court clerk', authorityId });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.data.tokenInfo.authorityId, authorityId);
    const me = await h.call('GET', '/v1/me', { token: ok.data.token });
    assert.equal(me.data.authorityId, authorityId);

    const refused: [Record<string, unknown>, string][] = [
      [{ role: 'authority', name: 'nobody', authorityId: 'auth_doesnotexist' }, 'not_found'],
      [{ role: 'authority', name: 'unbound' }, 'missing_field'],
      [{ role: 'moderator', name: 'bound moderator', authorityId }, 'not_allowed'],
      [{ role: 'admin', name: 'bound admin', authorityId: 'auth_doesnotexist' }, 'not_allowed'],
    ];
    for (const [body, code] of refused) {
      const res = await createViaApi(h, body);
      assert.equal(res.statusCode, 422, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.data.error.code, 'validation_failed');
      const problem = res.data.error.details.find((d: { path: string }) => d.path === '/authorityId');
      assert.ok(problem, `${JSON.stringify(body)} names /authorityId: ${res.body}`);
      assert.equal(problem.code, code);
    }
    assert.equal((await tokenRows(h)).length, before + 1, 'no refused token was stored');
  });

  it('refuses an unknown role, unknown fields, an empty name and an expiry in the past', async () => {
    const h = get();
    const before = (await tokenRows(h)).length;
    const cases: [Record<string, unknown>, number[], string][] = [
      [{ role: 'superuser', name: 'x' }, [400, 422], '/role'],
      [{ role: 'Admin', name: 'x' }, [400, 422], '/role'],
      [{ name: 'x' }, [422], '/role'],
      [{ role: 'admin', name: '' }, [422], '/name'],
      [{ role: 'admin', name: 'x', scopes: ['all'] }, [400], '/scopes'],
      [{ role: 'admin', name: 'x', expiresAt: new Date(Date.now() - 60_000).toISOString() }, [422], '/expiresAt'],
      [{ role: 'admin', name: 'x', expiresAt: 'tomorrow' }, [400, 422], '/expiresAt'],
    ];
    for (const [body, statuses, path] of cases) {
      const res = await createViaApi(h, body);
      assert.ok(statuses.includes(res.statusCode), `${JSON.stringify(body)}: ${res.statusCode} ${res.body}`);
      assert.ok(
        res.data.error.details.some((d: { path: string }) => d.path === path),
        `${JSON.stringify(body)} names ${path}: ${res.body}`,
      );
    }
    assert.equal((await tokenRows(h)).length, before, 'nothing was stored');
  });

  it('stops a token at once when it is revoked, and revoking again changes nothing', async () => {
    const h = get();
    const created = await createViaApi(h, { role: 'platform', name: 'to revoke' });
    const token = created.data.token as string;
    assert.equal((await h.call('GET', '/v1/me', { token })).statusCode, 200);
    assert.equal(
      (await h.call('POST', '/v1/ingest/accounts', { token, body: { accounts: [{ id: 'before-revoke' }] } }))
        .statusCode,
      200,
    );

    const revoked = await h.call('POST', `/v1/tokens/${created.data.id}/revoke`, { token: h.tokens.admin });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.data.id, created.data.id);
    assert.ok(revoked.data.revokedAt, 'the answer says when');
    assert.ok(Math.abs(Date.parse(revoked.data.revokedAt) - Date.now()) < 60_000);

    for (const [method, url, body] of [
      ['GET', '/v1/me', undefined],
      ['POST', '/v1/ingest/accounts', { accounts: [{ id: 'after-revoke' }] }],
    ] as const) {
      const res = await h.call(method, url, { token, body });
      assert.equal(res.statusCode, 401, `${url}: ${res.body}`);
      assert.equal(res.data.error.code, 'invalid_token');
    }
    const stored = await h.ctx.store.db.selectFrom('accounts').select('id').where('id', '=', 'after-revoke').execute();
    assert.equal(stored.length, 0);

    const seqBefore = await h.ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
    const twice = await h.call('POST', `/v1/tokens/${created.data.id}/revoke`, { token: h.tokens.admin });
    assert.equal(twice.statusCode, 200);
    assert.equal(twice.data.revokedAt, revoked.data.revokedAt, 'the first revocation stands');
    const seqAfter = await h.ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
    assert.equal(Number(seqAfter.seq), Number(seqBefore.seq), 'a repeated revocation is not a new write');

    const listed = await h.call('GET', '/v1/tokens', { token: h.tokens.admin });
    const view = listed.data.tokens.find((t: { id: string }) => t.id === created.data.id);
    assert.equal(view.revokedAt, revoked.data.revokedAt);

    const missing = await h.call('POST', '/v1/tokens/tok_doesnotexist/revoke', { token: h.tokens.admin });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.data.error.code, 'not_found');
  });

  it('stops a token at its expiry', async () => {
    const h = get();
    const soon = await issueToken(h, 'moderator', { expiresAt: Date.now() + 60_000 });
    assert.equal((await h.call('GET', '/v1/me', { token: soon.token })).statusCode, 200, 'works until it expires');
    const expired = await expiredToken(h, 'moderator');
    const res = await h.call('GET', '/v1/me', { token: expired.token });
    assert.equal(res.statusCode, 401);
    assert.equal(res.data.error.code, 'invalid_token');
    const listed = await h.call('GET', '/v1/tokens', { token: h.tokens.admin });
    const view = listed.data.tokens.find((t: { id: string }) => t.id === expired.id);
    assert.equal(Date.parse(view.expiresAt), expired.expiresAt);
  });

  it('custos token create prints an id and a token that the running app accepts; a bad role exits non-zero', async () => {
    const h = get();
    const before = (await tokenRows(h)).length;
    const [created, badRole] = await Promise.all([
      runCli(h, ['token', 'create', '--role', 'moderator', '--name', 'cli moderator']),
      runCli(h, ['token', 'create', '--role', 'nope', '--name', 'x']),
    ]);

    assert.equal(created.code, 0, created.stderr);
    const [id, token, ...rest] = created.stdout.trim().split('\n');
    assert.equal(rest.length, 0, created.stdout);
    assert.match(id ?? '', /^tok_[a-z2-7]+$/);
    assert.match(token ?? '', /^cus_[A-Za-z0-9_-]{40,}$/);
    const me = await h.call('GET', '/v1/me', { token });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.data, { tokenId: id, name: 'cli moderator', role: 'moderator', authorityId: null });
    assert.equal(await tokenIdOf(h, token as string), id, 'stored as its SHA-256');
    const row = (await tokenRows(h)).find((r) => r.id === id);
    assert.ok(row && !JSON.stringify(row).includes((token as string).slice(4)), 'the raw token is not stored');
    assert.match(row.created_by, /^cli:/, 'the CLI is the actor');
    const entry = await h.ctx.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'token.create')
      .where('subject_id', '=', id as string)
      .executeTakeFirst();
    assert.ok(entry, 'the CLI write is audited');
    assert.match(entry.actor_id, /^cli:/);

    assert.notEqual(badRole.code, 0, 'an unknown role fails');
    assert.equal(badRole.stdout, '', 'and prints no token');
    assert.match(badRole.stderr, /role/);
    assert.match(badRole.stderr, /nope/);
    assert.match(badRole.stderr, /moderator/, 'the message lists the roles there are');
    assert.equal((await tokenRows(h)).length, before + 1, 'only the good command stored a token');
  });

  it('custos token create --authority binds an authority token that the running app accepts', async () => {
    const h = get();
    const authorityId = await addAuthority(h);
    const bound = await runCli(h, [
      'token',
      'create',
      '--role',
      'authority',
      '--name',
      'cli court',
      '--authority',
      authorityId,
      '--json',
    ]);
    assert.equal(bound.code, 0, bound.stderr);
    const out = JSON.parse(bound.stdout);
    assert.deepEqual(Object.keys(out).sort(), ['id', 'token']);
    const me = await h.call('GET', '/v1/me', { token: out.token });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.data, { tokenId: out.id, name: 'cli court', role: 'authority', authorityId });
  });
});
