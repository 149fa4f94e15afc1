import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { ExternalId, errors, rolesNote } from '../http/schemas.js';
import { CATEGORY_CODES } from '../policy/policy.js';
import type { Role } from '../identity/roles.js';
import { fileReport, reportStatus } from './service.js';

const REPORTERS: readonly Role[] = ['platform', 'trusted_flagger'];

export const CategorySchema = Type.Union(
  CATEGORY_CODES.map((c) => Type.Literal(c)),
  { description: 'A category of the taxonomy' },
);

const Body = Type.Object(
  {
    subject: Type.Union([
      Type.Object({ contentId: ExternalId('Reported content') }, { additionalProperties: false }),
      Type.Object({ accountId: ExternalId('Reported account') }, { additionalProperties: false }),
    ]),
    category: CategorySchema,
    explanation: Type.Optional(Type.String({ maxLength: 5000 })),
    reporter: Type.Optional(
      Type.Object(
        {
          accountId: Type.Optional(ExternalId("The reporting user's account (platform reports)")),
          email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Receipt = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  status: Type.Literal('open'),
  accessKey: Type.String({ description: 'Shown once: read the outcome with it' }),
});

const StatusParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const StatusQuery = Type.Object(
  { accessKey: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

/** Notice and action, step one: anyone reports; the reporter follows the outcome with an access key. */
export const reportRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: Static<typeof Body> }>(
      '',
      {
        config: { access: { roles: REPORTERS, anonymous: true } },
        schema: {
          tags: ['reports'],
          summary: 'Report content or an account',
          description: `${rolesNote(REPORTERS)} Callers without a token are admitted too: public reports, limited per client address and per subject.`,
          security: [{}, { bearer: [] }],
          body: Body,
          response: { 201: Receipt, ...errors(400, 404, 422, 429) },
        },
      },
      async (request, reply) => {
        const receipt = await fileReport(ctx, actorOf(request), request.body as never, request.ip);
        return reply.status(201).send(receipt);
      },
    );

    app.get<{ Params: Static<typeof StatusParams>; Querystring: Static<typeof StatusQuery> }>(
      '/:id',
      {
        config: { access: 'public' },
        schema: {
          tags: ['reports'],
          summary: "A report's status and outcome, for the holder of its access key",
          description: rolesNote('public'),
          security: [{}],
          params: StatusParams,
          querystring: StatusQuery,
          response: {
            200: Type.Object({
              id: Type.String(),
              status: Type.String(),
              outcome: Type.Union([Type.String(), Type.Null()]),
              category: Type.String(),
              createdAt: Type.String(),
              resolvedAt: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errors(404),
          },
        },
      },
      async (request) => reportStatus(ctx, request.params.id, request.query.accessKey),
    );
  };
