import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, readEnv, toConfig } from '../src/config.js';
import { LOCK_MS, signIn } from '../src/identity/sign-in.js';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, authenticateSession } from '../src/identity/web-sessions.js';
import { openCase } from './helpers/case-fixtures.js';
import { runCli } from './helpers/cli.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { addAuthority, setAuthorityStatus, sha256Hex } from './helpers/identity.js';
import { buildOrder, seedViolator } from './helpers/legal.js';
import { seedAccount } from './helpers/notice-action.js';
import { addUser, sessionHeaders, setCookiesOf, signInAs, totpCode } from './helpers/users.js';

const BASE64URL_256 = /^[A-Za-z0-9_-]{43}$/;

async function storedUser(h: Harness, id: string) {
  return h.ctx.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function auditOf(h: Harness, subjectId: string) {
  const rows = await h.ctx.store.db
    .selectFrom('audit_log')
    .selectAll()
    .where('subject_id', '=', subjectId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({
    action: r.action,
    actorId: r.actor_id,
    actorRole: r.actor_role,
    details: JSON.parse(r.details) as Record<string, unknown>,
    raw: JSON.stringify(r),
  }));
}

async function signInRequest(h: Harness, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return h.call('POST', '/v1/session', { body, headers });
}

describeEachStore(
  'staff sign-in',
  (get) => {
    /** Every secret the suite handles; none may reach the logs or the audit log. */
    const secrets: string[] = [];
    const keep = <T extends { password: string; totpSecret: string }>(u: T): T => {
      secrets.push(u.password, u.totpSecret);
      return u;
    };
    const keepSession = <T extends { value: string; csrfToken: string }>(s: T): T => {
      secrets.push(s.value, s.csrfToken);
      return s;
    };

    it('creates a user (admin): password and TOTP secret shown once, stored as argon2id and ciphertext, listed without secrets', async () => {
      const h = get();
      const res = await h.call('POST', '/v1/users', {
        token: h.tokens.admin,
        body: { username: 'Erika.Legal', role: 'legal' },
      });
      assert.equal(res.statusCode, 201, res.body);
      keep(res.data);
      assert.deepEqual(Object.keys(res.data).sort(), [
        'authorityId',
        'id',
        'password',
        'role',
        'totpSecret',
        'totpUri',
        'username',
      ]);
      assert.match(res.data.id, /^usr_/);
      assert.equal(res.data.username, 'erika.legal', 'usernames are stored in lower case');
      assert.equal(res.data.authorityId, null);
      assert.ok(res.data.password.length >= 16, res.data.password);
      assert.match(res.data.totpSecret, /^[A-Z2-7]{32}$/, 'base32, 160 bits');
      const uri = new URL(res.data.totpUri);
      assert.equal(uri.protocol, 'otpauth:');
      assert.equal(uri.searchParams.get('secret'), res.data.totpSecret);
      assert.equal(uri.searchParams.get('issuer'), 'Custos');

      const row = await storedUser(h, res.data.id);
      assert.match(row.password_hash, /^\$argon2id\$v=19\$/);
      assert.ok(!row.password_hash.includes(res.data.password));
      assert.ok(!Buffer.from(row.totp_secret).toString('latin1').includes(res.data.totpSecret), 'secret encrypted');
      assert.equal(h.ctx.cipher.decrypt('users.totp', row.id, row.totp_secret), res.data.totpSecret);

      const list = await h.call('GET', '/v1/users', { token: h.tokens.admin });
      assert.equal(list.statusCode, 200);
      const listed = list.data.users.find((u: any) => u.id === res.data.id);
      assert.deepEqual(listed, {
        id: res.data.id,
        username: 'erika.legal',
        role: 'legal',
        authorityId: null,
        createdAt: listed.createdAt,
        disabledAt: null,
        lockedUntil: null,
      });
      assert.ok(!list.body.includes(res.data.totpSecret) && !list.body.includes('argon2'), 'no secrets listed');

      const audit = await auditOf(h, res.data.id);
      assert.deepEqual(
        audit.map((a) => [a.action, a.actorRole]),
        [['user.create', 'admin']],
      );

      const again = await h.call('POST', '/v1/users', {
        token: h.tokens.admin,
        body: { username: 'ERIKA.LEGAL', role: 'moderator' },
      });
      assertErrorBody(again, 409, 'conflict');
      assertErrorBody(
        await h.call('POST', '/v1/users', {
          token: h.tokens.admin,
          body: { username: 'officer-x', role: 'authority' },
        }),
        422,
        'validation_failed',
      );
      assertErrorBody(
        await h.call('POST', '/v1/users', {
          token: h.tokens.admin,
          body: { username: 'mod-x', role: 'moderator', authorityId: h.tokens.authorityId },
        }),
        422,
        'validation_failed',
      );
      const machine = await h.call('POST', '/v1/users', {
        token: h.tokens.admin,
        body: { username: 'platform-x', role: 'platform' },
      });
      assert.ok([400, 422].includes(machine.statusCode), machine.body);
      const names = (await h.ctx.store.db.selectFrom('users').select('username').execute()).map((u) => u.username);
      assert.ok(!names.some((n) => ['officer-x', 'mod-x', 'platform-x'].includes(n)), 'nothing stored for refusals');
    });

    it('signs a legal user in with password and a TOTP code: the session body and the cookie flags', async () => {
      const h = get();
      const user = keep(await addUser(h, 'legal'));
      const res = await signInRequest(h, {
        username: user.username,
        password: user.password,
        totp: await totpCode(user.totpSecret),
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(Object.keys(res.data).sort(), ['csrfToken', 'expiresAt', 'user']);
      assert.deepEqual(res.data.user, { id: user.id, username: user.username, role: 'legal', authorityId: null });
      assert.match(res.data.csrfToken, BASE64URL_256);
      const expiresIn = Date.parse(res.data.expiresAt) - Date.now();
      assert.ok(expiresIn > SESSION_IDLE_MS - 120_000 && expiresIn <= SESSION_IDLE_MS, `idle expiry: ${expiresIn}`);

      const cookies = setCookiesOf(res);
      assert.equal(cookies.length, 1, String(res.headers['set-cookie']));
      const [cookie] = cookies;
      assert.equal(cookie!.name, 'custos_session');
      assert.match(cookie!.value, BASE64URL_256, '256 random bits, base64url');
      keepSession({ value: cookie!.value, csrfToken: res.data.csrfToken });
      assert.equal(cookie!.attributes.get('httponly'), true);
      assert.equal(String(cookie!.attributes.get('samesite')).toLowerCase(), 'strict');
      assert.equal(cookie!.attributes.get('path'), '/');
      assert.equal(cookie!.attributes.has('secure'), false, 'auto: plain HTTP gets no Secure');
      assert.equal(cookie!.attributes.has('expires') || cookie!.attributes.has('max-age'), false, 'a session cookie');

      const stored = await h.ctx.store.db
        .selectFrom('web_sessions')
        .selectAll()
        .where('user_id', '=', user.id)
        .executeTakeFirstOrThrow();
      assert.equal(stored.id, sha256Hex(cookie!.value), 'only the hash of the cookie is stored');
      assert.equal(stored.csrf_token, res.data.csrfToken);
      assert.equal(Number(stored.expires_at), Date.parse(res.data.expiresAt));
    });

    it('GET /v1/session answers the session to its cookie, 401 otherwise; DELETE signs out (with the CSRF token) and clears the cookie', async () => {
      const h = get();
      const user = keep(await addUser(h, 'moderator'));
      const s = keepSession(await signInAs(h, user));
      const me = await h.call('GET', '/v1/session', { headers: { cookie: s.cookie } });
      assert.equal(me.statusCode, 200, me.body);
      assert.deepEqual(me.data.user, { id: user.id, username: user.username, role: 'moderator', authorityId: null });
      assert.equal(me.data.csrfToken, s.csrfToken);
      assert.ok(Date.parse(me.data.expiresAt) >= Date.parse(s.expiresAt));

      assertErrorBody(await h.call('GET', '/v1/session'), 401, 'unauthenticated');
      assertErrorBody(await h.call('GET', '/v1/session', { token: h.tokens.moderator }), 401, 'unauthenticated');
      const forged = await h.call('GET', '/v1/session', { headers: { cookie: `custos_session=${'A'.repeat(43)}` } });
      assertErrorBody(forged, 401, 'unauthenticated');
      assert.equal(setCookiesOf(forged)[0]?.attributes.get('max-age'), '0', 'an unknown cookie is cleared');

      const who = await h.call('GET', '/v1/me', { headers: { cookie: s.cookie } });
      assert.equal(who.statusCode, 200, who.body);
      assert.equal(who.data.tokenId, user.id, 'the user is the caller');
      assert.equal(who.data.role, 'moderator');

      const noCsrf = await h.call('DELETE', '/v1/session', { headers: sessionHeaders(s, false) });
      assertErrorBody(noCsrf, 403, 'csrf_failed');
      assert.equal((await h.call('GET', '/v1/session', { headers: { cookie: s.cookie } })).statusCode, 200, 'still on');

      const out = await h.call('DELETE', '/v1/session', { headers: sessionHeaders(s) });
      assert.equal(out.statusCode, 204, out.body);
      const cleared = setCookiesOf(out).find((c) => c.name === 'custos_session');
      assert.ok(cleared, 'the cookie is cleared');
      assert.equal(cleared.value, '');
      assert.equal(cleared.attributes.get('max-age'), '0');
      assertErrorBody(await h.call('GET', '/v1/session', { headers: { cookie: s.cookie } }), 401, 'unauthenticated');
      assertErrorBody(await h.call('GET', '/v1/cases', { headers: { cookie: s.cookie } }), 401, 'unauthenticated');
      const stored = await h.ctx.store.db
        .selectFrom('web_sessions')
        .select('revoked_at')
        .where('id', '=', sha256Hex(s.value))
        .executeTakeFirstOrThrow();
      assert.notEqual(stored.revoked_at, null, 'revoked in the store');
      assert.equal((await h.call('DELETE', '/v1/session')).statusCode, 204, 'signing out twice is harmless');
      assert.deepEqual(
        (await auditOf(h, user.id)).filter((a) => a.action.startsWith('session.')).map((a) => [a.action, a.actorId]),
        [
          ['session.sign_in', user.id],
          ['session.sign_out', user.id],
        ],
      );
    });

    it("a session calls its role's routes and gets 403 on the others; a CSRF-less or wrong-CSRF write is 403 csrf_failed and changes nothing", async () => {
      const h = get();
      const account = await seedAccount(h);
      const { caseId } = await openCase(h, account.id);
      const user = keep(await addUser(h, 'moderator'));
      const s = keepSession(await signInAs(h, user));

      const queue = await h.call('GET', '/v1/cases?status=open', { headers: { cookie: s.cookie } });
      assert.equal(queue.statusCode, 200, queue.body);
      assert.ok(
        queue.data.cases.some((c: any) => c.id === caseId),
        'the moderator sees the queue',
      );
      assertErrorBody(await h.call('GET', '/v1/audit', { headers: { cookie: s.cookie } }), 403, 'forbidden');
      assertErrorBody(
        await h.call('POST', '/v1/users', {
          headers: sessionHeaders(s),
          body: { username: 'sneaky', role: 'admin' },
        }),
        403,
        'forbidden',
      );

      const claim = `/v1/cases/${caseId}/claim`;
      const other = keepSession(await signInAs(h, keep(await addUser(h, 'moderator'))));
      const head = async () =>
        Number((await h.ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow()).seq);
      const headBefore = await head();
      assertErrorBody(await h.call('POST', claim, { headers: sessionHeaders(s, false) }), 403, 'csrf_failed');
      assertErrorBody(await h.call('POST', claim, { headers: sessionHeaders(s, 'x'.repeat(43)) }), 403, 'csrf_failed');
      // Another session's token is no better than none.
      assertErrorBody(await h.call('POST', claim, { headers: sessionHeaders(s, other.csrfToken) }), 403, 'csrf_failed');
      const row = await h.ctx.store.db
        .selectFrom('cases')
        .select('claimed_by')
        .where('id', '=', caseId)
        .executeTakeFirstOrThrow();
      assert.equal(row.claimed_by, null, 'the case was not claimed');
      assert.equal(await head(), headBefore, 'nothing was audited');

      const ok = await h.call('POST', claim, { headers: sessionHeaders(s) });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.data.claim.by, user.id, 'claimed by the user');

      // A bearer token needs no CSRF token, with or without a cookie beside it.
      const { caseId: second } = await openCase(h, account.id);
      const byToken = await h.call('POST', `/v1/cases/${second}/claim`, {
        token: h.tokens.moderator,
        headers: { cookie: s.cookie },
      });
      assert.equal(byToken.statusCode, 200, byToken.body);
      assert.notEqual(byToken.data.claim.by, user.id, 'the token, not the cookie, is the caller');

      // The public report form in the same browser: the cookie goes along, but a moderator may not
      // file reports, so the request is the anonymous public one (no CSRF token needed).
      const report = await h.call('POST', '/v1/reports', {
        headers: { cookie: s.cookie },
        body: { subject: { accountId: account.id }, category: 'spam' },
      });
      assert.equal(report.statusCode, 201, report.body);
    });

    it('a sign-in in a browser that holds a session ends that session', async () => {
      const h = get();
      const user = keep(await addUser(h, 'moderator'));
      const first = keepSession(await signInAs(h, user));
      const res = await h.call('POST', '/v1/session', {
        headers: { cookie: first.cookie },
        body: { username: user.username, password: user.password },
      });
      assert.equal(res.statusCode, 200, res.body);
      const next = setCookiesOf(res)[0]!;
      keepSession({ value: next.value, csrfToken: res.data.csrfToken });
      assert.notEqual(next.value, first.value, 'a new session, never the old one kept');
      assertErrorBody(
        await h.call('GET', '/v1/session', { headers: { cookie: first.cookie } }),
        401,
        'unauthenticated',
      );
      assert.equal(
        (await h.call('GET', '/v1/session', { headers: { cookie: `custos_session=${next.value}` } })).statusCode,
        200,
      );
    });

    it('refuses a wrong password, an unknown user and a wrong or missing TOTP code, each audited without the secret', async () => {
      const h = get();
      const legal = keep(await addUser(h, 'legal'));
      const moderator = keep(await addUser(h, 'moderator'));

      const wrong = await signInRequest(h, { username: legal.username, password: `${legal.password}x` });
      const unknown = await signInRequest(h, { username: 'nobody-here', password: legal.password });
      const a = assertErrorBody(wrong, 401, 'invalid_credentials');
      const b = assertErrorBody(unknown, 401, 'invalid_credentials');
      assert.deepEqual(a, b, 'an unknown user gets the same answer');
      assert.equal(setCookiesOf(wrong).length, 0, 'no cookie');

      assertErrorBody(
        await signInRequest(h, { username: legal.username, password: legal.password }),
        401,
        'totp_required',
      );
      const code = await totpCode(legal.totpSecret);
      const badCode = code === '000000' ? '000001' : '000000';
      assertErrorBody(
        await signInRequest(h, { username: legal.username, password: legal.password, totp: badCode }),
        401,
        'invalid_credentials',
      );
      assertErrorBody(
        await signInRequest(h, { username: legal.username, password: legal.password, totp: 'abcdef' }),
        401,
        'invalid_credentials',
      );
      const stale = await totpCode(legal.totpSecret, Date.now() - 5 * 60_000);
      if (stale !== code) {
        assertErrorBody(
          await signInRequest(h, { username: legal.username, password: legal.password, totp: stale }),
          401,
          'invalid_credentials',
        );
      }
      secrets.push(code);
      const ok = await signInRequest(h, {
        username: legal.username.toUpperCase(),
        password: legal.password,
        totp: `${code.slice(0, 3)} ${code.slice(3)}`,
      });
      assert.equal(ok.statusCode, 200, `usernames ignore case, codes spaces: ${ok.body}`);
      keepSession({ value: setCookiesOf(ok)[0]!.value, csrfToken: ok.data.csrfToken });
      assert.equal((await storedUser(h, legal.id)).failed_attempts, 0, 'a sign-in clears the count');
      assertErrorBody(
        await signInRequest(h, { username: legal.username, password: legal.password, totp: code }),
        401,
        'invalid_credentials',
        // A code is good once.
      );

      // Roles that do not need a code sign in without one.
      keepSession(await signInAs(h, moderator, { totp: null }));

      const entries = await auditOf(h, legal.id);
      const failures = entries.filter((e) => e.action === 'session.sign_in_failed');
      assert.deepEqual(
        failures.map((f) => f.details.reason),
        ['password', 'totp_missing', 'totp', 'totp', ...(stale !== code ? ['totp'] : []), 'totp'],
      );
      assert.ok(failures.every((f) => f.actorId === 'public' && f.actorRole === 'public'));
      assert.equal(entries.filter((e) => e.action === 'session.sign_in').length, 1);
      const anonymous = await h.ctx.store.db
        .selectFrom('audit_log')
        .select(['details', 'subject_id'])
        .where('action', '=', 'session.sign_in_failed')
        .where('subject_id', 'is', null)
        .execute();
      assert.ok(
        anonymous.some((r) => JSON.parse(r.details).reason === 'unknown_user'),
        'an unknown user is audited too',
      );
      assert.ok(
        anonymous.every((r) => !r.details.includes('nobody-here')),
        'not the attempted name (it may be a password)',
      );
      for (const e of entries) {
        for (const secret of [legal.password, legal.totpSecret, code, badCode]) {
          assert.ok(!e.raw.includes(secret), `${e.action} holds no secret`);
        }
      }
    });

    it('locks an account after 5 failures in a row, even against the right password, until the lock ends', async () => {
      const h = get();
      const user = keep(await addUser(h, 'moderator'));
      for (let i = 1; i <= 5; i++) {
        const res = await signInRequest(h, { username: user.username, password: `wrong-${i}` });
        assertErrorBody(res, 401, 'invalid_credentials');
      }
      const locked = await signInRequest(h, { username: user.username, password: user.password });
      const error = assertErrorBody(locked, 429, 'account_locked');
      assert.equal(setCookiesOf(locked).length, 0);
      const lockedUntil = Date.parse((error.details as { lockedUntil: string }).lockedUntil);
      assert.ok(Math.abs(lockedUntil - (Date.now() + LOCK_MS)) < 120_000, 'about 15 minutes');
      const row = await storedUser(h, user.id);
      assert.equal(Number(row.locked_until), lockedUntil);
      const listed = (await h.call('GET', '/v1/users', { token: h.tokens.admin })).data.users.find(
        (u: any) => u.id === user.id,
      );
      assert.equal(Date.parse(listed.lockedUntil), lockedUntil, 'admins see the lock');

      // Still locked a minute before it ends; open again once it has ended.
      await assert.rejects(
        signIn(
          h.ctx.store.db,
          h.ctx.cipher,
          { username: user.username, password: user.password },
          {},
          lockedUntil - 60_000,
        ),
        (e: any) => e.code === 'account_locked',
      );
      const after = await signIn(
        h.ctx.store.db,
        h.ctx.cipher,
        { username: user.username, password: user.password },
        {},
        lockedUntil + 1,
      );
      assert.equal(after.user.id, user.id);
      assert.equal((await storedUser(h, user.id)).failed_attempts, 0);

      const audit = await auditOf(h, user.id);
      assert.deepEqual(
        audit.filter((a) => a.action === 'user.locked').map((a) => a.details.failedAttempts),
        [5],
        'the lock is audited once',
      );
      assert.deepEqual(
        audit.filter((a) => a.action === 'session.sign_in_failed').map((a) => a.details.reason),
        ['password', 'password', 'password', 'password', 'password', 'locked', 'locked'],
      );

      // The same through the store's clock: a lock whose time has passed lets the right password in.
      const second = keep(await addUser(h, 'moderator'));
      for (let i = 0; i < 5; i++) await signInRequest(h, { username: second.username, password: 'nope' });
      assertErrorBody(
        await signInRequest(h, { username: second.username, password: second.password }),
        429,
        'account_locked',
      );
      await h.ctx.store.db
        .updateTable('users')
        .set({ locked_until: Date.now() - 1000 })
        .where('id', '=', second.id)
        .execute();
      keepSession(await signInAs(h, second));
    });

    it('does not count "totp_required" as a failure, but counts wrong codes', async () => {
      const h = get();
      const user = keep(await addUser(h, 'legal'));
      for (let i = 0; i < 7; i++) {
        assertErrorBody(
          await signInRequest(h, { username: user.username, password: user.password }),
          401,
          'totp_required',
        );
      }
      assert.equal((await storedUser(h, user.id)).failed_attempts, 0);
      for (let i = 0; i < 5; i++) {
        assertErrorBody(
          await signInRequest(h, { username: user.username, password: user.password, totp: 'abcdef' }),
          401,
          'invalid_credentials',
        );
      }
      assertErrorBody(
        await signInRequest(h, {
          username: user.username,
          password: user.password,
          totp: await totpCode(user.totpSecret),
        }),
        429,
        'account_locked',
      );
    });

    it("ends a disabled user's sessions at once and refuses its sign-ins", async () => {
      const h = get();
      const user = keep(await addUser(h, 'moderator'));
      const s = keepSession(await signInAs(h, user));
      assert.equal((await h.call('GET', '/v1/cases', { headers: { cookie: s.cookie } })).statusCode, 200);

      const disabled = await h.call('POST', `/v1/users/${user.id}/disable`, { token: h.tokens.admin });
      assert.equal(disabled.statusCode, 200, disabled.body);
      assert.ok(disabled.data.disabledAt);
      assertErrorBody(await h.call('GET', '/v1/cases', { headers: { cookie: s.cookie } }), 401, 'unauthenticated');
      assertErrorBody(
        await signInRequest(h, { username: user.username, password: user.password }),
        401,
        'invalid_credentials',
      );
      assert.deepEqual(
        (await auditOf(h, user.id)).map((a) => a.action),
        ['user.create', 'session.sign_in', 'user.disable', 'session.sign_in_failed'],
      );
      assertErrorBody(await h.call('POST', '/v1/users/usr_nope/disable', { token: h.tokens.admin }), 404, 'not_found');

      // Even a session the disabling did not revoke (say, written a moment later) no longer works.
      const late = keepSession(await signInAs(h, keep(await addUser(h, 'moderator'))));
      await h.ctx.store.db
        .updateTable('users')
        .set({ disabled_at: Date.now() })
        .where('id', '=', late.userId)
        .execute();
      assertErrorBody(await h.call('GET', '/v1/cases', { headers: { cookie: late.cookie } }), 401, 'unauthenticated');
    });

    it('an authority user signs in with TOTP, files and reads its orders; its sessions stop when the authority is suspended', async () => {
      const h = get();
      const officer = keep(await addUser(h, 'authority'));
      assertErrorBody(
        await signInRequest(h, { username: officer.username, password: officer.password }),
        401,
        'totp_required',
      );
      const s = keepSession(await signInAs(h, officer));
      const violator = await seedViolator(h);
      const filed = await h.call('POST', '/v1/legal-requests', {
        headers: sessionHeaders(s),
        body: buildOrder([{ accountId: violator.accountId }]),
      });
      assert.equal(filed.statusCode, 201, filed.body);
      const own = await h.call('GET', `/v1/legal-requests/${filed.data.id}`, { headers: { cookie: s.cookie } });
      assert.equal(own.statusCode, 200, own.body);
      const session = await h.call('GET', '/v1/session', { headers: { cookie: s.cookie } });
      assert.equal(session.data.user.authorityId, h.tokens.authorityId);

      const elsewhere = await addAuthority(h, { country: 'DE' });
      const other = keep(await addUser(h, 'authority', { authorityId: elsewhere }));
      const o = keepSession(await signInAs(h, other));
      assertErrorBody(
        await h.call('GET', `/v1/legal-requests/${filed.data.id}`, { headers: { cookie: o.cookie } }),
        404,
        'not_found',
      );
      await setAuthorityStatus(h, elsewhere, 'suspended');
      assertErrorBody(
        await h.call('GET', '/v1/legal-requests', { headers: { cookie: o.cookie } }),
        401,
        'unauthenticated',
      );
      assertErrorBody(
        await signInRequest(h, {
          username: other.username,
          password: other.password,
          totp: await totpCode(other.totpSecret, Date.now() + 30_000),
        }),
        401,
        'invalid_credentials',
      );
      assert.equal(
        (await h.call('GET', '/v1/legal-requests', { headers: { cookie: s.cookie } })).statusCode,
        200,
        'the other authority is unaffected',
      );
    });

    it('two different legal users approving one order are two approvers; the same user twice is refused', async () => {
      const h = get();
      const violator = await seedViolator(h);
      const filed = await h.call('POST', '/v1/legal-requests', {
        token: h.tokens.authority,
        body: buildOrder([{ accountId: violator.accountId }]),
      });
      assert.equal(filed.statusCode, 201, filed.body);
      assert.equal(filed.data.status, 'in_review', filed.body);
      const id = filed.data.id as string;
      const first = keepSession(await signInAs(h, keep(await addUser(h, 'legal'))));
      const second = keepSession(await signInAs(h, keep(await addUser(h, 'legal'))));
      const approve = (s: typeof first) =>
        h.call('POST', `/v1/legal-requests/${id}/reviews`, {
          headers: sessionHeaders(s),
          body: { decision: 'approve' },
        });

      assert.equal((await approve(first)).statusCode, 200);
      assertErrorBody(await approve(first), 409, 'conflict');
      let view = await h.call('GET', `/v1/legal-requests/${id}`, { headers: { cookie: first.cookie } });
      assert.equal(view.data.status, 'in_review', 'one approval is not enough');
      assert.equal((await approve(second)).statusCode, 200);
      view = await h.call('GET', `/v1/legal-requests/${id}`, { headers: { cookie: second.cookie } });
      assert.equal(view.statusCode, 200, view.body);
      assert.ok(['approved', 'disclosed'].includes(view.data.status), view.data.status);
      const approvers = view.data.reviews.filter((r: any) => r.decision === 'approve').map((r: any) => r.reviewerId);
      assert.deepEqual(approvers.sort(), [first.userId, second.userId].sort());
    });

    it('slides the idle expiry with use, never past 12 hours after sign-in', async () => {
      const h = get();
      const user = keep(await addUser(h, 'auditor'));
      const s = keepSession(await signInAs(h, user));
      const row = await h.ctx.store.db
        .selectFrom('web_sessions')
        .selectAll()
        .where('id', '=', sha256Hex(s.value))
        .executeTakeFirstOrThrow();
      const created = Number(row.created_at);
      const db = h.ctx.store.db;

      assert.equal(await authenticateSession(db, s.value, Number(row.expires_at) + 1), null, 'idle too long');
      // Used every 25 minutes, it lives on…
      let t = created;
      for (let i = 0; i < 5; i++) {
        t += 25 * 60_000;
        const live = await authenticateSession(db, s.value, t);
        assert.ok(live, `alive after ${(t - created) / 60_000} minutes`);
        assert.equal(live.session.expiresAt, t + SESSION_IDLE_MS);
      }
      // …but not past the absolute limit.
      t = created + SESSION_ABSOLUTE_MS - 10 * 60_000;
      await db.updateTable('web_sessions').set({ expires_at: t }).where('id', '=', row.id).execute();
      const last = await authenticateSession(db, s.value, t - 1000);
      assert.equal(last?.session.expiresAt, created + SESSION_ABSOLUTE_MS);
      assert.equal(await authenticateSession(db, s.value, created + SESSION_ABSOLUTE_MS), null);
    });

    it('`custos user add` prints the new user with its password and TOTP secret, and that user can sign in', async () => {
      const h = get();
      const run = await runCli(h, ['user', 'add', '--role', 'legal_senior', '--username', 'cli-senior']);
      assert.equal(run.code, 0, run.stderr);
      const printed = keep(JSON.parse(run.stdout));
      assert.equal(printed.username, 'cli-senior');
      assert.equal(printed.role, 'legal_senior');
      assert.match(printed.id, /^usr_/);
      assert.match(printed.totpUri, /^otpauth:\/\/totp\//);
      const s = keepSession(await signInAs(h, printed));
      assert.equal(s.userId, printed.id);
      const [created] = await auditOf(h, printed.id);
      assert.equal(created?.action, 'user.create');
      assert.match(created!.actorId, /^cli:/);
    });

    after(() => {
      const h = get();
      const logs = h.logs();
      assert.ok(logs.includes('"route":"/v1/session"'), 'the sign-in requests were logged');
      for (const secret of new Set(secrets)) {
        assert.ok(!logs.includes(secret), 'no password, TOTP secret or code, cookie or CSRF token in the logs');
      }
    });
  },
  { config: { signInRateLimitPerMinute: 10_000 } },
);

describe('sign-in configuration', () => {
  it('reads CUSTOS_COOKIE_SECURE (auto by default) and CUSTOS_SIGN_IN_RATE_LIMIT, refusing other values', () => {
    assert.equal(toConfig(readEnv({})).cookieSecure, 'auto');
    assert.equal(toConfig(readEnv({})).signInRateLimitPerMinute, 60);
    assert.equal(toConfig(readEnv({ CUSTOS_COOKIE_SECURE: 'Always' })).cookieSecure, 'always');
    assert.equal(toConfig(readEnv({ CUSTOS_COOKIE_SECURE: 'never' })).cookieSecure, 'never');
    assert.throws(() => toConfig(readEnv({ CUSTOS_COOKIE_SECURE: 'sometimes' })), ConfigError);
    assert.throws(() => toConfig(readEnv({ CUSTOS_SIGN_IN_RATE_LIMIT: '0' })), ConfigError);
  });

  it('reads CUSTOS_TRUST_PROXY as addresses and CIDR ranges, none by default, never everyone', () => {
    assert.deepEqual(toConfig(readEnv({})).trustProxy, []);
    assert.deepEqual(toConfig(readEnv({ CUSTOS_TRUST_PROXY: ' 10.0.0.0/8, 127.0.0.1,::1 ,fd00:1::/48' })).trustProxy, [
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00:1::/48',
    ]);
    for (const bad of [
      'true',
      '*',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/8/1',
      'proxy.local',
      '1.2.3.4/x',
      // Too wide: every address, half of IPv4, all global IPv6, and every IPv4 client through the mapped range.
      '0.0.0.0/0',
      '::/0',
      '0.0.0.0/1',
      '2000::/3',
      '::ffff:0:0/96',
      '::ffff:10.0.0.1',
    ]) {
      assert.throws(() => toConfig(readEnv({ CUSTOS_TRUST_PROXY: bad })), ConfigError, bad);
    }
  });
});

describeEachStore(
  'staff sign-in behind TLS, under a rate limit',
  (get) => {
    let user: Awaited<ReturnType<typeof addUser>>;
    before(async () => {
      user = await addUser(get(), 'moderator');
    });

    it('sets Secure on the cookie when configured to (CUSTOS_COOKIE_SECURE=always)', async () => {
      const h = get();
      const res = await signInRequest(h, { username: user.username, password: user.password });
      assert.equal(res.statusCode, 200, res.body);
      const [cookie] = setCookiesOf(res);
      assert.equal(cookie?.attributes.get('secure'), true);
      assert.equal(cookie?.attributes.get('httponly'), true);
    });

    it('answers 429 rate_limited beyond the sign-in attempts allowed per address and minute', async () => {
      const h = get();
      const answers: number[] = [];
      for (let i = 0; i < 3; i++) {
        // No proxy is trusted: a client that names other addresses in X-Forwarded-For is still one client.
        const spoofed = { 'x-forwarded-for': `198.51.100.${i + 1}` };
        answers.push((await signInRequest(h, { username: 'nobody', password: 'x' }, spoofed)).statusCode);
      }
      assert.ok(answers.includes(429), `3 allowed a minute, one used above: ${answers}`);
      assertErrorBody(
        await signInRequest(h, { username: user.username, password: user.password }),
        429,
        'rate_limited',
      );
    });
  },
  { config: { cookieSecure: 'always', signInRateLimitPerMinute: 3 } },
);

describeEachStore(
  'staff sign-in behind a trusted proxy',
  (get) => {
    it('counts the rate limit per forwarded client, and sets Secure when the proxy says the request came over TLS', async () => {
      const h = get();
      const from = (ip: string, proto = 'http') => ({
        'x-forwarded-for': `${ip}, 127.0.0.1`,
        'x-forwarded-proto': proto,
      });
      const a = '203.0.113.10';
      const b = '203.0.113.20';
      assert.equal((await signInRequest(h, { username: 'nobody', password: 'x' }, from(a))).statusCode, 401);
      assert.equal((await signInRequest(h, { username: 'nobody', password: 'x' }, from(a))).statusCode, 401);
      assertErrorBody(await signInRequest(h, { username: 'nobody', password: 'x' }, from(a)), 429, 'rate_limited');
      // Another client behind the same proxy has its own allowance.
      assert.equal((await signInRequest(h, { username: 'nobody', password: 'x' }, from(b))).statusCode, 401);

      const user = await addUser(h, 'moderator');
      const overTls = await signInRequest(
        h,
        { username: user.username, password: user.password },
        from('203.0.113.30', 'https'),
      );
      assert.equal(overTls.statusCode, 200, overTls.body);
      assert.equal(setCookiesOf(overTls)[0]?.attributes.get('secure'), true);
      const plain = await signInRequest(h, { username: user.username, password: user.password }, from('203.0.113.40'));
      assert.equal(plain.statusCode, 200, plain.body);
      assert.equal(setCookiesOf(plain)[0]?.attributes.get('secure'), undefined);
    });
  },
  { config: { trustProxy: ['127.0.0.1'], signInRateLimitPerMinute: 2, cookieSecure: 'auto' } },
);

describeEachStore(
  'staff sign-in behind a proxy that is not this client',
  (get) => {
    it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
      const h = get();
      const answers: number[] = [];
      for (let i = 0; i < 3; i++) {
        const spoofed = { 'x-forwarded-for': `198.51.100.${i + 1}` };
        answers.push((await signInRequest(h, { username: 'nobody', password: 'x' }, spoofed)).statusCode);
      }
      assert.deepEqual(answers, [401, 401, 429], 'the requests come from 127.0.0.1, which is not the trusted 10.0.0.1');
    });
  },
  { config: { trustProxy: ['10.0.0.1'], signInRateLimitPerMinute: 2 } },
);
