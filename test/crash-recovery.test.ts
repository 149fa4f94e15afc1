import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { verifySignature } from '../src/webhooks/signature.js';
import { type CliServer, cleanEnv, runCli, startCli, waitUntilUp } from './helpers/cli-process.js';
import { buildAccount } from './helpers/factories.js';
import { TEST_STORES } from './helpers/harness.js';
import { buildContent } from './helpers/notice-action.js';
import { type ScratchDatabase, createScratchDatabase } from './helpers/scratch-database.js';
import { EVENT_OF, type Receiver, freePort, startReceiver } from './helpers/webhook-receiver.js';

/**
 * A real process kill between accepting and enforcing: Custos answers 201 for a
 * decision, is killed with SIGKILL before it can tell the platform (whose
 * receiver is not even up), and after a restart every enforcement webhook of
 * every accepted decision still arrives, and every accepted report and decision
 * is still there.
 */

interface Api {
  base: string;
  call(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; data: any }>;
}

function api(port: number): Api {
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    async call(method, url, token, body) {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, data: text ? JSON.parse(text) : undefined };
    },
  };
}

async function createToken(env: NodeJS.ProcessEnv, role: string): Promise<string> {
  const result = await runCli(['token', 'create', '--role', role, '--name', `crash ${role}`, '--json'], env, 90_000);
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as { id: string; token: string };
  assert.match(parsed.id, /^tok_/);
  return parsed.token;
}

async function serve(env: NodeJS.ProcessEnv, port: number): Promise<CliServer> {
  const server = startCli(['serve', '--port', String(port)], env);
  try {
    const [line] = await server.waitForStdout(/^.*custos is listening.*$/m, 90_000);
    const logged = JSON.parse(line) as { url: string };
    assert.match(logged.url, new RegExp(`:${port}$`), 'the log line names the port');
    await waitUntilUp(`http://127.0.0.1:${port}/healthz`);
    return server;
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
}

for (const store of TEST_STORES) {
  describe(`crash recovery [${store}]`, () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-crash-'));
    let scratch: ScratchDatabase | undefined;
    let server: CliServer | undefined;
    let receiver: Receiver | undefined;

    after(async () => {
      await server?.stop('SIGKILL');
      await receiver?.close();
      await scratch?.drop().catch(() => {});
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    // Four CLI processes and two servers start in this test: on a loaded two-core machine that alone can take a minute.
    it('loses no accepted report or decision, and delivers every enforcement webhook after a SIGKILL', {
      timeout: 240_000,
    }, async (t) => {
      const t0 = Date.now();
      if (store === 'postgres') scratch = await createScratchDatabase('custos_crash');
      const env = cleanEnv({
        CUSTOS_DATA_DIR: dataDir,
        CUSTOS_LOG_LEVEL: 'info',
        CUSTOS_WEBHOOK_POLL_MS: '50',
        CUSTOS_WEBHOOK_RETRY_BASE_MS: '50',
        CUSTOS_WEBHOOK_TIMEOUT_MS: '2000',
        ...(scratch ? { CUSTOS_DATABASE_URL: scratch.url } : {}),
      });

      const hookPort = await freePort();
      const firstPort = await freePort();
      server = await serve(env, firstPort);
      let custos = api(firstPort);
      // Tokens from the CLI, which may run beside the server.
      const [admin, platform, moderator] = await Promise.all([
        createToken(env, 'admin'),
        createToken(env, 'platform'),
        createToken(env, 'moderator'),
      ]);
      t.diagnostic(`up with tokens after ${Date.now() - t0} ms`);

      // The platform's receiver is registered but not listening yet.
      const hook = await custos.call('POST', '/v1/webhooks', admin, { url: `http://127.0.0.1:${hookPort}/hooks` });
      assert.equal(hook.status, 201, JSON.stringify(hook.data));
      const secret: string = hook.data.secret;

      const accounts = [buildAccount(), buildAccount(), buildAccount()];
      const ingestAccounts = await custos.call('POST', '/v1/ingest/accounts', platform, { accounts });
      assert.equal(ingestAccounts.status, 200, JSON.stringify(ingestAccounts.data));
      const items = Array.from({ length: 9 }, (_, i) => buildContent(accounts[i % 3]!.id));
      const ingestContent = await custos.call('POST', '/v1/ingest/content', platform, { items });
      assert.equal(ingestContent.status, 200, JSON.stringify(ingestContent.data));

      const acceptedReports: Array<{ id: string; caseId: string }> = [];
      const report = async (contentId: string, reporter: string) => {
        const res = await custos.call('POST', '/v1/reports', platform, {
          subject: { contentId },
          category: 'illegal_drugs',
          reporter: { accountId: reporter },
        });
        if (res.status === 201) acceptedReports.push(res.data);
        return res;
      };
      const caseIds: string[] = [];
      for (const [i, item] of items.slice(0, 6).entries()) {
        const res = await report(item.id, `reporter-${i}`);
        assert.equal(res.status, 201);
        caseIds.push(res.data.caseId);
      }

      const plans: Array<Array<{ type: string; until?: string }>> = [
        [{ type: 'remove_content' }],
        [{ type: 'restrict_content' }],
        [
          { type: 'remove_content' },
          { type: 'suspend_account', until: new Date(Date.now() + 86_400_000).toISOString() },
        ],
        [{ type: 'remove_content' }],
        [{ type: 'restrict_content' }, { type: 'warn' }],
        [{ type: 'remove_content' }],
      ];
      const decided: Array<{ id: string; caseId: string; actions: Array<{ type: string }> }> = [];
      const decision = (i: number) => ({
        actions: plans[i],
        category: 'illegal_drugs',
        ground: 'illegal',
        explanation: 'The message offers controlled substances for sale.',
      });

      // Three decisions one after the other, all answered 201.
      for (let i = 0; i < 3; i++) {
        const res = await custos.call('POST', `/v1/cases/${caseIds[i]}/decisions`, moderator, decision(i));
        assert.equal(res.status, 201, JSON.stringify(res.data));
        decided.push(res.data);
      }

      // Then three decisions and three reports at once; SIGKILL as soon as one decision answers 201.
      const child = server.child;
      let killedAt = 0;
      const inFlight = [
        ...[3, 4, 5].map(async (i) => {
          try {
            const res = await custos.call('POST', `/v1/cases/${caseIds[i]}/decisions`, moderator, decision(i));
            if (res.status === 201 && !killedAt) {
              killedAt = Date.now();
              child.kill('SIGKILL');
            }
            if (res.status === 201) decided.push(res.data);
          } catch {
            // The connection died with the process: not accepted as far as the client knows.
          }
        }),
        ...items.slice(6).map(async (item, i) => {
          try {
            await report(item.id, `late-reporter-${i}`);
          } catch {
            // as above
          }
        }),
      ];
      await Promise.all(inFlight);
      const exit = await server.stop('SIGKILL');
      assert.ok(killedAt > 0, 'a decision was answered before the kill');
      assert.equal(exit.signal, 'SIGKILL', 'the process was killed, not shut down');
      assert.ok(decided.length >= 4);

      t.diagnostic(`killed after ${Date.now() - t0} ms`);

      // The audit chain left on disk by the killed process verifies (the CLI
      // reads it while the platform comes up and Custos restarts on the same data).
      const verifying = runCli(['audit', 'verify'], env);
      receiver = await startReceiver({ port: hookPort });
      const secondPort = await freePort();
      server = await serve(env, secondPort);
      custos = api(secondPort);
      const verify = await verifying;
      assert.equal(verify.code, 0, verify.stderr);
      assert.match(verify.stdout, /audit chain intact/);
      t.diagnostic(`restarted after ${Date.now() - t0} ms`);

      const expected = decided.flatMap((d) =>
        d.actions.map((a) => `${EVENT_OF[a.type]}:${d.id}`).filter((k) => !k.startsWith('undefined')),
      );
      const arrived = () =>
        new Set(
          receiver!
            .accepted()
            .filter((r) => r.json?.data?.decisionId)
            .map((r) => `${r.json.type}:${r.json.data.decisionId}`),
        );
      await receiver
        .waitFor(() => expected.every((k) => arrived().has(k)), 15_000)
        .catch(() => {
          const missing = expected.filter((k) => !arrived().has(k));
          throw new Error(`enforcement webhooks missing after restart: ${missing.join(', ')}`);
        });

      t.diagnostic(`webhooks in after ${Date.now() - t0} ms`);

      // Every request is signed with the endpoint's secret; duplicates (at-least-once) share their event id.
      for (const r of receiver.received) {
        assert.ok(verifySignature(secret, String(r.headers['custos-signature']), r.body), 'signed');
        assert.equal(r.headers['idempotency-key'], r.eventId);
        assert.equal(r.json.id, r.eventId);
      }
      const byEvent = new Map<string, string>();
      for (const r of receiver.received) {
        const prior = byEvent.get(r.eventId);
        if (prior !== undefined) assert.equal(prior, r.body, 'a re-sent event is the same event');
        byEvent.set(r.eventId, r.body);
      }

      // Every accepted decision and report is still there.
      const closed = await custos.call('GET', '/v1/cases?status=closed&limit=200', moderator);
      assert.equal(closed.status, 200);
      for (const d of decided) {
        const c = closed.data.cases.find((x: { id: string }) => x.id === d.caseId);
        assert.ok(c, `case ${d.caseId} is closed`);
        assert.equal(c.decisionId, d.id);
        const stored = await custos.call('GET', `/v1/decisions/${d.id}`, moderator);
        assert.equal(stored.status, 200);
      }
      for (const r of acceptedReports) {
        const c = await custos.call('GET', `/v1/cases/${r.caseId}`, moderator);
        assert.equal(c.status, 200, `case of report ${r.id}`);
        assert.ok(
          c.data.reports.some((x: { id: string }) => x.id === r.id),
          `report ${r.id} is in its case`,
        );
      }
      assert.ok(acceptedReports.length >= 6);

      const stop = await server.stop('SIGTERM');
      assert.equal(stop.code, 0);
      server = undefined;
    });
  });
}
