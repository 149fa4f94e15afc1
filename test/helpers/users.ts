import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { generate } from 'otplib';
import { type CreatedUser, type UserRole, createUser } from '../../src/identity/users.js';
import { type Harness, TEST_ACTOR } from './harness.js';

/** A user created through the service, as `custos user add` would; an authority user is bound to the harness's authority. */
export async function addUser(
  h: Harness,
  role: UserRole,
  options: { authorityId?: string; username?: string } = {},
): Promise<CreatedUser> {
  return createUser(h.ctx.store.db, h.ctx.cipher, TEST_ACTOR, {
    username: options.username ?? `${role.replace(/_/g, '-')}-${crypto.randomBytes(4).toString('hex')}`,
    role,
    authorityId: options.authorityId ?? (role === 'authority' ? h.tokens.authorityId : null),
  });
}

/** The code an authenticator app shows for `secret` at `at`, computed by otplib, not by the code under test. */
export function totpCode(secret: string, at = Date.now()): Promise<string> {
  return generate({ secret, epoch: Math.floor(at / 1000) });
}

/** One Set-Cookie header, split into its value and attributes (names lower-cased). */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string | true>;
}

export function setCookiesOf(res: { headers: Record<string, unknown> }): SetCookie[] {
  const raw = res.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [String(raw)];
  return lines.map((line) => {
    const [pair, ...rest] = line.split(';').map((s) => s.trim());
    const eq = (pair as string).indexOf('=');
    const attributes = new Map<string, string | true>();
    for (const part of rest) {
      const i = part.indexOf('=');
      if (i < 0) attributes.set(part.toLowerCase(), true);
      else attributes.set(part.slice(0, i).toLowerCase(), part.slice(i + 1));
    }
    return { name: (pair as string).slice(0, eq), value: (pair as string).slice(eq + 1), attributes };
  });
}

export interface WebSignIn {
  userId: string;
  /** The cookie value the server set. */
  value: string;
  /** `custos_session=<value>`, for a Cookie header. */
  cookie: string;
  csrfToken: string;
  expiresAt: string;
}

/**
 * Signs `user` in through POST /v1/session and asserts it worked. Roles that need a
 * TOTP code get one for now (a code is good once: sign a TOTP user in once per test,
 * or pass another time's code).
 */
export async function signInAs(
  h: Harness,
  user: { username: string; password: string; totpSecret: string; role: string },
  options: { totp?: string | null } = {},
): Promise<WebSignIn> {
  const needsCode = ['admin', 'legal', 'legal_senior', 'authority'].includes(user.role);
  const totp = options.totp === undefined ? (needsCode ? await totpCode(user.totpSecret) : null) : options.totp;
  const res = await h.call('POST', '/v1/session', {
    body: { username: user.username, password: user.password, ...(totp === null ? {} : { totp }) },
  });
  assert.equal(res.statusCode, 200, `sign-in of ${user.username}: ${res.body}`);
  const set = setCookiesOf(res).find((c) => c.name === 'custos_session');
  assert.ok(set, 'the session cookie is set');
  return {
    userId: res.data.user.id,
    value: set.value,
    cookie: `custos_session=${set.value}`,
    csrfToken: res.data.csrfToken,
    expiresAt: res.data.expiresAt,
  };
}

/** Headers of a browser request in a session: the cookie, and the CSRF token unless `csrf: false` (or another value). */
export function sessionHeaders(s: WebSignIn, csrf: string | false = s.csrfToken): Record<string, string> {
  return { cookie: s.cookie, ...(csrf === false ? {} : { 'x-csrf-token': csrf }) };
}
