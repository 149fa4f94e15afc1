import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { DateTime, errors, rolesNote } from '../http/schemas.js';
import { ROLES, type Role } from './roles.js';
import { createToken, listTokens, revokeToken } from './tokens.js';

const ADMIN: readonly Role[] = ['admin'];

const TokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  authorityId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

const CreateBody = Type.Object(
  {
    role: Type.Union(
      ROLES.map((r) => Type.Literal(r)),
      { description: 'One role per token' },
    ),
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Who or what holds the token' }),
    authorityId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Required for role authority' }),
    ),
    expiresAt: Type.Optional(DateTime('When the token stops working')),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** API tokens: created (shown once), listed and revoked by admins. */
export const tokenRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: Static<typeof CreateBody> }>(
      '',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['identity'],
          summary: 'Create an API token (the token is shown once)',
          description: rolesNote(ADMIN),
          body: CreateBody,
          response: {
            201: Type.Object({ id: Type.String(), token: Type.String(), tokenInfo: TokenView }),
            ...errors(400, 422),
          },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const created = await createToken(ctx.store.db, actorOf(request), {
          role: b.role,
          name: b.name,
          authorityId: b.authorityId ?? null,
          expiresAt: b.expiresAt ? Date.parse(b.expiresAt) : null,
        });
        return reply.status(201).send({ id: created.id, token: created.token, tokenInfo: created.view });
      },
    );

    app.get(
      '',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['identity'],
          summary: 'List tokens (never their secret)',
          description: rolesNote(ADMIN),
          response: { 200: Type.Object({ tokens: Type.Array(TokenView) }), ...errors() },
        },
      },
      async () => ({ tokens: await listTokens(ctx.store.db) }),
    );

    app.post<{ Params: Static<typeof Params> }>(
      '/:id/revoke',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['identity'],
          summary: 'Revoke a token; it stops working at once',
          description: rolesNote(ADMIN),
          params: Params,
          response: { 200: TokenView, ...errors(404) },
        },
      },
      async (request) => revokeToken(ctx.store.db, actorOf(request), request.params.id),
    );
  };

/** Who the presented token belongs to; lets clients check a token and its role. */
export const meRoute = (): FastifyPluginAsync => async (app) => {
  app.get(
    '',
    {
      config: { access: { roles: ROLES } },
      schema: {
        tags: ['identity'],
        summary: 'The calling token: its id, name, role and authority',
        description: rolesNote(ROLES),
        response: {
          200: Type.Object({
            tokenId: Type.String(),
            name: Type.String(),
            role: Type.String(),
            authorityId: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors(),
        },
      },
    },
    async (request) => request.principal,
  );
};
