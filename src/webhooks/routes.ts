import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { WEBHOOK_EVENTS } from './outbox.js';
import { createEndpoint, deactivateEndpoint, listEndpoints } from './endpoints.js';

const ADMIN: readonly Role[] = ['admin'];

const Endpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  createdAt: Type.String(),
});
const Body = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2000 }),
    events: Type.Optional(
      Type.Array(Type.Union([Type.Literal('*'), ...WEBHOOK_EVENTS.map((e) => Type.Literal(e))]), { maxItems: 20 }),
    ),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const DeliveryQuery = Type.Object(
  {
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')], {
      default: 'pending',
    }),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  },
  { additionalProperties: false },
);

/** Where the platform receives enforcement events, and the state of their delivery. */
export const webhookRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    const access = { access: { roles: ADMIN } };
    app.post<{ Body: Static<typeof Body> }>(
      '',
      {
        config: access,
        schema: {
          tags: ['webhooks'],
          summary: 'Register a webhook endpoint (its signing secret is shown once)',
          description: rolesNote(ADMIN),
          body: Body,
          response: {
            201: Type.Object({ id: Type.String(), secret: Type.String(), endpoint: Endpoint }),
            ...errors(400, 422),
          },
        },
      },
      async (request, reply) => reply.status(201).send(await createEndpoint(ctx, actorOf(request), request.body)),
    );
    app.get(
      '',
      {
        config: access,
        schema: {
          tags: ['webhooks'],
          summary: 'Webhook endpoints',
          description: rolesNote(ADMIN),
          response: { 200: Type.Object({ endpoints: Type.Array(Endpoint) }), ...errors() },
        },
      },
      async () => ({ endpoints: await listEndpoints(ctx) }),
    );
    app.post<{ Params: Static<typeof Params> }>(
      '/:id/deactivate',
      {
        config: access,
        schema: {
          tags: ['webhooks'],
          summary: 'Stop sending events to an endpoint',
          description: rolesNote(ADMIN),
          params: Params,
          response: { 204: Type.Null(), ...errors(404) },
        },
      },
      async (request, reply) => {
        await deactivateEndpoint(ctx, actorOf(request), request.params.id);
        return reply.status(204).send();
      },
    );
    app.get<{ Querystring: Static<typeof DeliveryQuery> }>(
      '/deliveries',
      {
        config: access,
        schema: {
          tags: ['webhooks'],
          summary: 'Outbox entries by status (pending, delivered, dead)',
          description: rolesNote(ADMIN),
          querystring: DeliveryQuery,
          response: {
            200: Type.Object({
              deliveries: Type.Array(
                Type.Object({
                  id: Type.String(),
                  endpointId: Type.String(),
                  type: Type.String(),
                  status: Type.String(),
                  attempts: Type.Integer(),
                  nextAttemptAt: Type.String(),
                  lastError: Type.Union([Type.String(), Type.Null()]),
                  createdAt: Type.String(),
                  deliveredAt: Type.Union([Type.String(), Type.Null()]),
                }),
              ),
            }),
            ...errors(422),
          },
        },
      },
      async (request) => {
        const rows = await ctx.store.db
          .selectFrom('webhook_outbox')
          .selectAll()
          .where('status', '=', request.query.status)
          .orderBy('created_at', 'desc')
          .limit(request.query.limit)
          .execute();
        const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
        return {
          deliveries: rows.map((r) => ({
            id: r.id,
            endpointId: r.endpoint_id,
            type: r.event_type,
            status: r.status,
            attempts: r.attempts,
            nextAttemptAt: iso(r.next_attempt_at)!,
            lastError: r.last_error,
            createdAt: iso(r.created_at)!,
            deliveredAt: iso(r.delivered_at),
          })),
        };
      },
    );
  };
