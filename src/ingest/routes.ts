import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { CountryCode, DateTime, ExternalId, errors, rolesNote } from '../http/schemas.js';
import { ingestAccounts } from '../accounts/service.js';
import { ingestSessions } from '../sessions/service.js';
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
  };
