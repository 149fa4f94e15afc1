import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { listAppeals, resolveAppeal } from './service.js';

const MODERATORS: readonly Role[] = ['moderator'];

export const AppealView = Type.Object({
  id: Type.String(),
  decisionId: Type.String(),
  accountId: Type.String(),
  text: Type.String(),
  status: Type.String(),
  decidedBy: Type.String(),
  filedAt: Type.String(),
  resolvedBy: Type.Union([Type.String(), Type.Null()]),
  resolution: Type.Union([Type.String(), Type.Null()]),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
});

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const Query = Type.Object(
  {
    status: Type.Union([Type.Literal('open'), Type.Literal('upheld'), Type.Literal('overturned')], { default: 'open' }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
const ResolveBody = Type.Object(
  {
    outcome: Type.Union([Type.Literal('upheld'), Type.Literal('overturned')]),
    explanation: Type.String({ minLength: 10, maxLength: 5000 }),
  },
  { additionalProperties: false },
);

export const appealRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: Static<typeof Query> }>(
      '',
      {
        config: { access: { roles: MODERATORS } },
        schema: {
          tags: ['appeals'],
          summary: 'Appeals on decisions made by other moderators, oldest first',
          description: rolesNote(MODERATORS),
          querystring: Query,
          response: { 200: Type.Object({ appeals: Type.Array(AppealView) }), ...errors(422) },
        },
      },
      async (request) => ({
        appeals: await listAppeals(ctx, actorOf(request), request.query.status, request.query.limit),
      }),
    );

    app.post<{ Params: Static<typeof Params>; Body: Static<typeof ResolveBody> }>(
      '/:id/resolve',
      {
        config: { access: { roles: MODERATORS } },
        schema: {
          tags: ['appeals'],
          summary: 'Uphold or overturn (a moderator other than the decider)',
          description: rolesNote(MODERATORS),
          params: Params,
          body: ResolveBody,
          response: { 200: AppealView, ...errors(400, 404, 409, 422) },
        },
      },
      async (request) => resolveAppeal(ctx, actorOf(request), request.params.id, request.body),
    );
  };
