import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { DateTime, errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { CategorySchema } from '../reports/routes.js';
import { fileAppeal } from '../appeals/service.js';
import { AppealView } from '../appeals/routes.js';
import { getDecision, getStatement } from './service.js';
import { ACTION_TYPES } from './statement.js';

const READERS: readonly Role[] = ['moderator', 'auditor', 'platform'];
const PLATFORM: readonly Role[] = ['platform'];

export const DecisionSchema = Type.Object(
  {
    actions: Type.Array(
      Type.Object(
        {
          type: Type.Union(ACTION_TYPES.map((t) => Type.Literal(t))),
          until: Type.Optional(DateTime('End of a suspension')),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 6 },
    ),
    category: CategorySchema,
    ground: Type.Union([Type.Literal('illegal'), Type.Literal('terms')]),
    explanation: Type.String({
      minLength: 10,
      maxLength: 5000,
      description: 'Facts and reasons; shown to the account',
    }),
    legalGround: Type.Optional(
      Type.String({ minLength: 3, maxLength: 500, description: 'Statute relied on (illegal ground)' }),
    ),
    addToLocalBank: Type.Optional(
      Type.Boolean({
        description:
          'When an image is removed: add its hash to the `local-confirmed` bank, so a re-upload is caught (default true)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DecisionView = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  subject: Type.Object({ type: Type.String(), id: Type.String() }),
  accountId: Type.String(),
  actions: Type.Array(Type.Object({ type: Type.String(), until: Type.Optional(Type.String()) })),
  category: Type.String(),
  ground: Type.String(),
  explanation: Type.String(),
  decidedBy: Type.String(),
  automation: Type.String(),
  policyVersion: Type.String(),
  status: Type.String(),
  createdAt: Type.String(),
  reversedAt: Type.Union([Type.String(), Type.Null()]),
});

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const AppealBody = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 10000 }) },
  { additionalProperties: false },
);

export type DecisionBody = Static<typeof DecisionSchema>;

export const decisionRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: Static<typeof Params> }>(
      '/:id',
      {
        config: { access: { roles: READERS } },
        schema: {
          tags: ['decisions'],
          summary: 'A decision',
          description: rolesNote(READERS),
          params: Params,
          response: { 200: DecisionView, ...errors(404) },
        },
      },
      async (request) => getDecision(ctx, request.params.id),
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/:id/statement',
      {
        config: { access: { roles: READERS } },
        schema: {
          tags: ['decisions'],
          summary: 'The DSA statement of reasons (Transparency Database fields and values)',
          description: rolesNote(READERS),
          params: Params,
          response: {
            200: Type.Object({
              decisionId: Type.String(),
              policyVersion: Type.String(),
              statement: Type.Record(Type.String(), Type.Unknown()),
            }),
            ...errors(404),
          },
        },
      },
      async (request) => getStatement(ctx, request.params.id),
    );

    app.post<{ Params: Static<typeof Params>; Body: Static<typeof AppealBody> }>(
      '/:id/appeals',
      {
        config: { access: { roles: PLATFORM } },
        schema: {
          tags: ['appeals'],
          summary: "File the affected account's appeal against a decision",
          description: rolesNote(PLATFORM),
          params: Params,
          body: AppealBody,
          response: { 201: AppealView, ...errors(400, 404, 409, 422) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await fileAppeal(ctx, actorOf(request), request.params.id, request.body.text)),
    );
  };
