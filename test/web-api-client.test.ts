import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiError, api, describeError, onSessionLost, query, setCsrfToken } from '../web/src/api/client.ts';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  credentials: string | undefined;
  body: string | undefined;
}

/** Replaces fetch with one answering `reply` and recording each request. */
function stubFetch(reply: (seen: Seen) => Response): Seen[] {
  const seen: Seen[] = [];
  globalThis.fetch = (async (url: string, init: RequestInit = {}) => {
    const s: Seen = {
      url,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      credentials: init.credentials,
      body: init.body as string | undefined,
    };
    seen.push(s);
    return reply(s);
  }) as typeof fetch;
  return seen;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('the browser API client (web/src/api/client.ts)', () => {
  const realFetch = globalThis.fetch;
  beforeEach(() => setCsrfToken(null));
  afterEach(() => {
    globalThis.fetch = realFetch;
    onSessionLost(null);
    setCsrfToken(null);
  });

  it('sends the session’s CSRF token with every change, never with a read or a public call', async () => {
    const seen = stubFetch(() => json(200, { ok: true }));
    setCsrfToken('csrf-1');
    await api('GET', '/v1/cases');
    await api('POST', '/v1/cases/c1/claim');
    await api('DELETE', '/v1/session');
    await api('POST', '/v1/reports', { body: { category: 'spam' }, credentials: 'omit' });
    assert.equal(seen[0]?.headers['x-csrf-token'], undefined);
    assert.equal(seen[1]?.headers['x-csrf-token'], 'csrf-1');
    assert.equal(seen[2]?.headers['x-csrf-token'], 'csrf-1');
    assert.equal(seen[3]?.headers['x-csrf-token'], undefined, 'public calls send no cookie, so no token');
    assert.deepEqual(
      seen.map((s) => s.credentials),
      ['same-origin', 'same-origin', 'same-origin', 'omit'],
    );
    assert.equal(seen[3]?.headers['content-type'], 'application/json');
    assert.equal(seen[3]?.body, '{"category":"spam"}');
  });

  it('turns error answers into ApiError with code, message and details', async () => {
    stubFetch(() =>
      json(422, {
        error: { code: 'validation_failed', message: 'Some fields are invalid.', details: [{ path: '/x' }] },
      }),
    );
    await assert.rejects(api('POST', '/v1/legal-requests', { body: {} }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 422);
      assert.equal(e.code, 'validation_failed');
      assert.deepEqual(e.details, [{ path: '/x' }]);
      return true;
    });
    stubFetch(() => new Response('<html>proxy error</html>', { status: 502 }));
    await assert.rejects(api('GET', '/v1/cases'), (e: unknown) => e instanceof ApiError && e.code === 'http_502');
    globalThis.fetch = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await assert.rejects(api('GET', '/v1/cases'), (e: unknown) => e instanceof ApiError && e.status === 0);
  });

  it('reports a lost session on a 401 from the API, but not from sign-in itself or public calls', async () => {
    let lost = 0;
    onSessionLost(() => lost++);
    stubFetch(() => json(401, { error: { code: 'unauthenticated', message: 'Sign in.' } }));
    await assert.rejects(api('GET', '/v1/cases'));
    assert.equal(lost, 1);
    await assert.rejects(api('POST', '/v1/session', { body: { username: 'a', password: 'b' } }));
    await assert.rejects(api('GET', '/v1/session'));
    await assert.rejects(api('GET', '/v1/reports/r1?accessKey=k', { credentials: 'omit' }));
    assert.equal(lost, 1);
  });

  it('answers undefined for 204 and builds query strings from the set values only', async () => {
    stubFetch(() => new Response(null, { status: 204 }));
    assert.equal(await api('DELETE', '/v1/session'), undefined);
    assert.equal(
      query({ status: 'open', queue: '', category: undefined, limit: 200, cursor: null }),
      '?status=open&limit=200',
    );
    assert.equal(query({}), '');
    assert.equal(describeError(new ApiError(403, 'forbidden', 'x')), 'Your role may not do this.');
  });
});
