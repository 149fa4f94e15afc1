import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { type JWK, compactDecrypt, compactVerify, createLocalJWKSet, importJWK } from 'jose';
import { generate } from 'otplib';
import { type CliServer, cleanEnv, startCli, waitUntilUp } from './helpers/cli-process.js';

const TOKEN_ROLES: Record<string, string> = {
  admin: 'admin',
  moderator: 'moderator',
  moderator2: 'moderator',
  legal: 'legal',
  legal2: 'legal',
  legal_senior: 'legal_senior',
  auditor: 'auditor',
  platform: 'platform',
  authority: 'authority',
  authority2: 'authority',
  trusted_flagger: 'trusted_flagger',
  restricted_reviewer: 'restricted_reviewer',
};

/** demo-users.json: one user per role people sign in with. */
const USER_ROLES: Record<string, string> = {
  admin: 'admin',
  moderator: 'moderator',
  moderator2: 'moderator',
  legal: 'legal',
  legal2: 'legal',
  legal_senior: 'legal_senior',
  auditor: 'auditor',
  authority: 'authority',
  authority2: 'authority',
  restricted_reviewer: 'restricted_reviewer',
};

const DEMO_LINE = /Custos demo at (http:\/\/[^\s]+)/;

/** Starts `custos serve --demo` on DIR and waits until it answers. */
async function startDemo(dataDir: string): Promise<{ server: CliServer; url: string }> {
  const server = startCli(
    ['serve', '--demo', '--data-dir', dataDir, '--port', '0'],
    cleanEnv({ CUSTOS_LOG_LEVEL: 'warn' }),
  );
  // Seeding takes a few seconds on a quiet machine and far longer on a loaded CI one.
  const match = await server.waitForStdout(DEMO_LINE, 90_000);
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
      authorities: one('select count(*) as n from authorities'),
      legalRequests: one('select count(*) as n from legal_requests'),
      legalReviews: one('select count(*) as n from legal_reviews'),
      packages: one('select count(*) as n from disclosure_packages'),
      violations: one('select count(*) as n from violations'),
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
  let usersText = '';
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
    const bound = [await getJson(`${url}/v1/me`, tokens.authority!), await getJson(`${url}/v1/me`, tokens.authority2!)];
    assert.notEqual(bound[0]!.data.authorityId, bound[1]!.data.authorityId, 'one token per demo authority');
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
    // Personal data is read for an order: the demo's disclosed order names its target and period.
    const disclosed = await getJson(`${url}/v1/legal-requests?status=disclosed`, tokens.legal!);
    assert.equal(disclosed.status, 200, JSON.stringify(disclosed.data));
    const seeded = (disclosed.data.requests as Array<{ id: string; caseReference: string }>).find(
      (o) => o.caseReference === 'BKA-2026-0412',
    );
    assert.ok(seeded, 'the demo has a disclosed production order');
    const order = await getJson(`${url}/v1/legal-requests/${seeded.id}`, tokens.legal!);
    const target = order.data.targets.find((t: { status: string }) => t.status === 'included').accountId as string;
    const query = new URLSearchParams({ ...order.data.period, orderId: seeded.id, purpose: 'demo check' });
    const pd = await getJson(`${url}/v1/accounts/${target}/personal-data?${query}`, tokens.legal!);
    assert.equal(pd.status, 200, JSON.stringify(pd.data));
    assert.match(pd.data.phoneNumber, /^\+\d{8,15}$/);
    assert.ok(pd.data.sessions.length >= 3, `${target} has sessions: ${pd.data.sessions.length}`);
    for (const s of pd.data.sessions) assert.ok(s.ip && s.at, JSON.stringify(s));
    const platformDenied = await getJson(`${url}/v1/accounts/${target}/personal-data?${query}`, tokens.platform!);
    assert.equal(platformDenied.status, 403, 'only legal reads personal data');

    // One user per role people sign in with, next to the tokens; the legal one signs in with its TOTP.
    const usersFile = path.join(dataDir, 'demo-users.json');
    const pointer = await server.waitForStdout(/users, passwords and TOTP secrets: ([^\s)]+)/);
    assert.equal(pointer[1], usersFile, 'the demo points to the users file');
    assert.equal(fs.statSync(usersFile).mode & 0o777, 0o600, 'the users file is private');
    usersText = fs.readFileSync(usersFile, 'utf8');
    const users = JSON.parse(usersText) as Record<
      string,
      { username: string; password: string; role: string; totpSecret: string }
    >;
    assert.deepEqual(Object.keys(users).sort(), Object.keys(USER_ROLES).sort());
    for (const [key, role] of Object.entries(USER_ROLES)) {
      assert.equal(users[key]!.role, role, key);
      assert.deepEqual(Object.keys(users[key]!).sort(), ['password', 'role', 'totpSecret', 'username']);
    }
    const legal = users.legal!;
    const signIn = await fetch(`${url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: legal.username,
        password: legal.password,
        totp: await generate({ secret: legal.totpSecret }),
      }),
    });
    const session = (await signIn.json()) as any;
    assert.equal(signIn.status, 200, JSON.stringify(session));
    assert.equal(session.user.role, 'legal');
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const queue = await fetch(`${url}/v1/legal-requests?status=in_review`, { headers: { cookie } });
    assert.equal(queue.status, 200, 'the session reads the legal queue');

    const stopped = await server.stop('SIGTERM');
    assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM ends it cleanly: ${server.stderr()}`);
  });

  it('reuses the data and the tokens on a second start', async () => {
    assert.ok(counts && tokensText, 'the first start ran');
    const { server, url } = await startDemo(dataDir);
    servers.push(server);

    assert.equal(fs.readFileSync(path.join(dataDir, 'demo-tokens.json'), 'utf8'), tokensText, 'same tokens');
    assert.equal(fs.readFileSync(path.join(dataDir, 'demo-users.json'), 'utf8'), usersText, 'same users');
    const tokens = JSON.parse(tokensText) as Record<string, string>;
    for (const [key, role] of Object.entries(TOKEN_ROLES)) {
      const me = await getJson(`${url}/v1/me`, tokens[key]!);
      assert.equal(me.status, 200, key);
      assert.equal(me.data.role, role);
    }
    const again = storeCounts(dataDir);
    assert.equal(again.accounts, counts.accounts, 'no new accounts');
    assert.equal(again.sessions, counts.sessions, 'no duplicate sessions');
    assert.equal(again.authorities, 2, 'two demo authorities, not more');
    assert.ok(counts.legalRequests >= 10, `legal orders: ${counts.legalRequests}`);
    for (const k of ['legalRequests', 'legalReviews', 'packages', 'violations'] as const) {
      assert.equal(again[k], counts[k], `no duplicate ${k}`);
    }

    const stopped = await server.stop('SIGTERM');
    assert.deepEqual(stopped, { code: 0, signal: null }, server.stderr());
  });

  it('files legal orders in every state, with packages the German authority can open and verify', async () => {
    assert.ok(tokensText, 'the first start ran');
    const { server, url } = await startDemo(dataDir);
    servers.push(server);
    const tokens = JSON.parse(tokensText) as Record<string, string>;
    const list = async (status: string): Promise<any[]> => {
      const res = await getJson(`${url}/v1/legal-requests?status=${status}`, tokens.legal!);
      assert.equal(res.status, 200, JSON.stringify(res.data));
      assert.ok(
        res.data.requests.every((r: any) => r.status === status),
        status,
      );
      return res.data.requests;
    };
    const detail = async (id: string) => {
      const res = await getJson(`${url}/v1/legal-requests/${id}`, tokens.legal!);
      assert.equal(res.status, 200, JSON.stringify(res.data));
      return res.data;
    };
    const approvers = (view: any) => view.reviews.filter((r: any) => r.decision === 'approve');

    const inReview = await list('in_review');
    assert.ok(
      inReview.some((r) => r.authority.country === 'DE' && r.round === 1),
      'an order of the German authority awaits review',
    );
    const turkish = inReview.find((r) => r.authority.country === 'TR');
    assert.ok(turkish, 'an order of the Turkish authority awaits review');
    assert.equal(turkish.extraReview, true, 'flagged for the extra review');
    const turkishView = await detail(turkish.id);
    assert.equal(turkishView.extraReview, true);
    assert.ok(
      turkishView.checks.some(
        (c: any) => c.name === 'country_policy' && c.result === 'review' && c.code === 'country_extra_review',
      ),
      JSON.stringify(turkishView.checks),
    );
    const narrowed = inReview.find((r) => r.round > 1);
    assert.ok(narrowed, 'a narrowed order back in review');
    const narrowedView = await detail(narrowed.id);
    assert.ok(narrowedView.reviews.some((r: any) => r.decision === 'narrow' && r.narrowed));
    assert.ok(narrowedView.targets.some((t: any) => t.status === 'removed'));

    const disclosed = await list('disclosed');
    const production = disclosed.find((r) => r.type === 'production' && r.authority.country === 'DE');
    assert.ok(production, 'a production order disclosed');
    const productionView = await detail(production.id);
    assert.equal(new Set(approvers(productionView).map((r: any) => r.reviewerId)).size, 2, 'four eyes');
    assert.ok(productionView.package, 'its package was built');
    const emergency = disclosed.find((r) => r.type === 'emergency' && r.secondApprovalOwed);
    assert.ok(emergency, 'an emergency order disclosed with the second approval owed');
    const emergencyView = await detail(emergency.id);
    assert.deepEqual(
      approvers(emergencyView).map((r: any) => r.reviewerRole),
      ['legal_senior'],
    );
    assert.ok(emergencyView.package);

    const rejected = await Promise.all((await list('rejected')).map((r) => detail(r.id)));
    const failed = (view: any) => view.checks.filter((c: any) => c.result === 'fail').map((c: any) => c.code);
    assert.ok(
      rejected.some((v) => failed(v).includes('no_confirmed_violation')),
      'rejected by the checks: no confirmed violation',
    );
    assert.ok(
      rejected.some((v) => failed(v).includes('refused_offence_category') && v.offence.category === 'political_speech'),
      'rejected by the checks: a refused offence',
    );
    assert.ok(
      rejected.some((v) => v.reviews.some((r: any) => r.decision === 'reject') && failed(v).length === 0),
      'rejected by a reviewer',
    );
    const withdrawn = await list('withdrawn');
    assert.ok(withdrawn.length >= 1, 'a withdrawn order');
    const preserved = await list('preserved');
    assert.ok(
      preserved.some((r) => r.type === 'preservation' && r.preservedUntil),
      'a preserved order',
    );
    const all = [...inReview, ...disclosed, ...rejected, ...withdrawn, ...preserved];
    const references = all.map((r) => `${r.authority.id}:${r.caseReference}`);
    assert.equal(new Set(references).size, references.length, 'no order seeded twice');

    // The German authority opens its packages with the key the demo wrote, as SPEC.md describes.
    const keyPath = path.join(dataDir, 'demo-authority-key.json');
    assert.equal(fs.statSync(keyPath).mode & 0o777, 0o600, 'the private key file is private');
    const german = JSON.parse(fs.readFileSync(keyPath, 'utf8')) as { authorityId: string; privateJwk: JWK };
    assert.equal((await getJson(`${url}/v1/me`, tokens.authority!)).data.authorityId, german.authorityId);
    assert.equal(production.authority.id, german.authorityId);
    const privateKey = await importJWK(german.privateJwk, 'ECDH-ES');
    const jwks = (await (await fetch(`${url}/.well-known/custos-signing-keys.json`)).json()) as { keys: JWK[] };
    const signingKeys = createLocalJWKSet(jwks);
    for (const order of [production, emergency]) {
      const pkg = await getJson(`${url}/v1/legal-requests/${order.id}/package`, tokens.authority!);
      assert.equal(pkg.status, 200, JSON.stringify(pkg.data));
      const { plaintext, protectedHeader: jwe } = await compactDecrypt(pkg.data.package, privateKey);
      assert.equal(jwe.alg, 'ECDH-ES');
      assert.equal(jwe.enc, 'A256GCM');
      const { payload, protectedHeader: jws } = await compactVerify(new TextDecoder().decode(plaintext), signingKeys);
      assert.equal(jws.alg, 'EdDSA');
      const body = JSON.parse(new TextDecoder().decode(payload));
      assert.equal(body.requestId, order.id);
      assert.equal(body.targets.length, 1, JSON.stringify(body));
      const [target] = body.targets;
      assert.match(target.phoneNumber, /^\+49\d+$/);
      assert.ok(target.ipAddresses.length >= 1, 'sessions inside the period');
      for (const s of target.ipAddresses) {
        assert.ok(
          s.at >= order.period.from && s.at <= order.period.to,
          `${s.at} inside ${JSON.stringify(order.period)}`,
        );
      }
      const foreign = await getJson(`${url}/v1/legal-requests/${order.id}/package`, tokens.authority2!);
      assert.equal(foreign.status, 404, 'another authority cannot fetch it');
    }

    // The Turkish authority has its own key pair and sees its own orders only.
    const turkishKey = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-authority2-key.json'), 'utf8'));
    assert.equal((await getJson(`${url}/v1/me`, tokens.authority2!)).data.authorityId, turkishKey.authorityId);
    assert.equal(turkish.authority.id, turkishKey.authorityId);
    const own = await getJson(`${url}/v1/legal-requests`, tokens.authority2!);
    assert.deepEqual(
      own.data.requests.map((r: any) => r.id).sort(),
      all
        .filter((r) => r.authority.id === turkishKey.authorityId)
        .map((r) => r.id)
        .sort(),
    );

    const stopped = await server.stop('SIGTERM');
    assert.deepEqual(stopped, { code: 0, signal: null }, server.stderr());
  });
});
