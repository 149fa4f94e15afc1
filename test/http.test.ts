import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOG } from '../src/errors.js';
import { MAX_BATCH } from '../src/ingest/routes.js';
import { assertErrorBody } from './helpers/error-body.js';
import { buildAccount } from './helpers/factories.js';
import { describeEachStore } from './helpers/harness.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The routes the app really serves, read from Fastify's own route tree (so a
 * route missing from the OpenAPI document cannot go unnoticed): `METHOD /path`,
 * parameters as `{name}`, trailing slashes dropped, HEAD left out.
 */
function registeredRoutes(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3}|[├└]── )*)(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m?.[2]?.trim()) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack[depth] = m[2];
    const full = stack.join('');
    for (const method of (m[3] ?? '').split(', ')) {
      if ((METHODS as readonly string[]).includes(method)) out.add(`${method} ${normalisePath(full)}`);
    }
  }
  return out;
}

function normalisePath(p: string): string {
  const braces = p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return braces.length > 1 ? braces.replace(/\/$/, '') : braces;
}

/** The routes of the foundation issue, as SPEC.md names them. */
const FOUNDATION_ROUTES = [
  'POST /v1/ingest/accounts',
  'POST /v1/ingest/sessions',
  'GET /v1/accounts/{id}',
  'GET /v1/accounts/{id}/personal-data',
  'GET /v1/audit',
  'POST /v1/tokens',
  'GET /v1/tokens',
  'POST /v1/tokens/{id}/revoke',
  'GET /v1/me',
];

interface Operation {
  security?: Array<Record<string, string[]>>;
  description?: string;
  requestBody?: { required?: boolean; content: Record<string, { schema: any }> };
  responses: Record<string, { content?: Record<string, { schema: any }> }>;
}

describeEachStore('HTTP surface', (get) => {
  it('GET /healthz answers 200 {status:"ok"} and GET /readyz 200 when the store answers', async () => {
    const h = get();
    const health = await h.call('GET', '/healthz');
    assert.equal(health.statusCode, 200);
    assert.match(String(health.headers['content-type']), /^application\/json/);
    assert.deepEqual(health.data, { status: 'ok' });
    const ready = await h.call('GET', '/readyz');
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(ready.data.status, 'ready');
    assert.equal(ready.data.checks.store, 'ok');
  });

  it('GET /docs/json is an OpenAPI 3 document of every /v1 route, its security, body and error shape', async () => {
    const h = get();
    const res = await h.call('GET', '/docs/json');
    assert.equal(res.statusCode, 200);
    const doc = res.data;
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.deepEqual(doc.components.securitySchemes.bearer, {
      ...doc.components.securitySchemes.bearer,
      type: 'http',
      scheme: 'bearer',
    });

    const documented = new Map<string, Operation>();
    for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(item)) {
        if ((METHODS as readonly string[]).includes(method.toUpperCase())) {
          documented.set(`${method.toUpperCase()} ${normalisePath(p)}`, op);
        }
      }
    }
    const served = [...registeredRoutes(h.app)].filter((r) => r.split(' ')[1]!.startsWith('/v1/'));
    assert.ok(served.length >= FOUNDATION_ROUTES.length, served.join(', '));
    for (const route of FOUNDATION_ROUTES) assert.ok(served.includes(route), `${route} is served`);
    const documentedV1 = [...documented.keys()].filter((r) => r.split(' ')[1]!.startsWith('/v1/'));
    assert.deepEqual(documentedV1.sort(), [...served].sort(), 'the document lists exactly the served /v1 routes');

    const catalog = Object.keys(ERROR_CATALOG).sort();
    for (const route of documentedV1) {
      const op = documented.get(route)!;
      const [method, routePath] = route.split(' ') as ['GET' | 'POST', string];
      assert.match(op.description ?? '', /roles?:|anyone/i, `${route} says who may call it`);
      // What the document claims about tokens must be what the route does without one.
      const security: Array<Record<string, string[]>> = op.security ?? doc.security;
      const anonymous = await h.call(
        method,
        routePath.replace(/\{[^}]+\}/g, 'x'),
        method === 'POST' ? { body: {} } : {},
      );
      if (anonymous.statusCode === 401) {
        assert.deepEqual(security, [{ bearer: [] }], `${route} needs a bearer token`);
        assert.ok(op.responses['401'] && op.responses['403'], `${route} documents 401 and 403`);
      } else {
        assert.ok(
          security.length === 0 || security.some((s) => Object.keys(s).length === 0),
          `${route} answers without a token (${anonymous.statusCode}), so the document must say so`,
        );
      }
      const errorStatuses = Object.keys(op.responses).filter((s) => Number(s) >= 400);
      assert.ok(errorStatuses.length > 0, `${route} documents its errors`);
      for (const status of errorStatuses) {
        const schema = op.responses[status]!.content?.['application/json']?.schema;
        assert.ok(schema, `${route} ${status} has a JSON schema`);
        assert.deepEqual(schema.required, ['error'], `${route} ${status}`);
        assert.deepEqual([...schema.properties.error.required].sort(), ['code', 'message']);
        assert.deepEqual([...schema.properties.error.properties.code.enum].sort(), catalog);
        assert.equal(schema.properties.error.properties.message.type, 'string');
      }
      if (op.requestBody) {
        const body = op.requestBody.content['application/json']?.schema;
        assert.ok(body, `${route} takes JSON`);
        assert.equal(body.additionalProperties, false, `${route} documents that unknown fields are refused`);
      }
    }

    // The bodies are the route schemas themselves, not a hand-written copy.
    const accounts = documented.get('POST /v1/ingest/accounts')!.requestBody!.content['application/json']!.schema;
    assert.equal(accounts.properties.accounts.maxItems, MAX_BATCH);
    assert.deepEqual(accounts.properties.accounts.items.required, ['id']);
    assert.deepEqual(Object.keys(accounts.properties.accounts.items.properties).sort(), [
      'country',
      'createdAt',
      'id',
      'phone',
      'username',
    ]);
    const sessions = documented.get('POST /v1/ingest/sessions')!.requestBody!.content['application/json']!.schema;
    assert.deepEqual([...sessions.properties.sessions.items.required].sort(), ['accountId', 'at', 'ip']);
    assert.equal(sessions.properties.sessions.items.properties.port.maximum, 65535);
    assert.ok(documented.get('POST /v1/tokens')!.requestBody, 'token creation documents its body');
    assert.deepEqual(documented.get('GET /healthz')!.security, [], 'health checks need no token');
  });

  it('GET /docs serves a browsable HTML page that loads the document', async () => {
    const h = get();
    const page = await h.call('GET', '/docs');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<html/i);
    assert.match(page.body, /swagger-ui/i);
    const init = await h.call('GET', '/docs/static/swagger-initializer.js');
    assert.equal(init.statusCode, 200);
    assert.match(init.body, /\.\/json/, 'the page loads /docs/json');
  });

  it('answers an unknown route with 404 route_not_found', async () => {
    const h = get();
    for (const [method, url] of [
      ['GET', '/v1/nothing-here'],
      ['POST', '/nothing'],
      ['DELETE', '/v1/ingest/accounts'],
      ['GET', '/v1/ingest/accounts?x=1'],
    ] as const) {
      const res = await h.call(method, url, { token: h.tokens.admin });
      assertErrorBody(res, 404, 'route_not_found');
      assert.ok(!res.body.includes('x=1'), 'the query string is not echoed');
    }
  });

  it('refuses a body that is not JSON (415, or 400 for text) in the error shape, storing nothing', async () => {
    const h = get();
    const a = buildAccount();
    const asText = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      rawBody: JSON.stringify({ accounts: [a] }),
      headers: { 'content-type': 'text/plain' },
    });
    assertErrorBody(asText);
    assert.ok([400, 415].includes(asText.statusCode), asText.body);
    for (const [type, body] of [
      ['application/xml', `<accounts><account id="${a.id}"/></accounts>`],
      ['application/x-www-form-urlencoded', `id=${a.id}`],
      ['multipart/form-data; boundary=x', '--x--'],
    ] as const) {
      const res = await h.call('POST', '/v1/ingest/accounts', {
        token: h.tokens.platform,
        rawBody: body,
        headers: { 'content-type': type },
      });
      assertErrorBody(res, 415, 'unsupported_media_type');
    }
    const stored = await h.ctx.store.db.selectFrom('accounts').select('id').where('id', '=', a.id).executeTakeFirst();
    assert.equal(stored, undefined);
  });

  it('answers every error as exactly {error:{code,message,details?}} with the status of its code', async () => {
    const h = get();
    const platform = h.tokens.platform;
    const seen = new Map<string, number>();
    const check = async (
      status: number,
      code: string,
      method: 'GET' | 'POST',
      url: string,
      options: Parameters<typeof h.call>[2] = {},
    ) => {
      const res = await h.call(method, url, options);
      const error = assertErrorBody(res, status, code);
      seen.set(code, status);
      return error;
    };
    await check(401, 'unauthenticated', 'GET', '/v1/me');
    await check(401, 'invalid_token', 'GET', '/v1/me', { token: 'cus_not-a-real-token' });
    await check(401, 'invalid_token', 'GET', '/v1/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    await check(403, 'forbidden', 'POST', '/v1/ingest/accounts', {
      token: h.tokens.moderator,
      body: { accounts: [buildAccount()] },
    });
    await check(404, 'route_not_found', 'GET', '/v1/unknown', { token: platform });
    await check(404, 'not_found', 'GET', '/v1/accounts/no-such-account', { token: h.tokens.moderator });
    await check(400, 'malformed_json', 'POST', '/v1/ingest/accounts', { token: platform, rawBody: '{"accounts":' });
    await check(400, 'malformed_json', 'POST', '/v1/ingest/accounts', {
      token: platform,
      rawBody: '',
      headers: { 'content-type': 'application/json' },
    });
    const wrongType = await check(400, 'malformed_request', 'POST', '/v1/ingest/accounts', {
      token: platform,
      body: { accounts: 'all of them' },
    });
    assert.ok(Array.isArray(wrongType.details));
    await check(400, 'unknown_field', 'POST', '/v1/ingest/accounts', {
      token: platform,
      body: { accounts: [buildAccount()], dryRun: true },
    });
    await check(400, 'malformed_request', 'GET', '/v1/audit?limit=many', { token: h.tokens.auditor });
    await check(413, 'batch_too_large', 'POST', '/v1/ingest/sessions', {
      token: platform,
      body: {
        sessions: Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ accountId: 'a', ip: '10.0.0.1', at: `${i}` })),
      },
    });
    await check(413, 'payload_too_large', 'POST', '/v1/ingest/accounts', {
      token: platform,
      rawBody: JSON.stringify({ accounts: [{ id: 'x', username: 'y'.repeat(h.config.bodyLimitBytes) }] }),
    });
    await check(415, 'unsupported_media_type', 'POST', '/v1/ingest/accounts', {
      token: platform,
      rawBody: '<a/>',
      headers: { 'content-type': 'application/xml' },
    });
    const invalid = await check(422, 'validation_failed', 'POST', '/v1/ingest/accounts', {
      token: platform,
      body: { accounts: [buildAccount({ phone: '+49 1' })] },
    });
    assert.deepEqual(Object.keys((invalid.details as object[])[0]!).sort(), ['code', 'message', 'path']);
    await check(
      422,
      'validation_failed',
      'GET',
      `/v1/accounts/x/personal-data?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z&orderId=lr_x&purpose=check`,
      {
        token: h.tokens.legal,
      },
    );
    assert.equal(seen.size, 12, [...seen.keys()].join(', '));
  });

  it('returns x-request-id on every answer and echoes a well-formed incoming one', async () => {
    const h = get();
    const generated = /^req_[a-z2-7]{26}$/;
    const plain = await h.call('GET', '/healthz');
    assert.match(String(plain.headers['x-request-id']), generated);
    const other = await h.call('GET', '/healthz');
    assert.notEqual(other.headers['x-request-id'], plain.headers['x-request-id'], 'one id per request');

    for (const given of ['abc.def-123_456', 'trace:0af7651916cd43dd', 'A'.repeat(100)]) {
      const res = await h.call('GET', '/healthz', { headers: { 'x-request-id': given } });
      assert.equal(res.headers['x-request-id'], given);
    }
    for (const bad of ['short', 'has spaces in it', 'A'.repeat(101), 'semi;colon;inside', '<script>x</script>']) {
      const res = await h.call('GET', '/healthz', { headers: { 'x-request-id': bad } });
      assert.match(String(res.headers['x-request-id']), generated, `"${bad}" is replaced`);
    }
    const missing = await h.call('GET', '/v1/nope', { headers: { 'x-request-id': 'client-req-404-check' } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['x-request-id'], 'client-req-404-check', 'errors carry it too');
    const denied = await h.call('GET', '/v1/me', { headers: { 'x-request-id': 'client-req-401-check' } });
    assert.equal(denied.statusCode, 401);
    assert.equal(denied.headers['x-request-id'], 'client-req-401-check');

    const requestId = `ingest-${Date.now()}`;
    const write = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [buildAccount()] },
      headers: { 'x-request-id': requestId },
    });
    assert.equal(write.statusCode, 200, write.body);
    assert.equal(write.headers['x-request-id'], requestId);
    const entry = await h.ctx.store.db
      .selectFrom('audit_log')
      .select(['action', 'request_id'])
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    assert.deepEqual(entry, { action: 'accounts.ingest', request_id: requestId }, 'the audit entry names the request');
  });
});

describeEachStore('security headers', (get) => {
  it('sets the same security headers on every response: success, error, not found, docs', async () => {
    const h = get();
    const responses = [
      await h.app.inject({ method: 'GET', url: '/healthz' }),
      await h.app.inject({ method: 'GET', url: '/v1/cases' }),
      await h.app.inject({ method: 'GET', url: '/no/such/route' }),
      await h.app.inject({ method: 'GET', url: '/docs/json' }),
      await h.app.inject({
        method: 'POST',
        url: '/v1/reports',
        headers: { 'content-type': 'application/json' },
        payload: '{"broken',
      }),
    ];
    assert.deepEqual(
      responses.map((r) => r.statusCode),
      [200, 401, 404, 200, 400],
    );
    for (const res of responses) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff', res.body);
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/, res.body);
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
      assert.equal(res.headers['x-powered-by'], undefined);
    }
  });
});
