import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { ErrorResponse, errorBody } from '../http/error-handler.js';
import { AppError } from '../errors.js';

/**
 * `/healthz`: the process is up (for restarts). `/readyz`: the store answers
 * (for load balancers). With NATS configured the body also names the queue's
 * state, but NATS being down does not make the process unready: ingest writes
 * to the database outbox and still accepts; taking every API node out of the
 * load balancer would turn a scanning delay into lost ingest. A read replica
 * (CUSTOS_DATABASE_READ_URL) is named the same way: when it is down only the
 * transparency reports fail, and the API must keep taking reports and orders.
 */
export const healthRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['health'],
          security: [],
          summary: 'The process is up',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          security: [],
          summary: 'The store can be reached (the body also names the NATS queue state, when configured)',
          response: {
            200: Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Type.String()) }),
            503: ErrorResponse,
          },
        },
      },
      async (request, reply) => {
        const nats = ctx.scanQueue ? { nats: ctx.scanQueue.state() } : {};
        const replica = ctx.store.replica
          ? {
              replica: await ctx.store.replica.ping().then(
                () => 'ok',
                (error: unknown) => {
                  request.log.warn({ err: error }, 'the read replica does not answer');
                  return 'down';
                },
              ),
            }
          : {};
        try {
          await ctx.store.ping();
        } catch (error) {
          request.log.warn({ err: error }, 'readiness check failed');
          reply.header('retry-after', '5');
          return reply.status(503).send(
            errorBody(
              new AppError('not_ready', 'The store cannot be reached.', {
                checks: { store: 'down', ...replica, ...nats },
              }),
            ),
          );
        }
        return { status: 'ready' as const, checks: { store: 'ok', ...replica, ...nats } };
      },
    );
  };
