import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { currentSigningKey, publishedSigningKeys } from './signing-keys.js';

/**
 * The platform's signing keys as a JWKS (public halves only), for authorities to
 * verify the JWS inside a disclosure package. Public; the key is created on first use.
 */
export const signingKeysRoute =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/.well-known/custos-signing-keys.json',
      {
        schema: {
          tags: ['legal'],
          summary: 'JWKS of the keys that sign disclosure packages',
          response: { 200: Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }) },
        },
      },
      async (_request, reply) => {
        await currentSigningKey(ctx.store.db, ctx.cipher);
        reply.header('cache-control', 'public, max-age=300');
        return publishedSigningKeys(ctx.store.db);
      },
    );
  };
