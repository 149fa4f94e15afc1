import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, it } from 'node:test';
import { ERROR_CATALOG, type ErrorCode } from '../src/errors.js';
import { ROLES, type Role } from '../src/identity/roles.js';
import { authenticate } from '../src/identity/tokens.js';
import { buildAccount, buildSession } from './helpers/factories.js';
import { type Harness, authorityKeyPair, describeEachStore } from './helpers/harness.js';
import { addAuthority, expiredToken, issueToken, revokedToken, setAuthorityStatus } from './helpers/identity.js';
import { decidedCase, openAppeal, openCase, openImageCase } from './helpers/case-fixtures.js';
import { createEndpoint } from '../src/webhooks/endpoints.js';
import { addHashes, createBank } from '../src/hashes/banks.js';
import { buildOrder, fileOrder, legalToken, review, seedViolator } from './helpers/legal.js';
import type { LegalOrderInput } from '../src/legal/service.js';
import { USER_ROLES } from '../src/identity/users.js';
import { addUser, signInAs } from './helpers/users.js';

/** Every role of SPEC.md, spelled out here so a role added in src/ must be added to the matrix too. */
const ALL_ROLES = [
  'admin',
  'moderator',
  'legal',
  'legal_senior',
  'auditor',
  'platform',
  'authority',
  'trusted_flagger',
  'restricted_reviewer',
] as const;

/** The case routes: moderators, admins and restricted reviewers, each in the queues they may see. */
const CASE_ROLES: readonly Role[] = ['moderator', 'admin', 'restricted_reviewer'];
/** A case of a queue `role` may see: restricted reviewers see only the restricted queue. */
const caseQueueFor = (role: Role) => (role === 'restricted_reviewer' ? 'csam' : 'spam');

type Method = 'GET' | 'POST' | 'DELETE';

interface Req {
  method: Method;
  url: string;
  body?: unknown;
  rawBody?: string;
}

interface Fixtures {
  h: Harness;
  /** An account with a phone number and a session. */
  accountId: string;
  /** An account with a confirmed illegal_drugs violation: orders against it pass the checks. */
  violatorId: string;
  /** An order of the harness authority, in review, naming the violator. */
  orderId: string;
  /** An order of the harness authority naming the violator, withdrawn. */
  withdrawnOrderId: string;
  /** An order of the harness authority filed with a court-order PDF. */
  documentOrderId: string;
  /** An order of the harness authority, approved twice and disclosed. */
  disclosedOrderId: string;
  /** An order in review of another authority: the harness authority must get 404 for it. */
  otherOrderId: string;
  /** An active authority that is not the harness's, for bad suspend/reinstate/token requests. */
  spareAuthorityId: string;
  /** A public encryption key an authority may register. */
  publicJwk: Record<string, unknown>;
  /** A public RSA key: valid JWK, but no ECDH-ES key. */
  rsaJwk: Record<string, unknown>;
  /** The session cookie (`custos_session=…`) of a signed-in user of each role people sign in with. */
  sessions: Partial<Record<Role, string>>;
  /** A moderator's credentials (no TOTP code needed), for sign-ins. */
  signInUser: { username: string; password: string };
}

interface Row {
  method: Method;
  /** The route as Fastify registers it (OpenAPI's `{id}` written `:id`). */
  route: string;
  /** The roles SPEC.md (or, for routes it does not list, the route's own note) admits. */
  roles: readonly Role[];
  /** Callers without a token are admitted too (public routes); a bad token is still 401. */
  anonymous?: boolean;
  /** A request an admitted role gets `ok` for. */
  valid: (f: Fixtures) => Promise<Req> | Req;
  /** The same, when it depends on the role (a case in a queue the role may see). */
  validAs?: (f: Fixtures, role: Role) => Promise<Req> | Req;
  ok: number;
  /**
   * Requests an admitted role would get a 4xx for (malformed, invalid, not found).
   * Everyone else must still get 401/403 for them: auth runs before validation.
   */
  invalid: ((f: Fixtures) => Req)[];
  /** For a row whose valid request changes something: after a refused request, asserts nothing did change. */
  unchanged?: (f: Fixtures, req: Req) => Promise<void>;
  /** The route reads the sign-in session: admitted roles call it with their session cookie instead of a token. */
  signedIn?: boolean;
}

const hoursAgo = (n: number) => new Date(Date.now() - n * 3_600_000).toISOString();
/** A read of the violator's data under the fixture order: inside its period (30 days up to when it was filed). */
const personalDataQuery = (orderId: string) =>
  `from=${hoursAgo(20 * 24)}&to=${hoursAgo(24)}&orderId=${orderId}&purpose=${encodeURIComponent('access-control matrix')}`;

/** A fresh order of the harness authority against the violator: in review, or preserved for a preservation. */
async function newOrder(f: Fixtures, overrides: Partial<LegalOrderInput> = {}): Promise<string> {
  const res = await fileOrder(f.h, buildOrder([{ accountId: f.violatorId }], overrides));
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.data.status, overrides.type === 'preservation' ? 'preserved' : 'in_review', res.body);
  return res.data.id as string;
}

/** The id in `/v1/<collection>/<id>/…`. */
const idIn = (req: Req) => req.url.split('/')[3] as string;

async function storedOrder(f: Fixtures, id: string) {
  return f.h.ctx.store.db.selectFrom('legal_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function storedAuthorityStatus(f: Fixtures, id: string): Promise<string> {
  const row = await f.h.ctx.store.db
    .selectFrom('authorities')
    .select('status')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.status;
}

const reason = { reason: 'access-control matrix' };

/** A fresh hash bank (one per call: the rows run once per role) with one PDQ hash in it. */
async function newBank(f: Fixtures): Promise<{ name: string; pdq: string }> {
  const name = `matrix-${crypto.randomBytes(4).toString('hex')}`;
  const pdq = crypto.randomBytes(32).toString('hex');
  await createBank(f.h.ctx.store.db, { id: 'test', role: 'system' }, name, { category: 'spam' });
  await addHashes(f.h.ctx.store.db, { id: 'test', role: 'system' }, name, [{ kind: 'pdq', value: pdq }]);
  return { name, pdq };
}

async function bankHashCount(f: Fixtures, name: string): Promise<number> {
  const rows = await f.h.ctx.store.db
    .selectFrom('bank_hashes')
    .innerJoin('hash_banks', 'hash_banks.id', 'bank_hashes.bank_id')
    .select('bank_hashes.id')
    .where('hash_banks.name', '=', name)
    .where('bank_hashes.enabled', '=', 1)
    .execute();
  return rows.length;
}

/** The route × role matrix. A route the app serves without a row here fails the coverage test. */
const MATRIX: Row[] = [
  {
    method: 'POST',
    route: '/v1/ingest/accounts',
    roles: ['platform'],
    ok: 200,
    valid: () => ({ method: 'POST', url: '/v1/ingest/accounts', body: { accounts: [buildAccount()] } }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/ingest/accounts', rawBody: '{"accounts":[{' }),
      () => ({ method: 'POST', url: '/v1/ingest/accounts', body: { accounts: [{ id: 12 }], extra: true } }),
      () => ({ method: 'POST', url: '/v1/ingest/accounts', body: { accounts: [] } }),
      () => ({
        method: 'POST',
        url: '/v1/ingest/accounts',
        body: { accounts: Array.from({ length: 10_001 }, (_, i) => ({ id: `ac-big-${i}` })) },
      }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/ingest/sessions',
    roles: ['platform'],
    ok: 200,
    valid: (f) => ({ method: 'POST', url: '/v1/ingest/sessions', body: { sessions: [buildSession(f.accountId)] } }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/ingest/sessions', rawBody: 'not json' }),
      (f) => ({
        method: 'POST',
        url: '/v1/ingest/sessions',
        body: { sessions: [{ accountId: f.accountId, ip: '300.1.2.3', at: 'yesterday' }] },
      }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/accounts/:id',
    roles: ['moderator', 'legal', 'legal_senior', 'admin'],
    ok: 200,
    valid: (f) => ({ method: 'GET', url: `/v1/accounts/${f.accountId}` }),
    invalid: [
      () => ({ method: 'GET', url: `/v1/accounts/${encodeURIComponent('bad id!')}` }),
      () => ({ method: 'GET', url: '/v1/accounts/no-such-account' }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/accounts/:id/personal-data',
    roles: ['legal', 'legal_senior'],
    ok: 200,
    // The violator is the target of the fixture's disclosed order, which two reviewers approved: a lawful reason to read.
    valid: (f) => ({
      method: 'GET',
      url: `/v1/accounts/${f.violatorId}/personal-data?${personalDataQuery(f.disclosedOrderId)}`,
    }),
    invalid: [
      (f) => ({ method: 'GET', url: `/v1/accounts/${f.violatorId}/personal-data` }),
      (f) => ({
        method: 'GET',
        url: `/v1/accounts/${f.violatorId}/personal-data?from=x&to=y&orderId=${f.disclosedOrderId}&purpose=a&more=1`,
      }),
      // No order: the same valid query without orderId.
      (f) => ({
        method: 'GET',
        url: `/v1/accounts/${f.violatorId}/personal-data?${personalDataQuery(f.disclosedOrderId).replace(/&orderId=[^&]+/, '')}`,
      }),
      // The order in review (not yet approved), an account the order does not name, an unknown order, a withdrawn
      // order, a period beyond the order's.
      (f) => ({ method: 'GET', url: `/v1/accounts/${f.violatorId}/personal-data?${personalDataQuery(f.orderId)}` }),
      (f) => ({
        method: 'GET',
        url: `/v1/accounts/${f.accountId}/personal-data?${personalDataQuery(f.disclosedOrderId)}`,
      }),
      (f) => ({
        method: 'GET',
        url: `/v1/accounts/${f.violatorId}/personal-data?${personalDataQuery('lr_nosuchorder')}`,
      }),
      (f) => ({
        method: 'GET',
        url: `/v1/accounts/${f.violatorId}/personal-data?${personalDataQuery(f.withdrawnOrderId)}`,
      }),
      (f) => ({
        method: 'GET',
        url: `/v1/accounts/${f.violatorId}/personal-data?${personalDataQuery(f.disclosedOrderId).replace(/to=[^&]+/, `to=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`)}`,
      }),
      (f) => ({
        method: 'GET',
        url: `/v1/accounts/no-such-account/personal-data?${personalDataQuery(f.disclosedOrderId)}`,
      }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/audit',
    roles: ['auditor', 'admin'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/audit?limit=5' }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/audit?limit=0' }),
      () => ({ method: 'GET', url: '/v1/audit?from=yesterday' }),
      () => ({ method: 'GET', url: '/v1/audit?bogus=1' }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/audit/personal-data-access',
    roles: ['auditor', 'admin'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/audit/personal-data-access?limit=5' }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/audit/personal-data-access?limit=0' }),
      () => ({ method: 'GET', url: '/v1/audit/personal-data-access?to=tomorrow' }),
      () => ({ method: 'GET', url: '/v1/audit/personal-data-access?bogus=1' }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/audit/verify',
    roles: ['auditor', 'admin'],
    ok: 200,
    valid: () => ({ method: 'POST', url: '/v1/audit/verify' }),
    // No body is the plain check; a body may only hold a checkpoint (and the keys kept with it).
    invalid: [
      () => ({ method: 'POST', url: '/v1/audit/verify', rawBody: '{"' }),
      () => ({ method: 'POST', url: '/v1/audit/verify', body: { checkpoint: 'not a checkpoint' } }),
      () => ({ method: 'POST', url: '/v1/audit/verify', body: { keys: { keys: [] } } }),
      () => ({ method: 'POST', url: '/v1/audit/verify', body: { other: 1 } }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/transparency/statements',
    roles: ['auditor', 'admin'],
    ok: 200,
    valid: () => {
      const today = new Date().toISOString().slice(0, 10);
      return { method: 'GET', url: `/v1/transparency/statements?from=${today}&to=${today}` };
    },
    invalid: [
      () => ({ method: 'GET', url: '/v1/transparency/statements?from=2026-02-30&to=2026-03-01' }),
      () => ({ method: 'GET', url: '/v1/transparency/statements?from=2026-03-01&to=2026-02-01' }),
      () => ({ method: 'GET', url: '/v1/transparency/statements?from=2020-01-01&to=2025-01-01' }),
      () => ({ method: 'GET', url: '/v1/transparency/statements?from=2026-03-01&to=2026-03-01&page=2' }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/tokens',
    roles: ['admin'],
    ok: 201,
    valid: () => ({ method: 'POST', url: '/v1/tokens', body: { role: 'trusted_flagger', name: 'matrix' } }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/tokens', rawBody: '{' }),
      () => ({ method: 'POST', url: '/v1/tokens', body: { role: 'nope', name: '' } }),
      () => ({ method: 'POST', url: '/v1/tokens', body: { role: 'authority', name: 'x', authorityId: 'auth_nope' } }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/tokens',
    roles: ['admin'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/tokens' }),
    // No query or body: nothing to malform.
    invalid: [],
  },
  {
    method: 'POST',
    route: '/v1/tokens/:id/revoke',
    roles: ['admin'],
    ok: 200,
    valid: async (f) => ({ method: 'POST', url: `/v1/tokens/${(await issueToken(f.h, 'moderator')).id}/revoke` }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/tokens/tok_nope/revoke' }),
      () => ({ method: 'POST', url: `/v1/tokens/${'x'.repeat(65)}/revoke` }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/me',
    roles: ALL_ROLES,
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/me' }),
    invalid: [],
  },
  {
    method: 'POST',
    route: '/v1/session',
    roles: ALL_ROLES,
    anonymous: true,
    ok: 200,
    valid: (f) => ({ method: 'POST', url: '/v1/session', body: f.signInUser }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/session', rawBody: '{"username":' }),
      (f) => ({ method: 'POST', url: '/v1/session', body: { ...f.signInUser, remember: true } }),
      (f) => ({ method: 'POST', url: '/v1/session', body: { username: f.signInUser.username } }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/session',
    roles: USER_ROLES,
    signedIn: true,
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/session' }),
    // No query or body: nothing to malform.
    invalid: [],
  },
  {
    method: 'DELETE',
    route: '/v1/session',
    roles: ALL_ROLES,
    anonymous: true,
    ok: 204,
    valid: () => ({ method: 'DELETE', url: '/v1/session' }),
    invalid: [],
  },
  {
    method: 'POST',
    route: '/v1/users',
    roles: ['admin'],
    ok: 201,
    valid: () => ({
      method: 'POST',
      url: '/v1/users',
      body: { username: `matrix-${crypto.randomBytes(3).toString('hex')}`, role: 'moderator' },
    }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/users', rawBody: '{' }),
      () => ({ method: 'POST', url: '/v1/users', body: { username: 'x', role: 'moderator' } }),
      () => ({ method: 'POST', url: '/v1/users', body: { username: 'matrix-platform', role: 'platform' } }),
      () => ({ method: 'POST', url: '/v1/users', body: { username: 'matrix-officer', role: 'authority' } }),
      () => ({ method: 'POST', url: '/v1/users', body: { username: 'matrix-extra', role: 'moderator', admin: true } }),
    ],
    unchanged: async (f, req) => {
      const username = (req.body as { username: string }).username;
      const stored = await f.h.ctx.store.db.selectFrom('users').select('id').where('username', '=', username).execute();
      assert.deepEqual(stored, [], 'no user was created');
    },
  },
  {
    method: 'GET',
    route: '/v1/users',
    roles: ['admin'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/users' }),
    // No query or body: nothing to malform.
    invalid: [],
  },
  {
    method: 'POST',
    route: '/v1/users/:id/disable',
    roles: ['admin'],
    ok: 200,
    valid: async (f) => ({ method: 'POST', url: `/v1/users/${(await addUser(f.h, 'moderator')).id}/disable` }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/users/usr_nope/disable' }),
      () => ({ method: 'POST', url: `/v1/users/${'x'.repeat(65)}/disable` }),
    ],
    unchanged: async (f, req) => {
      const stored = await f.h.ctx.store.db
        .selectFrom('users')
        .select('disabled_at')
        .where('id', '=', idIn(req))
        .executeTakeFirstOrThrow();
      assert.equal(stored.disabled_at, null, 'the user was not disabled');
    },
  },
  {
    method: 'POST',
    route: '/v1/ingest/content',
    roles: ['platform'],
    ok: 200,
    valid: (f) => ({
      method: 'POST',
      url: '/v1/ingest/content',
      body: {
        items: [
          { id: `m-${crypto.randomUUID()}`, accountId: f.accountId, kind: 'text', text: 'hi', createdAt: hoursAgo(1) },
        ],
      },
    }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/ingest/content', rawBody: '{' }),
      (f) => ({
        method: 'POST',
        url: '/v1/ingest/content',
        body: { items: [{ id: 'x', accountId: f.accountId, kind: 'video', createdAt: hoursAgo(1) }] },
      }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/reports',
    roles: ['platform', 'trusted_flagger'],
    anonymous: true,
    ok: 201,
    valid: (f) => ({
      method: 'POST',
      url: '/v1/reports',
      body: { subject: { accountId: f.accountId }, category: 'spam' },
    }),
    invalid: [
      () => ({
        method: 'POST',
        url: '/v1/reports',
        body: { subject: { accountId: 'no-such-account' }, category: 'spam' },
      }),
      (f) => ({ method: 'POST', url: '/v1/reports', body: { subject: { accountId: f.accountId }, category: 'nope' } }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/reports/:id',
    roles: ALL_ROLES,
    anonymous: true,
    ok: 200,
    valid: async (f) => {
      const r = await openCase(f.h, f.accountId);
      return { method: 'GET', url: `/v1/reports/${r.id}?accessKey=${r.accessKey}` };
    },
    invalid: [() => ({ method: 'GET', url: '/v1/reports/rep_nope?accessKey=wrong' })],
  },
  {
    method: 'GET',
    route: '/v1/cases',
    roles: CASE_ROLES,
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/cases?status=open' }),
    invalid: [() => ({ method: 'GET', url: '/v1/cases?status=weird' })],
  },
  {
    method: 'GET',
    route: '/v1/cases/:id',
    roles: CASE_ROLES,
    ok: 200,
    valid: async (f) => ({ method: 'GET', url: `/v1/cases/${(await openCase(f.h, f.accountId)).caseId}` }),
    validAs: async (f, role) => ({
      method: 'GET',
      url: `/v1/cases/${(await openCase(f.h, f.accountId, caseQueueFor(role))).caseId}`,
    }),
    invalid: [() => ({ method: 'GET', url: '/v1/cases/case_nope' })],
  },
  {
    method: 'GET',
    route: '/v1/cases/:id/image',
    roles: CASE_ROLES,
    ok: 200,
    valid: async (f) => ({ method: 'GET', url: `/v1/cases/${(await openImageCase(f.h, f.accountId)).caseId}/image` }),
    validAs: async (f, role) => ({
      method: 'GET',
      url: `/v1/cases/${(await openImageCase(f.h, f.accountId, caseQueueFor(role))).caseId}/image`,
    }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/cases/case_nope/image' }),
      () => ({ method: 'GET', url: '/v1/cases/case_nope/image?reveal=maybe' }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/cases/:id/claim',
    roles: CASE_ROLES,
    ok: 200,
    valid: async (f) => ({ method: 'POST', url: `/v1/cases/${(await openCase(f.h, f.accountId)).caseId}/claim` }),
    validAs: async (f, role) => ({
      method: 'POST',
      url: `/v1/cases/${(await openCase(f.h, f.accountId, caseQueueFor(role))).caseId}/claim`,
    }),
    invalid: [() => ({ method: 'POST', url: '/v1/cases/case_nope/claim' })],
  },
  {
    method: 'POST',
    route: '/v1/cases/:id/release',
    roles: CASE_ROLES,
    ok: 200,
    valid: async (f) => ({ method: 'POST', url: `/v1/cases/${(await openCase(f.h, f.accountId)).caseId}/release` }),
    validAs: async (f, role) => ({
      method: 'POST',
      url: `/v1/cases/${(await openCase(f.h, f.accountId, caseQueueFor(role))).caseId}/release`,
    }),
    invalid: [() => ({ method: 'POST', url: '/v1/cases/case_nope/release' })],
  },
  {
    method: 'POST',
    route: '/v1/cases/:id/decisions',
    roles: CASE_ROLES,
    ok: 201,
    valid: async (f) => ({
      method: 'POST',
      url: `/v1/cases/${(await openCase(f.h, f.accountId)).caseId}/decisions`,
      body: { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms', explanation: 'Nothing wrong here.' },
    }),
    validAs: async (f, role) => ({
      method: 'POST',
      url: `/v1/cases/${(await openCase(f.h, f.accountId, caseQueueFor(role))).caseId}/decisions`,
      body: { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms', explanation: 'Nothing wrong here.' },
    }),
    invalid: [
      () => ({
        method: 'POST',
        url: '/v1/cases/case_nope/decisions',
        body: { actions: [{ type: 'dismiss' }], category: 'spam', ground: 'terms', explanation: 'Nothing wrong here.' },
      }),
      () => ({ method: 'POST', url: '/v1/cases/case_nope/decisions', rawBody: '{' }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/cases/bulk-decisions',
    roles: CASE_ROLES,
    ok: 200,
    valid: async (f) => ({
      method: 'POST',
      url: '/v1/cases/bulk-decisions',
      body: {
        caseIds: [(await openCase(f.h, f.accountId)).caseId],
        decision: {
          actions: [{ type: 'dismiss' }],
          category: 'spam',
          ground: 'terms',
          explanation: 'Nothing wrong here.',
        },
      },
    }),
    invalid: [() => ({ method: 'POST', url: '/v1/cases/bulk-decisions', body: { caseIds: [] } })],
  },
  {
    method: 'GET',
    route: '/v1/decisions/:id',
    roles: ['moderator', 'auditor', 'platform'],
    ok: 200,
    valid: async (f) => ({ method: 'GET', url: `/v1/decisions/${(await decidedCase(f.h, f.accountId)).id}` }),
    invalid: [() => ({ method: 'GET', url: '/v1/decisions/dec_nope' })],
  },
  {
    method: 'GET',
    route: '/v1/decisions/:id/statement',
    roles: ['moderator', 'auditor', 'platform'],
    ok: 200,
    valid: async (f) => ({ method: 'GET', url: `/v1/decisions/${(await decidedCase(f.h, f.accountId)).id}/statement` }),
    invalid: [() => ({ method: 'GET', url: '/v1/decisions/dec_nope/statement' })],
  },
  {
    method: 'POST',
    route: '/v1/decisions/:id/appeals',
    roles: ['platform'],
    ok: 201,
    valid: async (f) => ({
      method: 'POST',
      url: `/v1/decisions/${(await decidedCase(f.h, f.accountId)).id}/appeals`,
      body: { text: 'Please review again.' },
    }),
    invalid: [() => ({ method: 'POST', url: '/v1/decisions/dec_nope/appeals', body: { text: 'x' } })],
  },
  {
    method: 'GET',
    route: '/v1/appeals',
    roles: ['moderator'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/appeals?status=open' }),
    invalid: [() => ({ method: 'GET', url: '/v1/appeals?status=maybe' })],
  },
  {
    method: 'POST',
    route: '/v1/appeals/:id/resolve',
    roles: ['moderator'],
    ok: 200,
    valid: async (f) => ({
      method: 'POST',
      url: `/v1/appeals/${(await openAppeal(f.h, f.accountId)).id}/resolve`,
      body: { outcome: 'upheld', explanation: 'The removal was right.' },
    }),
    invalid: [
      () => ({
        method: 'POST',
        url: '/v1/appeals/apl_nope/resolve',
        body: { outcome: 'upheld', explanation: 'The removal was right.' },
      }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/accounts/:id/violations',
    roles: ['moderator', 'legal', 'legal_senior'],
    ok: 200,
    valid: (f) => ({ method: 'GET', url: `/v1/accounts/${f.accountId}/violations` }),
    invalid: [() => ({ method: 'GET', url: '/v1/accounts/no-such-account/violations' })],
  },
  {
    method: 'POST',
    route: '/v1/webhooks',
    roles: ['admin'],
    ok: 201,
    valid: () => ({ method: 'POST', url: '/v1/webhooks', body: { url: 'http://127.0.0.1:9/hook' } }),
    invalid: [() => ({ method: 'POST', url: '/v1/webhooks', body: { url: 'ftp://x' } })],
  },
  {
    method: 'GET',
    route: '/v1/webhooks',
    roles: ['admin'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/webhooks' }),
    invalid: [],
  },
  {
    method: 'POST',
    route: '/v1/webhooks/:id/deactivate',
    roles: ['admin'],
    ok: 204,
    valid: async (f) => ({
      method: 'POST',
      url: `/v1/webhooks/${(await createEndpoint(f.h.ctx, { id: 'test', role: 'system' }, { url: 'http://127.0.0.1:9/h' })).id}/deactivate`,
    }),
    invalid: [() => ({ method: 'POST', url: '/v1/webhooks/whe_nope/deactivate' })],
  },
  {
    method: 'GET',
    route: '/v1/webhooks/deliveries',
    roles: ['admin'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/webhooks/deliveries?status=dead' }),
    invalid: [() => ({ method: 'GET', url: '/v1/webhooks/deliveries?status=lost' })],
  },
  {
    method: 'POST',
    route: '/v1/authorities',
    roles: ['admin'],
    ok: 201,
    valid: (f) => ({
      method: 'POST',
      url: '/v1/authorities',
      body: {
        name: `Matrix Court ${crypto.randomBytes(3).toString('hex')}`,
        country: 'DE',
        kind: 'court',
        contactEmail: 'court@example.org',
        publicJwk: f.publicJwk,
      },
    }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/authorities', rawBody: '{"name":' }),
      (f) => ({
        method: 'POST',
        url: '/v1/authorities',
        body: { name: 'RSA', country: 'DE', kind: 'court', contactEmail: 'a@example.org', publicJwk: f.rsaJwk },
      }),
      (f) => ({
        method: 'POST',
        url: '/v1/authorities',
        body: { name: 'Nowhere', country: 'XX', kind: 'court', contactEmail: 'a@example.org', publicJwk: f.publicJwk },
      }),
      (f) => ({
        method: 'POST',
        url: '/v1/authorities',
        body: { name: 'Army', country: 'DE', kind: 'army', contactEmail: 'a@example.org', publicJwk: f.publicJwk },
      }),
      (f) => ({
        method: 'POST',
        url: '/v1/authorities',
        body: {
          name: 'Extra',
          country: 'DE',
          kind: 'court',
          contactEmail: 'a@example.org',
          publicJwk: f.publicJwk,
          status: 'active',
        },
      }),
    ],
    unchanged: async (f, req) => {
      const name = (req.body as { name: string }).name;
      const stored = await f.h.ctx.store.db.selectFrom('authorities').select('id').where('name', '=', name).execute();
      assert.deepEqual(stored, [], 'no authority was registered');
    },
  },
  {
    method: 'GET',
    route: '/v1/authorities',
    roles: ['admin', 'legal', 'legal_senior'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/authorities' }),
    // No query or body: nothing to malform.
    invalid: [],
  },
  {
    method: 'GET',
    route: '/v1/authorities/:id',
    roles: ['admin', 'legal', 'legal_senior'],
    ok: 200,
    valid: (f) => ({ method: 'GET', url: `/v1/authorities/${f.h.tokens.authorityId}` }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/authorities/auth_nope' }),
      () => ({ method: 'GET', url: `/v1/authorities/${'x'.repeat(65)}` }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/authorities/:id/suspend',
    roles: ['admin'],
    ok: 200,
    // A fresh authority each time: suspending the harness's would stop its token.
    valid: async (f) => ({ method: 'POST', url: `/v1/authorities/${await addAuthority(f.h)}/suspend`, body: reason }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/authorities/auth_nope/suspend', body: reason }),
      (f) => ({ method: 'POST', url: `/v1/authorities/${f.spareAuthorityId}/suspend`, body: { reason: 'x' } }),
      (f) => ({ method: 'POST', url: `/v1/authorities/${f.spareAuthorityId}/suspend`, body: {} }),
      (f) => ({ method: 'POST', url: `/v1/authorities/${f.spareAuthorityId}/suspend`, rawBody: '{' }),
    ],
    unchanged: async (f, req) => {
      assert.equal(await storedAuthorityStatus(f, idIn(req)), 'active', 'the authority was not suspended');
      assert.equal(await storedAuthorityStatus(f, f.spareAuthorityId), 'active');
    },
  },
  {
    method: 'POST',
    route: '/v1/authorities/:id/reinstate',
    roles: ['admin'],
    ok: 200,
    valid: async (f) => {
      const id = await addAuthority(f.h);
      await setAuthorityStatus(f.h, id, 'suspended');
      return { method: 'POST', url: `/v1/authorities/${id}/reinstate`, body: reason };
    },
    invalid: [
      () => ({ method: 'POST', url: '/v1/authorities/auth_nope/reinstate', body: reason }),
      (f) => ({
        method: 'POST',
        url: `/v1/authorities/${f.spareAuthorityId}/reinstate`,
        body: { ...reason, status: 'active' },
      }),
      (f) => ({ method: 'POST', url: `/v1/authorities/${f.spareAuthorityId}/reinstate`, body: { reason: 'no' } }),
    ],
    unchanged: async (f, req) => {
      assert.equal(await storedAuthorityStatus(f, idIn(req)), 'suspended', 'the authority was not reinstated');
    },
  },
  {
    method: 'POST',
    route: '/v1/authorities/:id/tokens',
    roles: ['admin'],
    ok: 201,
    valid: (f) => ({
      method: 'POST',
      url: `/v1/authorities/${f.spareAuthorityId}/tokens`,
      body: { name: `matrix officer ${crypto.randomBytes(3).toString('hex')}` },
    }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/authorities/auth_nope/tokens', body: { name: 'officer' } }),
      (f) => ({ method: 'POST', url: `/v1/authorities/${f.spareAuthorityId}/tokens`, body: { name: '' } }),
      (f) => ({
        method: 'POST',
        url: `/v1/authorities/${f.spareAuthorityId}/tokens`,
        body: { name: 'officer', expiresAt: 'tomorrow' },
      }),
      (f) => ({
        method: 'POST',
        url: `/v1/authorities/${f.spareAuthorityId}/tokens`,
        body: { name: 'officer', expiresAt: hoursAgo(1) },
      }),
      (f) => ({
        method: 'POST',
        url: `/v1/authorities/${f.spareAuthorityId}/tokens`,
        body: { name: 'officer', role: 'admin' },
      }),
    ],
    unchanged: async (f, req) => {
      const name = (req.body as { name: string }).name;
      const stored = await f.h.ctx.store.db.selectFrom('api_tokens').select('id').where('name', '=', name).execute();
      assert.deepEqual(stored, [], 'no token was created');
    },
  },
  {
    method: 'GET',
    route: '/v1/hash-banks',
    roles: ['admin'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/hash-banks' }),
    invalid: [],
  },
  {
    method: 'POST',
    route: '/v1/hash-banks',
    roles: ['admin'],
    ok: 201,
    valid: () => ({
      method: 'POST',
      url: '/v1/hash-banks',
      body: { name: `matrix-${crypto.randomBytes(4).toString('hex')}`, category: 'spam' },
    }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/hash-banks', rawBody: '{"name":' }),
      () => ({ method: 'POST', url: '/v1/hash-banks', body: { name: 'Bad Name', category: 'spam' } }),
      () => ({ method: 'POST', url: '/v1/hash-banks', body: { name: 'matrix-bad', category: 'gossip' } }),
      () => ({ method: 'POST', url: '/v1/hash-banks', body: { name: 'matrix-bad', category: 'spam', threshold: 99 } }),
      () => ({ method: 'POST', url: '/v1/hash-banks', body: { name: 'matrix-bad', category: 'spam', enabled: 1 } }),
    ],
    unchanged: async (f, req) => {
      const name = (req.body as { name: string }).name;
      const stored = await f.h.ctx.store.db.selectFrom('hash_banks').select('id').where('name', '=', name).execute();
      assert.deepEqual(stored, [], 'no bank was created');
    },
  },
  {
    method: 'POST',
    route: '/v1/hash-banks/:name/hashes',
    roles: ['admin'],
    ok: 200,
    valid: async (f) => ({
      method: 'POST',
      url: `/v1/hash-banks/${(await newBank(f)).name}/hashes`,
      body: { hashes: [{ kind: 'md5', value: crypto.randomBytes(16).toString('hex') }] },
    }),
    invalid: [
      () => ({
        method: 'POST',
        url: '/v1/hash-banks/matrix-nope/hashes',
        body: { hashes: [{ kind: 'md5', value: 'ab'.repeat(16) }] },
      }),
      () => ({
        method: 'POST',
        url: '/v1/hash-banks/matrix-nope/hashes',
        body: { hashes: [{ kind: 'pdq', value: 'xyz' }] },
      }),
      () => ({ method: 'POST', url: '/v1/hash-banks/matrix-nope/hashes', body: { hashes: [] } }),
    ],
    unchanged: async (f, req) => {
      assert.equal(await bankHashCount(f, req.url.split('/')[3] as string), 1, 'no hash was added');
    },
  },
  {
    method: 'DELETE',
    route: '/v1/hash-banks/:name/hashes/:kind/:value',
    roles: ['admin'],
    ok: 204,
    valid: async (f) => {
      const bank = await newBank(f);
      return { method: 'DELETE', url: `/v1/hash-banks/${bank.name}/hashes/pdq/${bank.pdq}` };
    },
    invalid: [
      () => ({ method: 'DELETE', url: `/v1/hash-banks/matrix-nope/hashes/pdq/${'ab'.repeat(32)}` }),
      () => ({ method: 'DELETE', url: '/v1/hash-banks/matrix-nope/hashes/pdq/xyz' }),
      () => ({ method: 'DELETE', url: `/v1/hash-banks/matrix-nope/hashes/crc32/${'ab'.repeat(4)}` }),
    ],
    unchanged: async (f, req) => {
      assert.equal(await bankHashCount(f, req.url.split('/')[3] as string), 1, 'the hash is still enabled');
    },
  },
  {
    method: 'POST',
    route: '/v1/legal-requests',
    roles: ['authority'],
    ok: 201,
    valid: (f) => ({ method: 'POST', url: '/v1/legal-requests', body: buildOrder([{ accountId: f.violatorId }]) }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/legal-requests', rawBody: '{"type":' }),
      (f) => ({
        method: 'POST',
        url: '/v1/legal-requests',
        body: buildOrder([{ accountId: f.violatorId }], { data: ['message_content'] }),
      }),
      (f) => ({
        method: 'POST',
        url: '/v1/legal-requests',
        body: buildOrder([{ accountId: f.violatorId }], { targets: [] }),
      }),
      (f) => ({
        method: 'POST',
        url: '/v1/legal-requests',
        body: { ...buildOrder([{ accountId: f.violatorId }]), priority: 'high' },
      }),
      (f) => ({
        method: 'POST',
        url: '/v1/legal-requests',
        body: buildOrder([{ accountId: f.violatorId }], { type: 'emergency' }),
      }),
    ],
    unchanged: async (f, req) => {
      const reference = (req.body as { caseReference: string }).caseReference;
      const stored = await f.h.ctx.store.db
        .selectFrom('legal_requests')
        .select('id')
        .where('case_reference', '=', reference)
        .execute();
      assert.deepEqual(stored, [], 'no order was filed');
    },
  },
  {
    method: 'GET',
    route: '/v1/legal-requests',
    roles: ['legal', 'legal_senior', 'authority'],
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/legal-requests?status=open' }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/legal-requests?status=lost' }),
      () => ({ method: 'GET', url: '/v1/legal-requests?limit=0' }),
      () => ({ method: 'GET', url: '/v1/legal-requests?bogus=1' }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/legal-requests/:id',
    roles: ['legal', 'legal_senior', 'authority'],
    ok: 200,
    valid: (f) => ({ method: 'GET', url: `/v1/legal-requests/${f.orderId}` }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/legal-requests/lr_nope' }),
      () => ({ method: 'GET', url: `/v1/legal-requests/${'x'.repeat(65)}` }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/legal-requests/:id/document',
    roles: ['legal', 'legal_senior'],
    ok: 200,
    valid: (f) => ({ method: 'GET', url: `/v1/legal-requests/${f.documentOrderId}/document` }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/legal-requests/lr_nope/document' }),
      // An order filed without a document.
      (f) => ({ method: 'GET', url: `/v1/legal-requests/${f.orderId}/document` }),
    ],
  },
  {
    method: 'POST',
    route: '/v1/legal-requests/:id/reviews',
    roles: ['legal', 'legal_senior'],
    ok: 200,
    // A fresh order each time: one member may review an order once.
    valid: async (f) => ({
      method: 'POST',
      url: `/v1/legal-requests/${await newOrder(f)}/reviews`,
      body: { decision: 'approve', note: 'matrix' },
    }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/legal-requests/lr_nope/reviews', body: { decision: 'approve' } }),
      (f) => ({ method: 'POST', url: `/v1/legal-requests/${f.orderId}/reviews`, body: { decision: 'reject' } }),
      (f) => ({ method: 'POST', url: `/v1/legal-requests/${f.orderId}/reviews`, body: { decision: 'maybe' } }),
      (f) => ({
        method: 'POST',
        url: `/v1/legal-requests/${f.orderId}/reviews`,
        body: { decision: 'approve', narrowTo: { data: ['phone_number'] } },
      }),
      (f) => ({ method: 'POST', url: `/v1/legal-requests/${f.orderId}/reviews`, rawBody: '{' }),
    ],
    unchanged: async (f, req) => {
      for (const id of [idIn(req), f.orderId]) {
        const reviews = await f.h.ctx.store.db
          .selectFrom('legal_reviews')
          .select('id')
          .where('request_id', '=', id)
          .execute();
        assert.deepEqual(reviews, [], 'no review was recorded');
        assert.equal((await storedOrder(f, id)).status, 'in_review');
      }
    },
  },
  {
    method: 'POST',
    route: '/v1/legal-requests/:id/withdraw',
    roles: ['authority'],
    ok: 200,
    // A fresh order each time: an order is withdrawn once.
    valid: async (f) => ({ method: 'POST', url: `/v1/legal-requests/${await newOrder(f)}/withdraw` }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/legal-requests/lr_nope/withdraw' }),
      // Another authority's order, open and withdrawable by its own authority: not found.
      (f) => ({ method: 'POST', url: `/v1/legal-requests/${f.otherOrderId}/withdraw` }),
      () => ({ method: 'POST', url: `/v1/legal-requests/${'x'.repeat(65)}/withdraw` }),
    ],
    unchanged: async (f, req) => {
      assert.equal((await storedOrder(f, idIn(req))).status, 'in_review', 'the order was not withdrawn');
      assert.equal((await storedOrder(f, f.otherOrderId)).status, 'in_review');
    },
  },
  {
    method: 'POST',
    route: '/v1/legal-requests/:id/extend',
    roles: ['authority'],
    ok: 200,
    // A fresh preservation each time: a preservation is extended once.
    valid: async (f) => ({
      method: 'POST',
      url: `/v1/legal-requests/${await newOrder(f, { type: 'preservation' })}/extend`,
    }),
    invalid: [
      () => ({ method: 'POST', url: '/v1/legal-requests/lr_nope/extend' }),
      (f) => ({ method: 'POST', url: `/v1/legal-requests/${f.otherOrderId}/extend` }),
    ],
    unchanged: async (f, req) => {
      const row = await storedOrder(f, idIn(req));
      assert.equal(row.status, 'preserved');
      assert.equal(row.preservation_extended, 0, 'the preservation was not extended');
    },
  },
  {
    method: 'GET',
    route: '/v1/legal-requests/:id/package',
    roles: ['authority'],
    ok: 200,
    valid: (f) => ({ method: 'GET', url: `/v1/legal-requests/${f.disclosedOrderId}/package` }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/legal-requests/lr_nope/package' }),
      (f) => ({ method: 'GET', url: `/v1/legal-requests/${f.otherOrderId}/package` }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/transparency/requests',
    roles: ALL_ROLES,
    anonymous: true,
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/transparency/requests?country=DE&from=2026-01-01&to=2026-03-31' }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/transparency/requests?from=2026-02-30' }),
      () => ({ method: 'GET', url: '/v1/transparency/requests?country=XX' }),
      () => ({ method: 'GET', url: '/v1/transparency/requests?format=xml' }),
      () => ({ method: 'GET', url: '/v1/transparency/requests?bogus=1' }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/transparency/policy',
    roles: ALL_ROLES,
    anonymous: true,
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/transparency/policy' }),
    // No query or body: nothing to malform.
    invalid: [],
  },
  {
    method: 'GET',
    route: '/v1/transparency/audit-checkpoint',
    roles: ALL_ROLES,
    anonymous: true,
    ok: 200,
    valid: () => ({ method: 'GET', url: '/v1/transparency/audit-checkpoint' }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/transparency/audit-checkpoint?seq=0' }),
      () => ({ method: 'GET', url: '/v1/transparency/audit-checkpoint?seq=abc' }),
      () => ({ method: 'GET', url: '/v1/transparency/audit-checkpoint?head=1' }),
    ],
  },
  {
    method: 'GET',
    route: '/v1/transparency/dsa',
    roles: ALL_ROLES,
    anonymous: true,
    ok: 200,
    valid: () => ({ method: 'GET', url: `/v1/transparency/dsa?year=${new Date().getUTCFullYear() - 1}` }),
    invalid: [
      () => ({ method: 'GET', url: '/v1/transparency/dsa?year=abc' }),
      () => ({ method: 'GET', url: `/v1/transparency/dsa?year=${new Date().getUTCFullYear() + 1}` }),
      () => ({ method: 'GET', url: '/v1/transparency/dsa?year=2025&format=xml' }),
      () => ({ method: 'GET', url: '/v1/transparency/dsa?year=2025&bogus=1' }),
    ],
  },
];

const rowKey = (method: string, route: string) => `${method.toUpperCase()} ${route}`;
/** `/v1/accounts/{id}/` → `/v1/accounts/:id` */
const normaliseRoute = (p: string) => p.replace(/\{([^}]+)\}/g, ':$1').replace(/(.)\/$/, '$1');

/**
 * Every (method, path) in the router, read from `printRoutes()`'s tree. It also
 * sees routes hidden from the OpenAPI document.
 */
function routerRoutes(tree: string): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    stack.length = depth;
    stack.push(m[2] as string);
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method) out.add(rowKey(method, normaliseRoute(stack.join(''))));
    }
  }
  return out;
}

function assertError(res: { statusCode: number; data: any; body: string }, status: number, code: string, what: string) {
  assert.equal(res.statusCode, status, `${what}: expected ${status} ${code}, got ${res.statusCode} ${res.body}`);
  assert.equal(res.data?.error?.code, code, `${what}: ${res.body}`);
  assert.equal(typeof res.data.error.message, 'string');
}

async function auditHead(h: Harness): Promise<number> {
  const head = await h.ctx.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
  return Number(head.seq);
}

/**
 * Audit entries written after `seq` other than the record of a refusal (legal and
 * authority routes log every refused attempt, `*.refused`): a refused request may be
 * recorded as refused, and must do nothing else.
 */
async function auditedBesidesRefusals(h: Harness, seq: number): Promise<string[]> {
  const rows = await h.ctx.store.db.selectFrom('audit_log').select('action').where('seq', '>', seq).execute();
  return rows.map((r) => r.action).filter((a) => !a.endsWith('.refused'));
}

describeEachStore('access control', (get) => {
  let fx: Fixtures;
  /** Header values that must all be refused with 401 invalid_token. */
  let badHeaders: { label: string; header: string }[];
  const revoked = {} as Record<Role, string>;
  const expired = {} as Record<Role, string>;
  let suspendedAuthority: string;

  before(async () => {
    const h = get();
    const account = buildAccount();
    const ingest = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [account] },
    });
    assert.equal(ingest.statusCode, 200, ingest.body);
    const sessions = await h.call('POST', '/v1/ingest/sessions', {
      token: h.tokens.platform,
      body: { sessions: [buildSession(account.id)] },
    });
    assert.equal(sessions.statusCode, 200, sessions.body);
    const violator = await seedViolator(h);
    const order = async (body: LegalOrderInput, token = h.tokens.authority) => {
      const res = await fileOrder(h, body, token);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.data.status, 'in_review', res.body);
      return res.data.id as string;
    };
    const orderId = await order(buildOrder([{ accountId: violator.accountId }]));
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n', 'latin1');
    const documentOrderId = await order(
      buildOrder([{ accountId: violator.accountId }], {
        courtOrder: { ...buildOrder([]).courtOrder, documentBase64: pdf.toString('base64') },
      }),
    );
    const disclosedOrderId = await order(buildOrder([{ accountId: violator.accountId }]));
    for (const reviewer of [h.tokens.legal, await legalToken(h)]) {
      const res = await review(h, disclosedOrderId, { decision: 'approve' }, reviewer);
      assert.equal(res.statusCode, 200, res.body);
    }
    assert.equal(
      (await h.call('GET', `/v1/legal-requests/${disclosedOrderId}`, { token: h.tokens.legal })).data.status,
      'disclosed',
    );
    // Another authority of the same country, so its order passes the checks like the harness's.
    const other = await issueToken(h, 'authority', { authorityId: await addAuthority(h, { country: 'DE' }) });
    const otherOrderId = await order(buildOrder([{ accountId: violator.accountId }]), other.token);
    const withdrawnOrderId = await order(buildOrder([{ accountId: violator.accountId }]));
    const withdrawn = await h.call('POST', `/v1/legal-requests/${withdrawnOrderId}/withdraw`, {
      token: h.tokens.authority,
    });
    assert.equal(withdrawn.statusCode, 200, withdrawn.body);
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    fx = {
      h,
      accountId: account.id,
      violatorId: violator.accountId,
      orderId,
      withdrawnOrderId,
      documentOrderId,
      disclosedOrderId,
      otherOrderId,
      spareAuthorityId: await addAuthority(h),
      publicJwk: (await authorityKeyPair()).publicJwk,
      rsaJwk: rsa.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
      sessions: {},
      signInUser: await addUser(h, 'moderator').then((u) => ({ username: u.username, password: u.password })),
    };
    for (const role of USER_ROLES) fx.sessions[role] = (await signInAs(h, await addUser(h, role))).cookie;

    for (const role of ALL_ROLES) {
      const r = await issueToken(h, role);
      // Each bad token worked before it went bad, so its state is the only reason for a 401.
      assert.equal((await h.call('GET', '/v1/me', { token: r.token })).statusCode, 200);
      revoked[role] = (await revokedToken(h, role)).token;
      const e = await expiredToken(h, role);
      assert.ok(await authenticate(h.ctx.store.db, e.token, e.expiresAt - 1), 'valid until its expiry');
      expired[role] = e.token;
    }
    const authorityId = await addAuthority(h);
    suspendedAuthority = (await issueToken(h, 'authority', { authorityId })).token;
    assert.equal((await h.call('GET', '/v1/me', { token: suspendedAuthority })).statusCode, 200);
    await setAuthorityStatus(h, authorityId, 'suspended');

    badHeaders = [
      { label: 'garbage token', header: 'Bearer garbage' },
      { label: 'unknown well-formed token', header: `Bearer cus_${crypto.randomBytes(32).toString('base64url')}` },
      { label: 'valid token with a suffix', header: `Bearer ${h.tokens.admin}x` },
      { label: 'empty bearer', header: 'Bearer ' },
      { label: 'basic auth', header: 'Basic dXNlcjpwYXNz' },
      { label: 'token without scheme', header: h.tokens.admin },
    ];
  });

  it('names every role the code knows', () => {
    assert.deepEqual([...ALL_ROLES].sort(), [...ROLES].sort());
  });

  it('has a row for every /v1 operation in the OpenAPI document, and no stale rows', async () => {
    const h = get();
    const res = await h.call('GET', '/docs/json');
    assert.equal(res.statusCode, 200);
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(res.data.paths as Record<string, Record<string, unknown>>)) {
      if (!p.startsWith('/v1/')) continue;
      for (const method of Object.keys(ops)) documented.add(rowKey(method, normaliseRoute(p)));
    }
    const table = new Set(MATRIX.map((r) => rowKey(r.method, r.route)));
    assert.ok(documented.size >= 9, 'the document lists the /v1 routes');
    assert.deepEqual([...documented].filter((k) => !table.has(k)).sort(), [], 'routes without a matrix row');
    assert.deepEqual([...table].filter((k) => !documented.has(k)).sort(), [], 'matrix rows without a route');
  });

  it('has a row for every /v1 route in the router, including routes hidden from the docs', () => {
    const h = get();
    const registered = [...routerRoutes(h.app.printRoutes({ commonPrefix: false }))].filter(
      (k) => k.split(' ')[1]?.startsWith('/v1/') && !k.startsWith('HEAD '),
    );
    const table = new Set(MATRIX.map((r) => rowKey(r.method, r.route)));
    assert.ok(registered.includes('POST /v1/tokens/:id/revoke'), `the router tree was parsed: ${registered}`);
    assert.deepEqual(registered.filter((k) => !table.has(k)).sort(), [], 'routes without a matrix row');
  });

  it("documents each route's roles in OpenAPI exactly as the matrix admits them", async () => {
    const h = get();
    const doc = (await h.call('GET', '/docs/json')).data;
    for (const row of MATRIX) {
      const path = Object.keys(doc.paths).find((p) => normaliseRoute(p) === row.route) as string;
      const op = doc.paths[path][row.method.toLowerCase()];
      for (const status of ['401', '403']) assert.ok(op.responses[status], `${row.route} documents ${status}`);
      if (/Anyone may call this route\./.test(op.description ?? '')) {
        assert.ok(row.anonymous, `${row.method} ${row.route} is documented as public`);
        continue;
      }
      const note = /Roles: ([a-z_, ]+)\./.exec(op.description ?? '');
      assert.ok(note, `${row.method} ${row.route} names its roles`);
      assert.deepEqual((note[1] as string).split(', ').sort(), [...row.roles].sort(), `${row.method} ${row.route}`);
    }
  });

  for (const row of MATRIX) {
    for (const role of ALL_ROLES) {
      const admitted = row.roles.includes(role);
      it(`${row.method} ${row.route} as ${role}: ${admitted ? `${row.ok}` : '403 forbidden, even for bad input'}`, async () => {
        const h = get();
        const token = h.tokens[role];
        if (admitted) {
          const auth = row.signedIn ? { headers: { cookie: fx.sessions[role] as string } } : { token };
          const req = await (row.validAs ? row.validAs(fx, role) : row.valid(fx));
          const res = await h.call(req.method, req.url, { ...auth, body: req.body, rawBody: req.rawBody });
          assert.equal(res.statusCode, row.ok, res.body);
          if (row.route === '/v1/me') assert.equal(res.data.role, role);
          // The bad inputs really are bad: without this, "403 before validation" would prove nothing.
          for (const make of row.invalid) {
            const bad = make(fx);
            const r = await h.call(bad.method, bad.url, { ...auth, body: bad.body, rawBody: bad.rawBody });
            assert.ok(
              [400, 404, 413, 422].includes(r.statusCode),
              `${bad.method} ${bad.url.slice(0, 80)} as ${role}: ${r.statusCode} ${r.body.slice(0, 300)}`,
            );
          }
          return;
        }
        const req = await row.valid(fx);
        const headBefore = await auditHead(h);
        const res = await h.call(req.method, req.url, { token, body: req.body, rawBody: req.rawBody });
        assertError(res, 403, 'forbidden', `${role} on ${row.route}`);
        for (const make of row.invalid) {
          const bad = make(fx);
          const r = await h.call(bad.method, bad.url, { token, body: bad.body, rawBody: bad.rawBody });
          assertError(r, 403, 'forbidden', `${role} with bad input ${bad.url.slice(0, 80)}`);
        }
        // Every write and every personal-data read leaves an audit entry: none means nothing happened.
        assert.deepEqual(await auditedBesidesRefusals(h, headBefore), [], 'a refused request writes nothing');
        if (row.route === '/v1/tokens/:id/revoke') {
          const victim = /\/v1\/tokens\/([^/]+)\/revoke/.exec(req.url)?.[1];
          const stored = await h.ctx.store.db
            .selectFrom('api_tokens')
            .select('revoked_at')
            .where('id', '=', victim as string)
            .executeTakeFirstOrThrow();
          assert.equal(stored.revoked_at, null, 'the token was not revoked');
        }
        await row.unchanged?.(fx, req);
      });
    }

    it(`${row.method} ${row.route} without a usable token: ${row.anonymous ? 'public, but a bad token is 401' : '401, even for bad input'}`, async () => {
      const h = get();
      if (row.anonymous) {
        const req = await row.valid(fx);
        const res = await h.call(req.method, req.url, { body: req.body, rawBody: req.rawBody });
        assert.equal(res.statusCode, row.ok, `a public route without a token: ${res.body}`);
      }
      const requests = [await row.valid(fx), ...row.invalid.map((make) => make(fx))];
      const headBefore = await auditHead(h);
      const admitted = row.roles[0] as Role;
      const cases: { label: string; headers: Record<string, string>; code: string }[] = [
        ...(row.anonymous ? [] : [{ label: 'no token', headers: {}, code: 'unauthenticated' }]),
        ...badHeaders.map((b) => ({ label: b.label, headers: { authorization: b.header }, code: 'invalid_token' })),
        {
          label: `revoked ${admitted} token`,
          headers: { authorization: `Bearer ${revoked[admitted]}` },
          code: 'invalid_token',
        },
        {
          label: `expired ${admitted} token`,
          headers: { authorization: `Bearer ${expired[admitted]}` },
          code: 'invalid_token',
        },
        {
          label: 'token of a suspended authority',
          headers: { authorization: `Bearer ${suspendedAuthority}` },
          code: 'invalid_token',
        },
      ];
      assert.ok(row.roles.length > 0, 'a row admits at least one role');
      for (const c of cases) {
        for (const req of requests) {
          const res = await h.call(req.method, req.url, { headers: c.headers, body: req.body, rawBody: req.rawBody });
          assertError(res, 401, c.code, `${c.label}, ${req.method} ${req.url.slice(0, 80)}`);
        }
      }
      assert.deepEqual(await auditedBesidesRefusals(h, headBefore), [], 'an unauthenticated request writes nothing');
      await row.unchanged?.(fx, requests[0] as Req);
    });
  }

  it('guards the HEAD twin of every GET route like the GET', async () => {
    const h = get();
    for (const row of MATRIX.filter((r) => r.method === 'GET')) {
      const req = await row.valid(fx);
      const anonymous = await h.app.inject({ method: 'HEAD', url: req.url });
      assert.equal(anonymous.statusCode, row.anonymous ? row.ok : 401, `HEAD ${row.route} without a token`);
      for (const role of ALL_ROLES) {
        const own = row.validAs && row.roles.includes(role) ? await row.validAs(fx, role) : req;
        const res = await h.app.inject({
          method: 'HEAD',
          url: own.url,
          headers:
            row.signedIn && row.roles.includes(role)
              ? { cookie: fx.sessions[role] as string }
              : { authorization: `Bearer ${h.tokens[role]}` },
        });
        assert.equal(res.statusCode, row.roles.includes(role) ? row.ok : 403, `HEAD ${row.route} as ${role}`);
      }
    }
  });

  it('guards the trailing-slash spelling of every route like the route itself', async () => {
    const h = get();
    for (const row of MATRIX.filter((r) => !r.anonymous)) {
      const req = await row.valid(fx);
      const [p, q] = req.url.split('?');
      const url = `${p}/${q ? `?${q}` : ''}`;
      const anonymous = await h.call(req.method, url, { body: req.body });
      assert.ok([401, 404].includes(anonymous.statusCode), `${req.method} ${url} without a token: ${anonymous.body}`);
      for (const role of ALL_ROLES.filter((r) => !row.roles.includes(r))) {
        const res = await h.call(req.method, url, { token: h.tokens[role], body: req.body });
        assert.ok([403, 404].includes(res.statusCode), `${req.method} ${url} as ${role}: ${res.body}`);
      }
    }
  });
});

/** An answer in the one error shape of SPEC.md, with a catalogued code and its status. */
function assertCatalogued(res: { statusCode: number; data: any; body: string; headers: Record<string, unknown> }) {
  const code = res.data?.error?.code as string | undefined;
  assert.ok(code !== undefined && Object.hasOwn(ERROR_CATALOG, code), `not the catalog's shape: ${res.body}`);
  assert.equal(res.statusCode, ERROR_CATALOG[code as ErrorCode], res.body);
  assert.ok(res.headers['x-request-id'], 'every answer carries its request id');
}

// Fastify answers these two itself, before routing (so before the auth hook and the error
// handler) unless `frameworkErrors` is set: its own body shape, no x-request-id, no helmet.
describeEachStore('answers the router gives before any route runs', (get) => {
  it('answers an undecodable path in the error shape of the catalog', {}, async () => {
    const h = get();
    const res = await h.call('GET', '/v1/accounts/%E0%A4%A');
    assertCatalogued(res);
    assert.equal(res.statusCode, 400);
  });

  it('answers an over-long path parameter in the error shape of the catalog', {}, async () => {
    const h = get();
    assertCatalogued(await h.call('POST', `/v1/tokens/${'a'.repeat(101)}/revoke`));
    assertCatalogued(await h.call('GET', `/v1/accounts/${'a'.repeat(101)}`, { token: h.tokens.moderator }));
  });

  it('reads back an account whose id is as long as ingest accepts (128 characters)', {}, async () => {
    const h = get();
    const account = buildAccount({ id: `long-${'x'.repeat(123)}` });
    assert.equal(account.id.length, 128);
    const ingest = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [account] },
    });
    assert.equal(ingest.statusCode, 200, ingest.body);
    const res = await h.call('GET', `/v1/accounts/${account.id}`, { token: h.tokens.moderator });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.data.id, account.id);
  });
});
