import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { CountryCode, DateTime, errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { createToken } from '../identity/tokens.js';
import { auditRefusals } from '../legal/refusals.js';
import { AUTHORITY_KINDS, createAuthority, getAuthority, listAuthorities, setAuthorityStatus } from './service.js';

const ADMIN: readonly Role[] = ['admin'];
const READERS: readonly Role[] = ['admin', 'legal', 'legal_senior'];

const AuthorityView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  country: Type.String(),
  kind: Type.String(),
  contactEmail: Type.String(),
  publicJwk: Type.Object({}, { additionalProperties: true }),
  status: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 300 }),
    country: CountryCode,
    kind: Type.Union(AUTHORITY_KINDS.map((k) => Type.Literal(k))),
    contactEmail: Type.String({ format: 'email', maxLength: 320 }),
    publicJwk: Type.Object(
      {},
      { additionalProperties: true, description: 'Public key (EC P-256/384/521 or X25519) packages are encrypted to' },
    ),
  },
  { additionalProperties: false },
);
const StatusBody = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 2000 }) },
  { additionalProperties: false },
);
const TokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Who at the authority holds the token' }),
    expiresAt: Type.Optional(DateTime('When the token stops working')),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** Verified authorities: registered, suspended and given tokens by admins. */
export const authorityRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onError', auditRefusals(ctx, 'authority.refused'));
    app.post<{ Body: Static<typeof CreateBody> }>(
      '',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['authorities'],
          summary: 'Register an authority (its public key must be an encryption key)',
          description: rolesNote(ADMIN),
          body: CreateBody,
          response: { 201: AuthorityView, ...errors(400, 422) },
        },
      },
      async (request, reply) => {
        const id = await createAuthority(ctx.store.db, actorOf(request), request.body);
        return reply.status(201).send(await getAuthority(ctx.store.db, id));
      },
    );

    app.get(
      '',
      {
        config: { access: { roles: READERS } },
        schema: {
          tags: ['authorities'],
          summary: 'Registered authorities',
          description: rolesNote(READERS),
          response: { 200: Type.Object({ authorities: Type.Array(AuthorityView) }), ...errors() },
        },
      },
      async () => ({ authorities: await listAuthorities(ctx.store.db) }),
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/:id',
      {
        config: { access: { roles: READERS } },
        schema: {
          tags: ['authorities'],
          summary: 'One authority',
          description: rolesNote(READERS),
          params: Params,
          response: { 200: AuthorityView, ...errors(404) },
        },
      },
      async (request) => getAuthority(ctx.store.db, request.params.id),
    );

    for (const [path, status, summary] of [
      ['/:id/suspend', 'suspended', 'Suspend an authority: its tokens stop at once'],
      ['/:id/reinstate', 'active', 'Reinstate a suspended authority'],
    ] as const) {
      app.post<{ Params: Static<typeof Params>; Body: Static<typeof StatusBody> }>(
        path,
        {
          config: { access: { roles: ADMIN } },
          schema: {
            tags: ['authorities'],
            summary,
            description: rolesNote(ADMIN),
            params: Params,
            body: StatusBody,
            response: { 200: AuthorityView, ...errors(400, 404, 422) },
          },
        },
        async (request) =>
          setAuthorityStatus(ctx.store.db, actorOf(request), request.params.id, status, request.body.reason),
      );
    }

    app.post<{ Params: Static<typeof Params>; Body: Static<typeof TokenBody> }>(
      '/:id/tokens',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['authorities'],
          summary: 'Create a token bound to this authority (shown once)',
          description: rolesNote(ADMIN),
          params: Params,
          body: TokenBody,
          response: { 201: Type.Object({ id: Type.String(), token: Type.String() }), ...errors(400, 404, 422) },
        },
      },
      async (request, reply) => {
        await getAuthority(ctx.store.db, request.params.id);
        const created = await createToken(ctx.store.db, actorOf(request), {
          role: 'authority',
          name: request.body.name,
          authorityId: request.params.id,
          expiresAt: request.body.expiresAt ? Date.parse(request.body.expiresAt) : null,
        });
        return reply.status(201).send({ id: created.id, token: created.token });
      },
    );
  };
