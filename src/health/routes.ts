import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { ErrorResponse, errorBody } from '../http/error-handler.js';
import { AppError } from '../errors.js';

/**
 * `/healthz`: the process is up (for restarts). `/readyz`: the store answers
 * (for load balancers); later the queue joins the checks.
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
          summary: 'The store (and queue, when configured) can be reached',
          response: {
            200: Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Type.String()) }),
            503: ErrorResponse,
          },
        },
      },
      async (request, reply) => {
        try {
          await ctx.store.ping();
        } catch (error) {
          request.log.warn({ err: error }, 'readiness check failed');
          reply.header('retry-after', '5');
          return reply
            .status(503)
            .send(errorBody(new AppError('not_ready', 'The store cannot be reached.', { checks: { store: 'down' } })));
        }
        return { status: 'ready' as const, checks: { store: 'ok' } };
      },
    );
  };
