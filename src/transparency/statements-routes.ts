import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';

/** Placeholder: filled in by the capability that owns it. */
export const statementRoutes =
  (_ctx: Context): FastifyPluginAsync =>
  async () => {};
