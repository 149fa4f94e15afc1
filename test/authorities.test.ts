import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, it } from 'node:test';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, authorityKeyPair, describeEachStore } from './helpers/harness.js';
import { buildOrder, fileOrder, legalToken, review, seedViolator, type Violator } from './helpers/legal.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A registration body, overridable field by field. */
async function buildAuthority(overrides: Record<string, unknown> = {}) {
  return {
    name: `Staatsanwaltschaft ${crypto.randomBytes(3).toString('hex')}`,
    country: 'DE',
    kind: 'prosecutor',
    contactEmail: 'poststelle@sta.example.org',
    publicJwk: (await authorityKeyPair()).publicJwk,
    ...overrides,
  };
}

async function register(h: Harness, body: unknown) {
  return h.call('POST', '/v1/authorities', { token: h.tokens.admin, body });
}

async function newToken(h: Harness, authorityId: string, name = 'Kommissarin Weber') {
  const res = await h.call('POST', `/v1/authorities/${authorityId}/tokens`, { token: h.tokens.admin, body: { name } });
  assert.equal(res.statusCode, 201, res.body);
  return res.data as { id: string; token: string };
}

async function auditSeq(h: Harness): Promise<number> {
  const head = await h.ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
  return Number(head.seq);
}

/** Actions audited after `seq`. */
async function auditedSince(h: Harness, seq: number): Promise<string[]> {
  const rows = await h.ctx.store.db
    .selectFrom('audit_log')
    .select('action')
    .where('seq', '>', seq)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.action);
}

async function auditOf(h: Harness, subjectId: string) {
  return h.ctx.store.db
    .selectFrom('audit_log')
    .selectAll()
    .where('subject_id', '=', subjectId)
    .orderBy('seq')
    .execute();
}

async function authorityCount(h: Harness): Promise<number> {
  return (await h.ctx.store.db.selectFrom('authorities').select('id').execute()).length;
}

describeEachStore('authorities: register, tokens, suspend, own orders only', (get) => {
  let violator: Violator;
  before(async () => {
    violator = await seedViolator(get());
  });

  it('registers an authority with an encryption key: 201 with its view, stored and audited', async () => {
    const h = get();
    const body = await buildAuthority();
    const res = await register(h, body);
    assert.equal(res.statusCode, 201, res.body);
    const view = res.data;
    assert.match(view.id, /^auth_/);
    assert.deepEqual(
      { ...view, id: undefined, createdAt: undefined, updatedAt: undefined },
      {
        id: undefined,
        name: body.name,
        country: 'DE',
        kind: 'prosecutor',
        contactEmail: body.contactEmail,
        publicJwk: body.publicJwk,
        status: 'active',
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.match(view.createdAt, ISO);
    assert.match(view.updatedAt, ISO);

    const one = await h.call('GET', `/v1/authorities/${view.id}`, { token: h.tokens.legal });
    assert.equal(one.statusCode, 200, one.body);
    assert.deepEqual(one.data, view);
    const all = await h.call('GET', '/v1/authorities', { token: h.tokens.legal_senior });
    assert.deepEqual(
      all.data.authorities.find((a: { id: string }) => a.id === view.id),
      view,
    );
    const stored = await h.ctx.store.db
      .selectFrom('authorities')
      .selectAll()
      .where('id', '=', view.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(stored.public_jwk), body.publicJwk);
    const audit = await auditOf(h, view.id);
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor_role]),
      [['authority.create', 'admin']],
    );
  });

  it('accepts an X25519 key too', async () => {
    const h = get();
    const { publicKey } = crypto.generateKeyPairSync('x25519');
    const res = await register(h, await buildAuthority({ publicJwk: publicKey.export({ format: 'jwk' }) }));
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.data.publicJwk.crv, 'X25519');
  });

  it('refuses a key no package can be encrypted to: 422 at /publicJwk, nothing stored', async () => {
    const h = get();
    const ec = await authorityKeyPair();
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const ed25519 = crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    assert.deepEqual([ed25519.kty, ed25519.crv], ['OKP', 'Ed25519']);
    const cases: Array<[string, unknown, string]> = [
      ['an RSA key', rsa, 'invalid_jwk'],
      ['an Ed25519 signing key', ed25519, 'invalid_jwk'],
      ['an EC key for signatures', { ...ec.publicJwk, use: 'sig' }, 'not_encryption_key'],
      ['an EC key for ES256', { ...ec.publicJwk, use: undefined, alg: 'ES256' }, 'not_encryption_key'],
      ['a private EC key', { ...ec.privateJwk, use: 'enc' }, 'private_key'],
      ['a symmetric key', { kty: 'oct', k: crypto.randomBytes(32).toString('base64url') }, 'invalid_jwk'],
      ['an object that is no key', { hello: 'world' }, 'invalid_jwk'],
      ['an EC key whose point is garbage', { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }, 'invalid_jwk'],
    ];
    for (const [what, publicJwk, code] of cases) {
      const count = await authorityCount(h);
      const seq = await auditSeq(h);
      const res = await register(h, await buildAuthority({ publicJwk }));
      const error = assertErrorBody(res, 422, 'validation_failed');
      const details = error.details as Array<{ path: string; code: string; message: string }>;
      assert.deepEqual(
        details.map((d) => [d.path, d.code]),
        [['/publicJwk', code]],
        `${what}: ${res.body}`,
      );
      assert.ok(details[0]!.message.length > 0);
      assert.equal(await authorityCount(h), count, `${what}: nothing stored`);
      assert.deepEqual(await auditedSince(h, seq), ['authority.refused'], `${what}: only the refusal is audited`);
    }
    // The private half never ends up in an answer or a log.
    assert.ok(!h.logs().includes(ec.privateJwk.d as string), 'the private key is not logged');
  });

  it('refuses an unknown country: 422 at /country, nothing stored', async () => {
    const h = get();
    for (const country of ['XX', 'UK', 'ZZ']) {
      const count = await authorityCount(h);
      const res = await register(h, await buildAuthority({ country }));
      const error = assertErrorBody(res, 422, 'validation_failed');
      assert.deepEqual(
        (error.details as Array<{ path: string; code: string }>).map((d) => [d.path, d.code]),
        [['/country', 'unknown_country']],
        country,
      );
      assert.equal(await authorityCount(h), count, `${country}: nothing stored`);
    }
  });

  it('gives a token that acts as the authority and files orders for that authority only', async () => {
    const h = get();
    const created = await register(h, await buildAuthority({ name: 'LKA Berlin', kind: 'police' }));
    assert.equal(created.statusCode, 201, created.body);
    const authorityId = created.data.id as string;
    const issued = await newToken(h, authorityId);
    assert.deepEqual(Object.keys(issued).sort(), ['id', 'token']);
    assert.match(issued.token, /^cus_/);

    const me = await h.call('GET', '/v1/me', { token: issued.token });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.data, { tokenId: issued.id, name: 'Kommissarin Weber', role: 'authority', authorityId });
    const tokenAudit = await auditOf(h, issued.id);
    assert.deepEqual(
      tokenAudit.map((e) => e.action),
      ['token.create'],
    );
    assert.equal(JSON.parse(tokenAudit[0]!.details).authorityId, authorityId);

    const filed = await fileOrder(
      h,
      buildOrder([{ accountId: violator.accountId }], { issuingAuthority: { name: 'LKA Berlin', country: 'DE' } }),
      issued.token,
    );
    assert.equal(filed.statusCode, 201, filed.body);
    assert.equal(filed.data.status, 'in_review', filed.body);
    const stored = await h.ctx.store.db
      .selectFrom('legal_requests')
      .select('authority_id')
      .where('id', '=', filed.data.id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.authority_id, authorityId, 'the order belongs to the token’s authority');

    const theirs = await fileOrder(h, buildOrder([{ accountId: violator.accountId }]));
    assert.equal(theirs.statusCode, 201, theirs.body);
    const ownList = await h.call('GET', '/v1/legal-requests', { token: issued.token });
    assert.equal(ownList.statusCode, 200, ownList.body);
    assert.deepEqual(
      ownList.data.requests.map((r: { id: string }) => r.id),
      [filed.data.id],
    );
    const harnessList = await h.call('GET', '/v1/legal-requests?limit=500', { token: h.tokens.authority });
    const harnessIds = harnessList.data.requests.map((r: { id: string }) => r.id);
    assert.ok(harnessIds.includes(theirs.data.id));
    assert.ok(!harnessIds.includes(filed.data.id), 'another authority’s order is not listed');
    const legal = await h.call('GET', `/v1/legal-requests/${filed.data.id}`, { token: h.tokens.legal });
    assert.equal(legal.statusCode, 200, 'the legal team sees every order');
  });

  it('refuses a token for an unknown authority and a token that expires in the past', async () => {
    const h = get();
    const count = (await h.ctx.store.db.selectFrom('api_tokens').select('id').execute()).length;
    const unknown = await h.call('POST', '/v1/authorities/auth_nope/tokens', {
      token: h.tokens.admin,
      body: { name: 'x' },
    });
    assertErrorBody(unknown, 404, 'not_found');
    const past = await h.call('POST', `/v1/authorities/${h.tokens.authorityId}/tokens`, {
      token: h.tokens.admin,
      body: { name: 'x', expiresAt: new Date(Date.now() - 60_000).toISOString() },
    });
    assertErrorBody(past, 422, 'validation_failed');
    assert.equal((await h.ctx.store.db.selectFrom('api_tokens').select('id').execute()).length, count);
  });

  it('stops the tokens of a suspended authority on the very next request and restarts them on reinstatement, both audited', async () => {
    const h = get();
    const created = await register(h, await buildAuthority());
    const authorityId = created.data.id as string;
    const { token } = await newToken(h, authorityId);
    const second = await newToken(h, authorityId, 'Oberstaatsanwalt Kühn');
    assert.equal((await h.call('GET', '/v1/me', { token })).statusCode, 200);

    const suspended = await h.call('POST', `/v1/authorities/${authorityId}/suspend`, {
      token: h.tokens.admin,
      body: { reason: 'credentials reported stolen' },
    });
    assert.equal(suspended.statusCode, 200, suspended.body);
    assert.equal(suspended.data.status, 'suspended');
    for (const t of [token, second.token]) {
      assertErrorBody(await h.call('GET', '/v1/me', { token: t }), 401, 'invalid_token');
      const filed = await fileOrder(h, buildOrder([{ accountId: violator.accountId }]), t);
      assertErrorBody(filed, 401, 'invalid_token');
    }
    const view = await h.call('GET', `/v1/authorities/${authorityId}`, { token: h.tokens.admin });
    assert.equal(view.data.status, 'suspended');
    // The harness's own authority is untouched.
    assert.equal((await h.call('GET', '/v1/me', { token: h.tokens.authority })).statusCode, 200);

    // Suspending again changes nothing and writes nothing.
    const seq = await auditSeq(h);
    const again = await h.call('POST', `/v1/authorities/${authorityId}/suspend`, {
      token: h.tokens.admin,
      body: { reason: 'credentials reported stolen' },
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(await auditSeq(h), seq);

    const reinstated = await h.call('POST', `/v1/authorities/${authorityId}/reinstate`, {
      token: h.tokens.admin,
      body: { reason: 'new credentials issued' },
    });
    assert.equal(reinstated.statusCode, 200, reinstated.body);
    assert.equal(reinstated.data.status, 'active');
    const me = await h.call('GET', '/v1/me', { token });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.data.authorityId, authorityId);

    const audit = await h.call('GET', `/v1/audit?from=${encodeURIComponent(created.data.createdAt)}&limit=1000`, {
      token: h.tokens.auditor,
    });
    assert.equal(audit.statusCode, 200, audit.body);
    const entries = audit.data.entries.filter((e: { subject: { id: string } | null }) => e.subject?.id === authorityId);
    assert.deepEqual(
      entries.map((e: { action: string; actor: { role: string }; details: { reason?: string } }) => [
        e.action,
        e.actor.role,
        e.details.reason ?? null,
      ]),
      [
        ['authority.create', 'admin', null],
        ['authority.suspend', 'admin', 'credentials reported stolen'],
        ['authority.reinstate', 'admin', 'new credentials issued'],
      ],
    );
  });

  it('answers 404 for suspending an unknown authority', async () => {
    const h = get();
    const res = await h.call('POST', '/v1/authorities/auth_nope/suspend', {
      token: h.tokens.admin,
      body: { reason: 'no such one' },
    });
    assertErrorBody(res, 404, 'not_found');
  });

  it("answers another authority's order ids with 404, exactly like ids that do not exist", async () => {
    const h = get();
    const open = await fileOrder(h, buildOrder([{ accountId: violator.accountId }]));
    assert.equal(open.data.status, 'in_review', open.body);
    const disclosed = await fileOrder(h, buildOrder([{ accountId: violator.accountId }]));
    for (const reviewer of [h.tokens.legal, await legalToken(h)]) {
      assert.equal((await review(h, disclosed.data.id, { decision: 'approve' }, reviewer)).statusCode, 200);
    }

    const other = await register(h, await buildAuthority());
    const { token } = await newToken(h, other.data.id);
    const requests: Array<['GET' | 'POST', string]> = [
      ['GET', `/v1/legal-requests/${open.data.id}`],
      ['GET', `/v1/legal-requests/${disclosed.data.id}`],
      ['GET', `/v1/legal-requests/${disclosed.data.id}/package`],
      ['POST', `/v1/legal-requests/${open.data.id}/withdraw`],
      ['POST', `/v1/legal-requests/${disclosed.data.id}/withdraw`],
    ];
    const seq = await auditSeq(h);
    for (const [method, url] of requests) {
      const res = await h.call(method, url, { token });
      const error = assertErrorBody(res, 404, 'not_found');
      const missing = await h.call(method, url.replace(/lr_[^/]+/, 'lr_doesnotexist'), { token });
      assert.deepEqual(assertErrorBody(missing, 404, 'not_found'), error, `${method} ${url}: nothing tells them apart`);
      assert.ok(!res.body.includes(open.data.id) && !res.body.includes(disclosed.data.id));
    }
    // Each probe is recorded as refused (an authority fishing for ids is worth knowing about), nothing else.
    assert.deepEqual(
      await auditedSince(h, seq),
      requests.flatMap(() => ['legal_request.refused', 'legal_request.refused']),
      'nothing happened',
    );
    const pkg = await h.ctx.store.db
      .selectFrom('disclosure_packages')
      .select('downloaded_at')
      .where('request_id', '=', disclosed.data.id)
      .executeTakeFirstOrThrow();
    assert.equal(pkg.downloaded_at, null, 'the package was not handed out');

    // The owner still can: the 404s were about ownership, not state.
    const own = await h.call('GET', `/v1/legal-requests/${disclosed.data.id}/package`, { token: h.tokens.authority });
    assert.equal(own.statusCode, 200, own.body);
    const withdrawn = await h.call('POST', `/v1/legal-requests/${open.data.id}/withdraw`, {
      token: h.tokens.authority,
    });
    assert.equal(withdrawn.statusCode, 200, withdrawn.body);
    assert.equal(withdrawn.data.status, 'withdrawn');
  });
});
