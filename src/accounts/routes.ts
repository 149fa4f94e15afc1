import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { ValidationError } from '../errors.js';
import { scrubPersonalData } from '../logging.js';
import { actorOf } from '../http/auth.js';
import { DateTime, ExternalId, errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { auditRefusals } from '../legal/refusals.js';
import { readPersonalData } from './personal-data.js';
import { getAccount } from './service.js';
import { listViolations } from '../violations/service.js';

const STAFF: readonly Role[] = ['moderator', 'legal', 'legal_senior', 'admin'];
const VIOLATION_READERS: readonly Role[] = ['moderator', 'legal', 'legal_senior'];
const LEGAL: readonly Role[] = ['legal', 'legal_senior'];

/** Longest period one personal-data read may cover (the policy maximum for orders). */
const MAX_PERIOD_MS = 366 * 86_400_000;

const Params = Type.Object({ id: ExternalId('Account id') }, { additionalProperties: false });

const AccountView = Type.Object({
  id: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  country: Type.Union([Type.String(), Type.Null()]),
  hasPhone: Type.Boolean(),
  phoneCountry: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Union([Type.String(), Type.Null()]),
  firstSeenAt: Type.String(),
  updatedAt: Type.String(),
  status: Type.String(),
  suspendedUntil: Type.Union([Type.String(), Type.Null()]),
});

const Violations = Type.Object({
  accountId: Type.String(),
  activeStrikes: Type.Integer(),
  violations: Type.Array(
    Type.Object({
      id: Type.String(),
      decisionId: Type.String(),
      category: Type.String(),
      ground: Type.String(),
      at: Type.String(),
      strikeExpiresAt: Type.String(),
    }),
  ),
});

const PersonalDataQuery = Type.Object(
  {
    from: DateTime('Start of the period (inclusive)'),
    to: DateTime('End of the period (exclusive)'),
    orderId: ExternalId(
      'The legal request (order) this read serves: not rejected or withdrawn, naming this account among its included targets, its period covering [from, to)',
    ),
    purpose: Type.String({
      minLength: 5,
      maxLength: 500,
      description: 'Why the data is read, beyond the order; written to the audit log',
    }),
  },
  { additionalProperties: false },
);

const PersonalDataView = Type.Object({
  accountId: Type.String(),
  categories: Type.Array(Type.Union([Type.Literal('phone_number'), Type.Literal('ip_addresses')]), {
    description: 'The data the order covers, as its review left it: only these are read and returned',
  }),
  phoneNumber: Type.Union([Type.String(), Type.Null()], {
    description: 'Null when the account has none or the order does not cover phone numbers',
  }),
  period: Type.Object({ from: Type.String(), to: Type.String() }),
  sessions: Type.Array(
    Type.Object({ ip: Type.String(), port: Type.Union([Type.Integer(), Type.Null()]), at: Type.String() }),
  ),
});

export const accountRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: Static<typeof Params> }>(
      '/:id',
      {
        config: { access: { roles: STAFF } },
        schema: {
          tags: ['accounts'],
          summary: 'An account, without its personal data',
          description: rolesNote(STAFF),
          params: Params,
          response: { 200: AccountView, ...errors(404) },
        },
      },
      async (request) => getAccount(ctx.store.db, request.params.id),
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/:id/violations',
      {
        config: { access: { roles: VIOLATION_READERS } },
        schema: {
          tags: ['accounts'],
          summary: 'Confirmed violations (enforced, not overturned) and active strikes',
          description: rolesNote(VIOLATION_READERS),
          params: Params,
          response: { 200: Violations, ...errors(404) },
        },
      },
      async (request) => listViolations(ctx, request.params.id),
    );

    app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof PersonalDataQuery> }>(
      '/:id/personal-data',
      {
        config: { access: { roles: LEGAL } },
        // A refused read of personal data is recorded like a refused legal request: someone tried.
        onError: auditRefusals(ctx, 'personal_data.refused'),
        schema: {
          tags: ['accounts'],
          summary: "An account's phone number and sessions in a period, for a legal order (every read is audited)",
          description: `${rolesNote(LEGAL)} Every read needs a lawful reason: \`orderId\` names a legal request that its review has approved (approved or disclosed: not in review, not a preservation order, not rejected or withdrawn), one of whose included targets is this account, and whose period covers [from, to). Only the data the order covers, as its review left it (\`categories\`), is read and returned. Otherwise 422 with the problem at \`/querystring/orderId\`: \`unknown_order\`, \`order_closed\`, \`order_not_approved\`, \`not_a_target\` or \`outside_order_period\`; the order is checked before the account, so a refusal says nothing about whether the account exists. A refused read returns nothing and is audited as \`personal_data.refused\` (status and codes, never the values); an answered read is audited as \`personal_data.read\` with the order id, the purpose, the period and the number of records.`,
          params: Params,
          querystring: PersonalDataQuery,
          response: { 200: PersonalDataView, ...errors(404, 422) },
        },
      },
      async (request) => {
        const from = Date.parse(request.query.from);
        const to = Date.parse(request.query.to);
        if (scrubPersonalData(request.query.purpose) !== request.query.purpose) {
          // The purpose is kept forever in the append-only audit log.
          throw new ValidationError([
            {
              path: '/querystring/purpose',
              code: 'personal_data_in_purpose',
              message: 'describe the purpose without phone numbers or IP addresses',
            },
          ]);
        }
        if (!(from < to) || to - from > MAX_PERIOD_MS) {
          throw new ValidationError([
            { path: '/querystring/to', code: 'invalid_period', message: 'to must follow from, at most 366 days later' },
          ]);
        }
        return readPersonalData(ctx.store.db, ctx.cipher, actorOf(request), {
          accountId: request.params.id,
          orderId: request.query.orderId,
          from,
          to,
          purpose: request.query.purpose,
        });
      },
    );
  };
