import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import YAML from 'yaml';
import type { AccountInput } from '../../src/accounts/service.js';
import type { ContentInput } from '../../src/content/service.js';
import type { DecisionInput } from '../../src/decisions/service.js';
import { createToken } from '../../src/identity/tokens.js';
import { DEFAULT_POLICY_FILE } from '../../src/policy/policy.js';
import type { ReportInput } from '../../src/reports/service.js';
import { buildAccount } from './factories.js';
import { type Harness, TEST_ACTOR } from './harness.js';

/** Factories and shortcuts for the notice-and-action suites (reports, queue, decisions, appeals, webhooks). */

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${crypto.randomBytes(3).toString('hex')}`;

export type Json = LightMyRequestResponse & { data: any };

export function buildContent(accountId: string, overrides: Partial<ContentInput> = {}): ContentInput {
  return {
    id: `msg-${unique()}`,
    accountId,
    chatId: `chat-${unique()}`,
    kind: 'text',
    text: 'Selling things you should not buy, DM me',
    createdAt: new Date(Date.now() - 3_600_000).toISOString(),
    ...overrides,
  };
}

export function buildDecision(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    actions: [{ type: 'remove_content' }],
    category: 'illegal_drugs',
    ground: 'illegal',
    explanation: 'The message offers controlled substances for sale.',
    ...overrides,
  };
}

/** A random private address, so public reports in one suite do not share a rate limit. */
export function randomAddress(): string {
  return `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${1 + crypto.randomInt(254)}`;
}

export async function seedAccount(h: Harness, overrides: Partial<AccountInput> = {}): Promise<AccountInput> {
  const account = buildAccount(overrides);
  const res = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [account] } });
  if (res.statusCode !== 200) throw new Error(`account ingest failed: ${res.statusCode} ${res.body}`);
  return account;
}

/** Stores a content item (and, unless `accountId` is given, a fresh author) through the ingest API. */
export async function seedContent(
  h: Harness,
  overrides: Partial<ContentInput> = {},
): Promise<{ account: string; content: ContentInput }> {
  const account = overrides.accountId ?? (await seedAccount(h)).id;
  const content = buildContent(account, overrides);
  const res = await h.call('POST', '/v1/ingest/content', { token: h.tokens.platform, body: { items: [content] } });
  if (res.statusCode !== 200) throw new Error(`content ingest failed: ${res.statusCode} ${res.body}`);
  return { account, content };
}

export interface ReportOptions {
  /** A token (platform or trusted flagger); absent for a public report. */
  token?: string | null;
  /** Client address of the request (public reports are limited per address); random when absent. */
  remoteAddress?: string;
}

/** POST /v1/reports through inject, with a chosen client address (h.call always uses 127.0.0.1). */
export async function fileReport(h: Harness, body: unknown, options: ReportOptions = {}): Promise<Json> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/reports',
    remoteAddress: options.remoteAddress ?? randomAddress(),
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    payload: JSON.stringify(body),
  });
  return Object.assign(res, { data: res.body ? JSON.parse(res.body) : undefined });
}

/** A platform report on behalf of a (fresh, unless named) reporting user; throws unless 201. */
export async function reportAs(
  h: Harness,
  subject: ReportInput['subject'],
  category: ReportInput['category'] = 'illegal_drugs',
  reporterAccountId = `reporter-${unique()}`,
): Promise<{ id: string; caseId: string; accessKey: string }> {
  const res = await fileReport(
    h,
    { subject, category, reporter: { accountId: reporterAccountId } },
    { token: h.tokens.platform },
  );
  if (res.statusCode !== 201) throw new Error(`report failed: ${res.statusCode} ${res.body}`);
  return res.data;
}

/** Content with one report on it: its author, the content and the open case. */
export async function reportedContent(
  h: Harness,
  options: { content?: Partial<ContentInput>; category?: ReportInput['category'] } = {},
): Promise<{ account: string; content: ContentInput; caseId: string; reportId: string; accessKey: string }> {
  const { account, content } = await seedContent(h, options.content);
  const report = await reportAs(h, { contentId: content.id }, options.category);
  return { account, content, caseId: report.caseId, reportId: report.id, accessKey: report.accessKey };
}

export async function decide(
  h: Harness,
  caseId: string,
  decision: Partial<DecisionInput> = {},
  token: string = h.tokens.moderator,
): Promise<Json> {
  return h.call('POST', `/v1/cases/${caseId}/decisions`, { token, body: buildDecision(decision) });
}

/** Decides and insists on 201; returns the decision. */
export async function decideOk(
  h: Harness,
  caseId: string,
  decision: Partial<DecisionInput> = {},
  token: string = h.tokens.moderator,
): Promise<any> {
  const res = await decide(h, caseId, decision, token);
  if (res.statusCode !== 201) throw new Error(`decision failed: ${res.statusCode} ${res.body}`);
  return res.data;
}

/** Another token of `role` (e.g. a second moderator), with its token id. */
export async function extraToken(
  h: Harness,
  role: 'moderator' | 'trusted_flagger' | 'platform' = 'moderator',
): Promise<{ id: string; token: string }> {
  const created = await createToken(h.ctx.store.db, TEST_ACTOR, { role, name: `extra ${role} ${unique()}` });
  return { id: created.id, token: created.token };
}

/** The token id behind a token (decisions and claims name moderators by token id). */
export async function tokenId(h: Harness, token: string): Promise<string> {
  const me = await h.call('GET', '/v1/me', { token });
  if (me.statusCode !== 200) throw new Error(`GET /v1/me: ${me.statusCode} ${me.body}`);
  return me.data.tokenId;
}

/** Every case in the queue matching `query`, following the cursor (as a moderator unless `token` says otherwise). */
export async function allCases(h: Harness, query = 'status=open', token = h.tokens.moderator): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const url: string = `/v1/cases?${query}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await h.call('GET', url, { token });
    if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
    out.push(...res.data.cases);
    cursor = res.data.next;
    if (!cursor) break;
  }
  return out;
}

/**
 * Writes a copy of the shipped policy with `moderation` settings replaced, for
 * suites that need tiny limits. The file lives in a fresh temporary folder.
 */
export function writePolicy(moderation: Record<string, unknown>): string {
  const doc = YAML.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8')) as {
    moderation: Record<string, unknown> & { reports: Record<string, unknown>; strikes: Record<string, unknown> };
  };
  const { reports, strikes, ...rest } = moderation as {
    reports?: Record<string, unknown>;
    strikes?: Record<string, unknown>;
  };
  doc.moderation = {
    ...doc.moderation,
    ...rest,
    reports: { ...doc.moderation.reports, ...reports },
    strikes: { ...doc.moderation.strikes, ...strikes },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-policy-'));
  const file = path.join(dir, 'policy.yaml');
  fs.writeFileSync(file, YAML.stringify(doc));
  return file;
}
