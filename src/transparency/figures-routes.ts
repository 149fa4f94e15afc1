import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';

/** Placeholder: filled in by the capability that owns it. */
export const figureRoutes =
  (_ctx: Context): FastifyPluginAsync =>
  async () => {};
