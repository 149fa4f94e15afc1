import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { CategorySchema } from '../reports/routes.js';
import { DecisionSchema, DecisionView } from '../decisions/routes.js';
import { decideCase, decideCases } from '../decisions/service.js';
import { caseImage } from './image.js';
import { queueScopeOf } from './restricted.js';
import { claimCase, getCaseDetail, listCases, releaseCase } from './service.js';

/** Moderators; admins and restricted reviewers too, each limited to their queues (restricted.ts). */
const MODERATORS: readonly Role[] = ['moderator', 'admin', 'restricted_reviewer'];

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

const Query = Type.Object(
  {
    status: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open' }),
    queue: Type.Optional(Type.String({ pattern: '^[a-z_]{1,32}$' })),
    category: Type.Optional(CategorySchema),
    language: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}$' })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const ImageQuery = Type.Object(
  { reveal: Type.Boolean({ default: false, description: 'The image itself instead of a blurred preview; audited' }) },
  { additionalProperties: false },
);

const CaseSummary = Type.Object({
  id: Type.String(),
  subject: Type.Object({ type: Type.String(), id: Type.String() }),
  accountId: Type.String(),
  status: Type.String(),
  queue: Type.String(),
  category: Type.String(),
  language: Type.Union([Type.String(), Type.Null()]),
  public: Type.Boolean(),
  priority: Type.Number(),
  reportCount: Type.Integer(),
  reporterCount: Type.Integer(),
  trustedFlagged: Type.Boolean(),
  proposedAction: Type.Union([Type.String(), Type.Null()]),
  claim: Type.Union([Type.Object({ by: Type.String(), until: Type.String() }), Type.Null()]),
  decisionId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  closedAt: Type.Union([Type.String(), Type.Null()]),
});

const CaseDetail = Type.Intersect([
  CaseSummary,
  Type.Object({
    content: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    account: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    reports: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    signals: Type.Array(Type.Unknown()),
    history: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    violations: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  }),
]);

const BulkBody = Type.Object(
  {
    caseIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500 }),
    decision: DecisionSchema,
  },
  { additionalProperties: false },
);

/** The moderation queue: list, inspect, claim, decide (one case or many). */
export const caseRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    const access = { access: { roles: MODERATORS } };
    app.get<{ Querystring: Static<typeof Query> }>(
      '',
      {
        config: access,
        schema: {
          tags: ['cases'],
          summary: 'The queue, highest priority first',
          description: rolesNote(MODERATORS),
          querystring: Query,
          response: {
            200: Type.Object({ cases: Type.Array(CaseSummary), next: Type.Union([Type.String(), Type.Null()]) }),
            ...errors(422),
          },
        },
      },
      async (request) => listCases(ctx.store.db, { ...request.query, scope: queueScopeOf(actorOf(request)) }),
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/:id',
      {
        config: access,
        schema: {
          tags: ['cases'],
          summary: 'A case: subject, reports, signals, history, the account’s violations',
          description: rolesNote(MODERATORS),
          params: Params,
          response: { 200: CaseDetail, ...errors(404) },
        },
      },
      async (request) => getCaseDetail(ctx, actorOf(request), request.params.id),
    );

    app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof ImageQuery> }>(
      '/:id/image',
      {
        config: access,
        schema: {
          tags: ['cases'],
          summary: "The case's image: a blurred preview, or with reveal=true the image itself (audited)",
          description: `${rolesNote(MODERATORS)} Restricted-queue cases: admin and restricted_reviewer only.`,
          params: Params,
          querystring: ImageQuery,
          response: { ...errors(404, 422) },
        },
      },
      async (request, reply) => {
        const image = await caseImage(ctx, actorOf(request), request.params.id, request.query.reveal);
        return reply
          .header('content-type', image.contentType)
          .header('cache-control', 'no-store')
          .header('content-disposition', 'inline')
          .send(image.body);
      },
    );

    for (const [path, fn, summary] of [
      ['/:id/claim', claimCase, 'Claim a case (exclusive, expiring)'],
      ['/:id/release', releaseCase, 'Give a claim up'],
    ] as const) {
      app.post<{ Params: Static<typeof Params> }>(
        path,
        {
          config: access,
          schema: {
            tags: ['cases'],
            summary,
            description: rolesNote(MODERATORS),
            params: Params,
            response: { 200: CaseSummary, ...errors(404, 409) },
          },
        },
        async (request) => fn(ctx, actorOf(request), request.params.id),
      );
    }

    app.post<{ Params: Static<typeof Params>; Body: Static<typeof DecisionSchema> }>(
      '/:id/decisions',
      {
        config: access,
        schema: {
          tags: ['cases'],
          summary: 'Decide a case: enforce, record the violation, resolve its reports, close it',
          description: rolesNote(MODERATORS),
          params: Params,
          body: DecisionSchema,
          response: { 201: DecisionView, ...errors(400, 404, 409, 422) },
        },
      },
      async (request, reply) => {
        const decision = await decideCase(ctx, actorOf(request), request.params.id, request.body);
        return reply.status(201).send(decision);
      },
    );

    app.post<{ Body: Static<typeof BulkBody> }>(
      '/bulk-decisions',
      {
        config: access,
        schema: {
          tags: ['cases'],
          summary: 'Decide many cases alike; each case succeeds or fails on its own',
          description: rolesNote(MODERATORS),
          body: BulkBody,
          response: {
            200: Type.Object({
              results: Type.Array(
                Type.Object({
                  caseId: Type.String(),
                  status: Type.Integer(),
                  decisionId: Type.Optional(Type.String()),
                  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
                }),
              ),
            }),
            ...errors(400, 413, 422),
          },
        },
      },
      async (request) => ({
        results: await decideCases(ctx, actorOf(request), request.body.caseIds, request.body.decision),
      }),
    );
  };
