import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { errors, rolesNote } from '../http/schemas.js';
import type { Role } from './roles.js';
import { USERNAME_PATTERN, USER_ROLES, createUser, disableUser, listUsers } from './users.js';

const ADMIN: readonly Role[] = ['admin'];

const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String(),
  authorityId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  disabledAt: Type.Union([Type.String(), Type.Null()]),
  lockedUntil: Type.Union([Type.String(), Type.Null()], {
    description: 'Set while the account refuses sign-ins after repeated failures',
  }),
});

const CreateBody = Type.Object(
  {
    username: Type.String({
      pattern: USERNAME_PATTERN,
      description: '3 to 64 letters, digits and . _ @ -; compared without case',
    }),
    role: Type.Union(
      USER_ROLES.map((r) => Type.Literal(r)),
      { description: 'People sign in with these roles; machines and organisations keep API tokens' },
    ),
    authorityId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Required for role authority' }),
    ),
  },
  { additionalProperties: false },
);

const Created = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String(),
  authorityId: Type.Union([Type.String(), Type.Null()]),
  password: Type.String({ description: 'Generated; shown once' }),
  totpSecret: Type.String({ description: 'Base32; shown once' }),
  totpUri: Type.String({ description: 'otpauth:// URI for an authenticator app (QR code); shown once' }),
});

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** Users who sign in on the web pages: created (password and TOTP secret shown once), listed and disabled by admins. */
export const userRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: Static<typeof CreateBody> }>(
      '',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['identity'],
          summary: 'Create a user; the generated password and TOTP secret are shown once',
          description: rolesNote(ADMIN),
          body: CreateBody,
          response: { 201: Created, ...errors(400, 409, 422) },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const created = await createUser(ctx.store.db, ctx.cipher, actorOf(request), {
          username: b.username,
          role: b.role,
          authorityId: b.authorityId ?? null,
        });
        return reply.status(201).send(created);
      },
    );

    app.get(
      '',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['identity'],
          summary: 'List users (never their password or TOTP secret)',
          description: rolesNote(ADMIN),
          response: { 200: Type.Object({ users: Type.Array(UserView) }), ...errors() },
        },
      },
      async () => ({ users: await listUsers(ctx.store.db) }),
    );

    app.post<{ Params: Static<typeof Params> }>(
      '/:id/disable',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['identity'],
          summary: 'Disable a user; sign-ins are refused and open sessions end at once',
          description: rolesNote(ADMIN),
          params: Params,
          response: { 200: UserView, ...errors(404) },
        },
      },
      async (request) => disableUser(ctx.store.db, actorOf(request), request.params.id),
    );
  };
