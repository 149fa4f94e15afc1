import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { type CliServer, cleanEnv, startCli, waitUntilUp } from './helpers/cli-process.js';

const TOKEN_ROLES: Record<string, string> = {
  admin: 'admin',
  moderator: 'moderator',
  moderator2: 'moderator',
  legal: 'legal',
  legal2: 'legal',
  auditor: 'auditor',
  platform: 'platform',
  authority: 'authority',
  trusted_flagger: 'trusted_flagger',
  restricted_reviewer: 'restricted_reviewer',
};

const DEMO_LINE = /Custos demo at (http:\/\/[^\s]+)/;

/** Starts `custos serve --demo` on DIR and waits until it answers. */
async function startDemo(dataDir: string): Promise<{ server: CliServer; url: string }> {
  const server = startCli(
    ['serve', '--demo', '--data-dir', dataDir, '--port', '0'],
    cleanEnv({ CUSTOS_LOG_LEVEL: 'warn' }),
  );
  const match = await server.waitForStdout(DEMO_LINE, 30_000);
  const url = match[1]!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the real port, not 0');
  assert.doesNotMatch(url, /:0$/);
  await waitUntilUp(`${url}/healthz`);
  return { server, url };
}

async function getJson(url: string, token: string): Promise<{ status: number; data: any }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, data: await res.json() };
}

/** Counts read straight from the demo's SQLite file (a second reader is fine under WAL). */
function storeCounts(dataDir: string) {
  const db = new BetterSqlite3(path.join(dataDir, 'custos.sqlite'), { readonly: true });
  try {
    const one = (q: string) => Number((db.prepare(q).get() as { n: number }).n);
    return {
      accounts: one('select count(*) as n from accounts'),
      countries: one('select count(distinct country) as n from accounts'),
      phones: one('select count(*) as n from accounts where phone_enc is not null'),
      sessions: one('select count(*) as n from sessions'),
      accountsWithSessions: one('select count(distinct account_id) as n from sessions'),
    };
  } finally {
    db.close();
  }
}

describe('custos serve --demo', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-demo-'));
  const servers: CliServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let tokensText = '';
  let counts: ReturnType<typeof storeCounts> | undefined;

  it('seeds a few hundred accounts with sessions and writes one working token per role', async () => {
    const { server, url } = await startDemo(dataDir);
    servers.push(server);

    const tokensFile = path.join(dataDir, 'demo-tokens.json');
    assert.equal(fs.statSync(tokensFile).mode & 0o777, 0o600, 'the tokens file is private');
    tokensText = fs.readFileSync(tokensFile, 'utf8');
    const tokens = JSON.parse(tokensText) as Record<string, string>;
    assert.deepEqual(Object.keys(tokens).sort(), Object.keys(TOKEN_ROLES).sort());
    assert.equal(new Set(Object.values(tokens)).size, Object.keys(TOKEN_ROLES).length, 'distinct tokens');
    for (const [key, role] of Object.entries(TOKEN_ROLES)) {
      const me = await getJson(`${url}/v1/me`, tokens[key]!);
      assert.equal(me.status, 200, `${key}: ${JSON.stringify(me.data)}`);
      assert.equal(me.data.role, role, key);
      assert.equal(me.data.authorityId !== null, role === 'authority', `${key} is bound to an authority iff authority`);
    }
    const denied = await getJson(`${url}/v1/me`, 'cus_not-a-demo-token');
    assert.equal(denied.status, 401);

    counts = storeCounts(dataDir);
    assert.ok(counts.accounts >= 200 && counts.accounts <= 1000, `a few hundred accounts: ${counts.accounts}`);
    assert.ok(counts.countries >= 5, `several countries: ${counts.countries}`);
    assert.ok(counts.phones >= counts.accounts * 0.9, 'accounts have phone numbers');
    assert.ok(counts.sessions >= counts.accounts * 2, `sessions: ${counts.sessions}`);
    assert.ok(counts.accountsWithSessions >= counts.accounts * 0.9);

    const view = await getJson(`${url}/v1/accounts/demo-0001`, tokens.moderator!);
    assert.equal(view.status, 200);
    assert.match(view.data.country, /^[A-Z]{2}$/);
    const from = new Date(Date.now() - 365 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const pd = await getJson(
      `${url}/v1/accounts/demo-0001/personal-data?from=${from}&to=${to}&purpose=${encodeURIComponent('demo check')}`,
      tokens.legal!,
    );
    assert.equal(pd.status, 200, JSON.stringify(pd.data));
    assert.match(pd.data.phoneNumber, /^\+\d{8,15}$/);
    assert.ok(pd.data.sessions.length >= 3, `demo-0001 has sessions: ${pd.data.sessions.length}`);
    for (const s of pd.data.sessions) assert.ok(s.ip && s.at, JSON.stringify(s));
    const platformDenied = await getJson(
      `${url}/v1/accounts/demo-0001/personal-data?from=${from}&to=${to}&purpose=x-check`,
      tokens.platform!,
    );
    assert.equal(platformDenied.status, 403, 'only legal reads personal data');

    const stopped = await server.stop('SIGTERM');
    assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM ends it cleanly: ${server.stderr()}`);
  });

  it('reuses the data and the tokens on a second start', async () => {
    assert.ok(counts && tokensText, 'the first start ran');
    const { server, url } = await startDemo(dataDir);
    servers.push(server);

    assert.equal(fs.readFileSync(path.join(dataDir, 'demo-tokens.json'), 'utf8'), tokensText, 'same tokens');
    const tokens = JSON.parse(tokensText) as Record<string, string>;
    for (const [key, role] of Object.entries(TOKEN_ROLES)) {
      const me = await getJson(`${url}/v1/me`, tokens[key]!);
      assert.equal(me.status, 200, key);
      assert.equal(me.data.role, role);
    }
    const again = storeCounts(dataDir);
    assert.equal(again.accounts, counts.accounts, 'no new accounts');
    assert.equal(again.sessions, counts.sessions, 'no duplicate sessions');

    const stopped = await server.stop('SIGTERM');
    assert.deepEqual(stopped, { code: 0, signal: null }, server.stderr());
  });
});
