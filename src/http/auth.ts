import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../audit/actor.js';
import type { Db } from '../db/database.js';
import { AppError, ForbiddenError } from '../errors.js';
import type { Access } from '../identity/roles.js';
import { type Principal, authenticate } from '../identity/tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; required on every /v1 route. */
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * Authentication and role checks run at `onRequest`, before the body is read or
 * validated: a caller without the right role learns nothing about the route's
 * input rules. A route without a declared `access` under /v1 stops the server at
 * start, so a forgotten check cannot ship.
 */
export function installAuth(app: FastifyInstance, db: Db): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/') && !route.config?.access) {
      throw new Error(`route ${route.method} ${route.url} declares no access rule`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access;
    if (!access) return;
    const header = request.headers.authorization;
    if (header === undefined) {
      if (access === 'public' || access.anonymous) return;
      throw new AppError('unauthenticated', 'Send a token: Authorization: Bearer <token>.');
    }
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
    const principal = match ? await authenticate(db, match[1] as string) : null;
    if (!principal) throw new AppError('invalid_token', 'The token is unknown, expired or revoked.');
    request.principal = principal;
    if (access !== 'public' && !access.roles.includes(principal.role)) throw new ForbiddenError();
  });
}

/** The audit actor behind a request. */
export function actorOf(request: FastifyRequest): Actor {
  const p = request.principal;
  if (!p) return { id: 'public', role: 'public', requestId: request.id };
  return { id: p.tokenId, role: p.role, authorityId: p.authorityId, requestId: request.id };
}
