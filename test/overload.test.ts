import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import { describe, it } from 'node:test';
import { ConfigError, readEnv, toConfig } from '../src/config.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { seedContent } from './helpers/notice-action.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function countReports(h: Harness): Promise<number> {
  const db = h.ctx.store.db;
  return Number((await db.selectFrom('reports').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
}

/**
 * A POST over a real socket whose body arrives only in part: the server has
 * admitted the request (its headers are in) and waits for the rest, so it stays
 * in flight until `finish` sends the remainder and reads the answer.
 */
function heldPost(
  port: number,
  url: string,
  token: string,
  body: unknown,
): { finish(): Promise<{ status: number; body: string }>; abort(): void } {
  const payload = Buffer.from(JSON.stringify(body));
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString('utf8');
  });
  const ended = new Promise<void>((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  socket.write(
    `POST ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(payload.subarray(0, 5));
  return {
    abort: () => socket.destroy(),
    async finish() {
      // Not end(): a half-closed socket makes Node abort the request. The server closes (Connection: close).
      socket.write(payload.subarray(5));
      await ended;
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
      return { status, body: received.slice(received.indexOf('\r\n\r\n') + 4) };
    },
  };
}

/**
 * Polls a cheap authenticated route until it is shed (the held requests have been admitted).
 * Generous: on a loaded CI machine the held sockets' headers can take seconds to be read.
 */
async function waitUntilShed(h: Harness): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await h.call('GET', '/v1/me', { token: h.tokens.moderator });
    if (res.statusCode === 503) return;
    assert.equal(res.statusCode, 200, res.body);
    if (Date.now() > deadline) throw new Error('the held requests never filled the in-flight limit');
    await sleep(20);
  }
}

function assertShed(res: Awaited<ReturnType<Harness['call']>>, reason: string): void {
  const error = assertErrorBody(res, 503, 'overloaded');
  assert.deepEqual(error.details, { reason });
  assert.equal(res.headers['retry-after'], '2');
  assert.ok(res.headers['x-request-id'], 'a shed answer still names its request');
}

describeEachStore(
  'overload: requests in flight',
  (get) => {
    it('sheds new requests with 503 overloaded and Retry-After while the limit is full, changes nothing, keeps health up, and recovers', async () => {
      const h = get();
      const { content } = await seedContent(h);
      const report = (reporter: string) => ({
        subject: { contentId: content.id },
        category: 'spam',
        reporter: { accountId: reporter },
      });
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (h.app.server.address() as net.AddressInfo).port;
      const before = await countReports(h);

      const held = ['held-1', 'held-2', 'held-3'].map((r) =>
        heldPost(port, '/v1/reports', h.tokens.platform, report(r)),
      );
      try {
        await waitUntilShed(h);
      } catch (error) {
        for (const r of held) r.abort();
        throw error;
      }

      const started = Date.now();
      const shed = await h.call('POST', '/v1/reports', { token: h.tokens.platform, body: report('shed-1') });
      assertShed(shed, 'in_flight');
      assert.ok(Date.now() - started < 1000, 'a shed request is answered at once');
      // Shed before authentication: a bad token is not even looked at.
      assertShed(await h.call('GET', '/v1/me', { token: 'cus_not_a_token' }), 'in_flight');
      assert.equal(await countReports(h), before, 'a shed request stores nothing');

      const healthz = await h.call('GET', '/healthz');
      assert.equal(healthz.statusCode, 200, healthz.body);
      const readyz = await h.call('GET', '/readyz');
      assert.equal(readyz.statusCode, 200, readyz.body);

      // The held requests were never harmed: each completes once its body arrives.
      for (const answer of await Promise.all(held.map((r) => r.finish()))) {
        assert.equal(answer.status, 201, answer.body);
      }
      assert.equal(await countReports(h), before + 3);

      // The load has dropped: requests are admitted again at once.
      const after = await h.call('POST', '/v1/reports', { token: h.tokens.platform, body: report('after-1') });
      assert.equal(after.statusCode, 201, after.body);
      assert.equal(await countReports(h), before + 4);
      const reporters = await h.ctx.store.db.selectFrom('reports').selectAll().execute();
      assert.ok(!JSON.stringify(reporters).includes('shed-1'), 'the shed report left no trace');
    });
  },
  { config: { overloadMaxInFlight: 3 } },
);

describeEachStore(
  'overload: event-loop delay',
  (get) => {
    it('sheds while the event loop lags behind and admits again once it catches up', async () => {
      const h = get();
      let busy = true;
      // Ticks of 80 ms, as a process does when it has more work than CPU.
      const spin = (async () => {
        while (busy) {
          const end = performance.now() + 80;
          while (performance.now() < end) {
            // busy
          }
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      })();
      try {
        await sleep(400);
        assertShed(await h.call('GET', '/v1/me', { token: h.tokens.moderator }), 'event_loop_delay');
        assert.equal((await h.call('GET', '/healthz')).statusCode, 200);
      } finally {
        busy = false;
        await spin;
      }
      await sleep(300);
      const after = await h.call('GET', '/v1/me', { token: h.tokens.moderator });
      assert.equal(after.statusCode, 200, after.body);
    });
  },
  { config: { overloadMaxEventLoopDelayMs: 40, overloadSampleMs: 50 } },
);

describeEachStore(
  'overload: heap in use',
  (get) => {
    it('sheds everything but health while the heap is above its limit', async () => {
      const h = get();
      assertShed(await h.call('GET', '/v1/me', { token: h.tokens.moderator }), 'heap_used');
      assertShed(await h.call('POST', '/v1/reports', { body: {} }), 'heap_used');
      assert.equal((await h.call('GET', '/healthz')).statusCode, 200);
      assert.equal((await h.call('GET', '/readyz')).statusCode, 200);
    });
  },
  { config: { overloadMaxHeapUsedBytes: 1024 } },
);

describe('overload configuration', () => {
  it('has defaults that leave room, reads its variables, and refuses bad values', () => {
    const defaults = toConfig(readEnv({}));
    assert.equal(defaults.overloadMaxInFlight, 256);
    assert.equal(defaults.overloadMaxEventLoopDelayMs, 1000);
    assert.equal(defaults.overloadSampleMs, 500);
    const heapLimit = v8.getHeapStatistics().heap_size_limit;
    assert.ok(defaults.overloadMaxHeapUsedBytes > heapLimit * 0.85 && defaults.overloadMaxHeapUsedBytes < heapLimit);

    const set = toConfig(
      readEnv({
        CUSTOS_OVERLOAD_MAX_IN_FLIGHT: '64',
        CUSTOS_OVERLOAD_MAX_LOOP_DELAY_MS: '0',
        CUSTOS_OVERLOAD_MAX_HEAP_MB: '512',
        CUSTOS_OVERLOAD_SAMPLE_MS: '100',
      }),
    );
    assert.equal(set.overloadMaxInFlight, 64);
    assert.equal(set.overloadMaxEventLoopDelayMs, 0);
    assert.equal(set.overloadMaxHeapUsedBytes, 512 * 1024 * 1024);
    assert.equal(set.overloadSampleMs, 100);

    const bad: Array<[string, string]> = [
      ['CUSTOS_OVERLOAD_MAX_IN_FLIGHT', 'many'],
      ['CUSTOS_OVERLOAD_MAX_HEAP_MB', '-1'],
      ['CUSTOS_OVERLOAD_SAMPLE_MS', '1'],
    ];
    for (const [variable, value] of bad) {
      assert.throws(
        () => toConfig(readEnv({ [variable]: value })),
        (e: unknown) => e instanceof ConfigError && e.variable === variable,
      );
    }
  });
});
