import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { type Harness, authorityKeyPair, describeEachStore } from './helpers/harness.js';

async function auditEntries(h: Harness, subjectId: string) {
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

describeEachStore('custos authority (the CLI)', (get) => {
  let dir: string;
  let keyFile: string;
  let privateKeyFile: string;
  let publicJwk: Record<string, unknown>;
  /** Set by the first test, used by the next ones. */
  let authorityId = '';
  let token = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-authority-cli-'));
    const pair = await authorityKeyPair();
    publicJwk = pair.publicJwk;
    keyFile = path.join(dir, 'public.jwk.json');
    fs.writeFileSync(keyFile, JSON.stringify(publicJwk));
    privateKeyFile = path.join(dir, 'private.jwk.json');
    fs.writeFileSync(privateKeyFile, JSON.stringify(pair.privateJwk));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('create registers the authority, prints its id, and is audited as the CLI; a bad key or kind stores nothing', async () => {
    const h = get();
    const before = await authorityCount(h);
    const common = ['--country', 'DE', '--email', 'court@example.org'];
    const [created, privateKey, badKind] = await Promise.all([
      runCli(h, [
        'authority',
        'create',
        '--name',
        'Amtsgericht Tiergarten',
        '--kind',
        'court',
        '--jwk',
        keyFile,
        ...common,
      ]),
      runCli(h, [
        'authority',
        'create',
        '--name',
        'Leaky Court',
        '--kind',
        'court',
        '--jwk',
        privateKeyFile,
        ...common,
      ]),
      runCli(h, ['authority', 'create', '--name', 'Army', '--kind', 'army', '--jwk', keyFile, ...common]),
    ]);

    assert.equal(created.code, 0, created.stderr);
    const lines = created.stdout.trim().split('\n');
    assert.equal(lines.length, 1, created.stdout);
    authorityId = lines[0] as string;
    assert.match(authorityId, /^auth_/);
    const view = await h.call('GET', `/v1/authorities/${authorityId}`, { token: h.tokens.admin });
    assert.equal(view.statusCode, 200, view.body);
    assert.equal(view.data.name, 'Amtsgericht Tiergarten');
    assert.equal(view.data.country, 'DE');
    assert.equal(view.data.kind, 'court');
    assert.equal(view.data.contactEmail, 'court@example.org');
    assert.equal(view.data.status, 'active');
    assert.deepEqual(view.data.publicJwk, publicJwk);
    const audit = await auditEntries(h, authorityId);
    assert.deepEqual(
      audit.map((e) => e.action),
      ['authority.create'],
    );
    assert.match(audit[0]!.actor_id, /^cli:/, 'the CLI is the actor');

    assert.equal(privateKey.code, 1, privateKey.stderr);
    assert.equal(privateKey.stdout, '');
    assert.match(privateKey.stderr, /\/publicJwk: private_key/);
    assert.ok(
      !privateKey.stderr.includes(String((JSON.parse(fs.readFileSync(privateKeyFile, 'utf8')) as { d: string }).d)),
    );

    assert.notEqual(badKind.code, 0);
    assert.equal(badKind.stdout, '');
    assert.match(badKind.stderr, /court, prosecutor, police/, 'the message lists the kinds there are');

    assert.equal(await authorityCount(h), before + 1, 'only the good command stored an authority');
  });

  it('list prints every authority, as the API lists them with --json', async () => {
    const h = get();
    assert.ok(authorityId, 'the create test ran');
    const [json, plain] = await Promise.all([
      runCli(h, ['authority', 'list', '--json']),
      runCli(h, ['authority', 'list']),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const api = await h.call('GET', '/v1/authorities', { token: h.tokens.admin });
    assert.deepEqual(JSON.parse(json.stdout), api.data.authorities);
    assert.deepEqual(
      api.data.authorities.map((a: { id: string }) => a.id).sort(),
      [h.tokens.authorityId, authorityId].sort(),
    );

    assert.equal(plain.code, 0, plain.stderr);
    const rows = plain.stdout.trim().split('\n');
    assert.equal(rows.length, 2, plain.stdout);
    assert.ok(
      rows.includes(`${authorityId}\tactive\tDE\tcourt\tAmtsgericht Tiergarten\tcourt@example.org`),
      plain.stdout,
    );
  });

  it('token prints a token bound to the authority once, which the running app accepts; an unknown authority fails', async () => {
    const h = get();
    const tokensBefore = (await h.ctx.store.db.selectFrom('api_tokens').select('id').execute()).length;
    const [issued, unknown] = await Promise.all([
      runCli(h, ['authority', 'token', authorityId, '--name', 'Richterin Lange']),
      runCli(h, ['authority', 'token', 'auth_nope', '--name', 'Nobody']),
    ]);
    assert.equal(issued.code, 0, issued.stderr);
    const [id, secret, ...rest] = issued.stdout.trim().split('\n');
    assert.equal(rest.length, 0, issued.stdout);
    assert.match(id ?? '', /^tok_/);
    assert.match(secret ?? '', /^cus_[A-Za-z0-9_-]{40,}$/);
    token = secret as string;
    const me = await h.call('GET', '/v1/me', { token });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.data, { tokenId: id, name: 'Richterin Lange', role: 'authority', authorityId });
    const audit = await auditEntries(h, id as string);
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor_id.startsWith('cli:')]),
      [['token.create', true]],
    );
    assert.ok(!JSON.stringify(audit).includes(token.slice(4)), 'the token is not in the audit log');

    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /not_found/);
    assert.equal(
      (await h.ctx.store.db.selectFrom('api_tokens').select('id').execute()).length,
      tokensBefore + 1,
      'only the good command stored a token',
    );
  });

  it("suspend stops the authority's tokens for the running app at once, reinstate restarts them, both audited with the reason", async () => {
    const h = get();
    assert.ok(token, 'the token test ran');
    const noReason = await runCli(h, ['authority', 'suspend', authorityId]);
    assert.notEqual(noReason.code, 0, 'a suspension needs a reason');
    assert.match(noReason.stderr, /--reason/);
    assert.equal((await h.call('GET', '/v1/me', { token })).statusCode, 200, 'nothing was suspended');

    const suspended = await runCli(h, ['authority', 'suspend', authorityId, '--reason', 'court order revoked']);
    assert.equal(suspended.code, 0, suspended.stderr);
    assert.equal(suspended.stdout, `suspended ${authorityId}\n`);
    const refused = await h.call('GET', '/v1/me', { token });
    assert.equal(refused.statusCode, 401, refused.body);
    assert.equal(refused.data.error.code, 'invalid_token');
    const view = await h.call('GET', `/v1/authorities/${authorityId}`, { token: h.tokens.admin });
    assert.equal(view.data.status, 'suspended');

    const reinstated = await runCli(h, ['authority', 'reinstate', authorityId, '--reason', 'order confirmed']);
    assert.equal(reinstated.code, 0, reinstated.stderr);
    assert.equal(reinstated.stdout, `reinstated ${authorityId}\n`);
    assert.equal((await h.call('GET', '/v1/me', { token })).statusCode, 200, 'the token works again');

    const audit = await auditEntries(h, authorityId);
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor_id.startsWith('cli:'), JSON.parse(e.details).reason ?? null]),
      [
        ['authority.create', true, null],
        ['authority.suspend', true, 'court order revoked'],
        ['authority.reinstate', true, 'order confirmed'],
      ],
    );
  });
});
