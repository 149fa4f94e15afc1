import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { CountryCode, DateTime, ExternalId, errors, rolesNote } from '../http/schemas.js';
import { ingestAccounts } from '../accounts/service.js';
import { ingestSessions } from '../sessions/service.js';
import { ingestContent } from '../content/service.js';
import { scanStoredContent } from '../scanning/service.js';
import { markScanned } from '../scanning/jobs.js';
import type { Role } from '../identity/roles.js';

/** Largest ingest batch (SPEC.md); beyond it the answer is 413. */
export const MAX_BATCH = 10_000;

const PLATFORM: readonly Role[] = ['platform'];

const AccountItem = Type.Object(
  {
    id: ExternalId("The platform's account id"),
    phone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'International number; stored as E.164, encrypted' }),
    ),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    country: Type.Optional(CountryCode),
    createdAt: Type.Optional(DateTime('When the account was created on the platform')),
  },
  { additionalProperties: false },
);

const AccountsBody = Type.Object(
  { accounts: Type.Array(AccountItem, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);

const SessionItem = Type.Object(
  {
    accountId: ExternalId("The platform's account id (ingested before)"),
    ip: Type.String({ minLength: 2, maxLength: 64, description: 'IPv4 or IPv6; stored normalised, encrypted' }),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    at: DateTime('When the login or connection happened'),
  },
  { additionalProperties: false },
);

const SessionsBody = Type.Object(
  { sessions: Type.Array(SessionItem, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);

const AccountsResult = Type.Object({
  received: Type.Integer(),
  inserted: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
});

const SessionsResult = Type.Object({
  received: Type.Integer(),
  inserted: Type.Integer(),
  duplicates: Type.Integer({ description: 'Items already stored (re-sent)' }),
});

const ContentItem = Type.Object(
  {
    id: ExternalId("The platform's message or post id"),
    accountId: ExternalId('The author'),
    chatId: Type.Optional(ExternalId('The chat, group or channel')),
    kind: Type.Union([Type.Literal('text'), Type.Literal('image')]),
    text: Type.Optional(
      Type.String({
        maxLength: 1_048_576,
        description:
          'Up to 1 MiB of characters are stored; the scanners read the first `scanning.maxTextChars` (64 Ki by default)',
      }),
    ),
    imageBase64: Type.Optional(Type.String({ maxLength: 7_000_000, pattern: '^[A-Za-z0-9+/]*={0,2}$' })),
    mediaRef: Type.Optional(
      Type.String({ minLength: 1, maxLength: 500, description: "The platform's media reference" }),
    ),
    createdAt: DateTime('When it was posted'),
    public: Type.Optional(Type.Boolean({ description: 'Posted in a public channel or group' })),
    language: Type.Optional(
      Type.String({ pattern: '^[a-z]{2,3}$', description: 'ISO 639 code, when the platform knows it' }),
    ),
  },
  { additionalProperties: false },
);

const ContentBody = Type.Object(
  { items: Type.Array(ContentItem, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false },
);

const Verdict = Type.Object({
  action: Type.Union([Type.Literal('allow'), Type.Literal('review'), Type.Literal('remove')]),
  category: Type.Optional(Type.String()),
  score: Type.Optional(Type.Number()),
  language: Type.Union([Type.String(), Type.Null()]),
  signals: Type.Array(
    Type.Object(
      {
        scanner: Type.String(),
        category: Type.Optional(Type.String()),
        score: Type.Number(),
        shadow: Type.Optional(Type.Boolean()),
        detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      { additionalProperties: true },
    ),
  ),
});

const ContentResult = Type.Object({
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.String({ description: 'inserted, updated or unchanged (then the stored verdict is returned)' }),
      verdict: Type.Optional(Verdict),
    }),
  ),
});

const ContentQuery = Type.Object(
  { async: Type.Boolean({ default: false, description: 'Only enqueue the items for scanning (202)' }) },
  { additionalProperties: false },
);

/** Platform ingest: accounts and login sessions, in atomic, idempotent batches. */
export const ingestRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: Static<typeof AccountsBody> }>(
      '/accounts',
      {
        config: { access: { roles: PLATFORM } },
        schema: {
          tags: ['ingest'],
          summary: 'Upsert accounts (batch of at most 10,000; atomic; idempotent)',
          description: rolesNote(PLATFORM),
          body: AccountsBody,
          response: { 200: AccountsResult, ...errors(400, 413, 422, 503) },
        },
      },
      async (request) => ingestAccounts(ctx.store.db, ctx.cipher, actorOf(request), request.body.accounts),
    );

    app.post<{ Body: Static<typeof SessionsBody> }>(
      '/sessions',
      {
        config: { access: { roles: PLATFORM } },
        schema: {
          tags: ['ingest'],
          summary: 'Record login/connection sessions (batch of at most 10,000; atomic; idempotent)',
          description: rolesNote(PLATFORM),
          body: SessionsBody,
          response: { 200: SessionsResult, ...errors(400, 413, 422, 503) },
        },
      },
      async (request) =>
        ingestSessions(ctx.store.db, ctx.cipher, actorOf(request), request.body.sessions, {
          retentionDays: ctx.config.sessionRetentionDays,
        }),
    );

    app.post<{ Body: Static<typeof ContentBody>; Querystring: Static<typeof ContentQuery> }>(
      '/content',
      {
        config: { access: { roles: PLATFORM } },
        schema: {
          tags: ['ingest'],
          summary: 'Store content items (atomic; idempotent) and answer a verdict per item',
          description: `${rolesNote(PLATFORM)} Each item is stored and queued for scanning in one transaction, then scanned at once: the answer carries a verdict per item (rules, classifier, language). With ?async=true the answer is 202 as soon as the items are stored and queued.`,
          body: ContentBody,
          querystring: ContentQuery,
          response: { 200: ContentResult, 202: ContentResult, ...errors(400, 413, 422, 503) },
        },
      },
      async (request, reply) => {
        // Always queued in the ingest transaction: a crash before the scan below leaves the job for a worker.
        const stored = await ingestContent(ctx.store.db, actorOf(request), request.body.items, Date.now(), {
          enqueueScan: true,
          scanDelayMs: request.query.async ? 0 : 30_000,
        });
        if (request.query.async) return reply.status(202).send({ results: stored });
        const results = [];
        for (const r of stored) {
          const verdict = await scanStoredContent(ctx, r.id);
          await markScanned(ctx.store.db, r.id);
          results.push({ ...r, verdict });
        }
        return { results };
      },
    );
  };
