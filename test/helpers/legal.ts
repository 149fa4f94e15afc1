import crypto from 'node:crypto';
import { type CryptoKey, type JWK, compactDecrypt, compactVerify, createLocalJWKSet } from 'jose';
import type { LegalOrderInput } from '../../src/legal/service.js';
import { createToken } from '../../src/identity/tokens.js';
import type { Role } from '../../src/identity/roles.js';
import { buildAccount, buildSession } from './factories.js';
import { type Harness, TEST_ACTOR } from './harness.js';
import { decideOk, type Json, reportedContent } from './notice-action.js';

const DAY = 86_400_000;

/** A valid production order against `targets` (by account id), overridable field by field. */
export function buildOrder(
  targets: LegalOrderInput['targets'],
  overrides: Partial<LegalOrderInput> = {},
): LegalOrderInput {
  const now = Date.now();
  return {
    type: 'production',
    caseReference: `AZ-${crypto.randomBytes(3).toString('hex')}`,
    issuingAuthority: { name: 'Test Police', country: 'DE' },
    legalBasis: '§ 100g StPO',
    courtOrder: {
      reference: 'AG Berlin 1 Gs 23/26',
      issuedBy: 'Amtsgericht Berlin',
      issuedAt: new Date(now - DAY).toISOString(),
    },
    offence: { category: 'illegal_drugs', description: 'Sale of narcotics through channels', provisions: '§ 29 BtMG' },
    targets,
    data: ['ip_addresses', 'phone_number'],
    period: { from: new Date(now - 30 * DAY).toISOString(), to: new Date(now).toISOString() },
    ...overrides,
  };
}

export interface Violator {
  accountId: string;
  phone: string;
  username: string;
  /** The sessions ingested, oldest first. */
  sessions: Array<{ ip: string; port: number; at: string }>;
}

/**
 * An account (country DE by default, with a phone number and sessions over the last
 * `days` days) with one confirmed violation of `category`: content reported and removed
 * by a moderator. `violation: false` leaves the account without one.
 */
export async function seedViolator(
  h: Harness,
  options: {
    category?: string;
    country?: string;
    phone?: string;
    sessions?: number;
    days?: number;
    violation?: boolean;
  } = {},
): Promise<Violator> {
  const account = buildAccount({
    country: options.country ?? 'DE',
    ...(options.phone ? { phone: options.phone } : {}),
  });
  const res = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [account] } });
  if (res.statusCode !== 200) throw new Error(`account ingest: ${res.statusCode} ${res.body}`);
  const count = options.sessions ?? 5;
  const days = options.days ?? 60;
  const sessions = Array.from({ length: count }, (_, i) => {
    const s = buildSession(account.id, {
      at: new Date(Date.now() - Math.round(((i + 0.5) * days * DAY) / count)).toISOString(),
    });
    return { ...s, port: s.port ?? 40000 + i };
  });
  const ingest = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
  if (ingest.statusCode !== 200) throw new Error(`session ingest: ${ingest.statusCode} ${ingest.body}`);
  if (options.violation !== false) await confirmViolation(h, account.id, options.category);
  return {
    accountId: account.id,
    phone: account.phone!,
    username: account.username!,
    sessions: sessions
      .map((s) => ({ ip: s.ip, port: s.port, at: new Date(s.at).toISOString() }))
      .sort((a, b) => a.at.localeCompare(b.at)),
  };
}

/** Gives an ingested account a confirmed violation of `category`: content reported and removed by a moderator. */
export async function confirmViolation(h: Harness, accountId: string, category = 'illegal_drugs'): Promise<void> {
  const { caseId } = await reportedContent(h, { content: { accountId }, category: category as never });
  await decideOk(h, caseId, { category: category as never, actions: [{ type: 'remove_content' }] });
}

export interface FiledOrder {
  id: string;
  period: { from: string; to: string };
}

/**
 * A production order of the harness authority naming `accountIds` (ingested accounts in DE;
 * each is given a confirmed violation first, so the checks include it), approved by two
 * members of the legal team (and so disclosed) unless `approve: false` leaves it in review:
 * a read of personal data needs an approved order. Its period runs from 90 days ago to an hour ahead unless given: wide enough for the
 * reads of personal data a test makes under it.
 */
export async function orderAgainst(
  h: Harness,
  accountIds: string[],
  options: { period?: { from: string; to: string }; approve?: boolean } = {},
): Promise<FiledOrder> {
  for (const accountId of accountIds) await confirmViolation(h, accountId);
  const period = options.period ?? {
    from: new Date(Date.now() - 90 * DAY).toISOString(),
    to: new Date(Date.now() + 3_600_000).toISOString(),
  };
  const res = await fileOrder(
    h,
    buildOrder(
      accountIds.map((accountId) => ({ accountId })),
      { period },
    ),
  );
  if (res.statusCode !== 201 || res.data.status !== 'in_review') {
    throw new Error(`order not in review: ${res.statusCode} ${res.body}`);
  }
  const id = res.data.id as string;
  if (options.approve ?? true) await approveOrder(h, id);
  return { id, period };
}

/** The two-person review's two approvals (the fixture's legal token and a second member's), which disclose it. */
export async function approveOrder(h: Harness, id: string): Promise<void> {
  for (const token of [h.tokens.legal, await legalToken(h)]) {
    const r = await review(h, id, { decision: 'approve' }, token);
    if (r.statusCode !== 200) throw new Error(`approval refused: ${r.statusCode} ${r.body}`);
  }
}

/** The query of `GET /v1/accounts/:id/personal-data`: the order, the period [from, to) and a purpose. */
export function personalDataUrl(
  accountId: string,
  query: { orderId: string; from: string | number; to: string | number; purpose?: string },
): string {
  const iso = (t: string | number) => (typeof t === 'number' ? new Date(t).toISOString() : t);
  const params = new URLSearchParams({
    from: iso(query.from),
    to: iso(query.to),
    orderId: query.orderId,
    purpose: query.purpose ?? 'check for the order',
  });
  return `/v1/accounts/${encodeURIComponent(accountId)}/personal-data?${params}`;
}

/** POST /v1/legal-requests as the harness's authority (or another token). */
export async function fileOrder(h: Harness, body: unknown, token = h.tokens.authority): Promise<Json> {
  return h.call('POST', '/v1/legal-requests', { token, body });
}

export async function review(h: Harness, id: string, body: unknown, token: string): Promise<Json> {
  return h.call('POST', `/v1/legal-requests/${id}/reviews`, { token, body });
}

/** A further token of a legal role (a second or third member of the legal team). */
export async function legalToken(h: Harness, role: Role = 'legal'): Promise<string> {
  const created = await createToken(h.ctx.store.db, TEST_ACTOR, {
    role,
    name: `${role} ${crypto.randomBytes(3).toString('hex')}`,
  });
  return created.token;
}

/**
 * Opens a package as the authority would: decrypts the JWE with its private key and
 * verifies the JWS inside against the platform's published JWKS. Throws on any failure.
 */
export async function openPackage(h: Harness, jwe: string, privateKey: CryptoKey = h.authorityKey.privateKey) {
  const { plaintext, protectedHeader: jweHeader } = await compactDecrypt(jwe, privateKey);
  const jwks = await h.call('GET', '/.well-known/custos-signing-keys.json');
  const keys = createLocalJWKSet(jwks.data as { keys: JWK[] });
  const { payload, protectedHeader: jwsHeader } = await compactVerify(new TextDecoder().decode(plaintext), keys);
  return { jweHeader, jwsHeader, payload: JSON.parse(new TextDecoder().decode(payload)) };
}
