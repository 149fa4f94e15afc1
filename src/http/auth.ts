import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../audit/actor.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AppError, ForbiddenError } from '../errors.js';
import type { Access } from '../identity/roles.js';
import { type Principal, authenticate } from '../identity/tokens.js';
import { type WebSession, authenticateSession, csrfTokenMatches } from '../identity/web-sessions.js';
import { clearSessionCookie, sessionCookieOf } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; required on every /v1 route. */
    access?: Access;
    /**
     * A `public` route that reads the sign-in cookie (sign-out). Other public routes
     * ignore it, so a stale or foreign cookie never stands between anyone and them.
     */
    sessionCookie?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** The sign-in session, when the request was authenticated by its cookie. */
    webSession: WebSession | null;
  }
}

/** Methods that change nothing; every other method needs the CSRF header when a cookie authenticates it. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authentication and role checks run at `onRequest`, before the body is read or
 * validated: a caller without the right role learns nothing about the route's
 * input rules. A route without a declared `access` under /v1 stops the server at
 * start, so a forgotten check cannot ship.
 *
 * A caller is a bearer token or, without an Authorization header, the sign-in
 * cookie of the web pages (identity/web-sessions.ts). A cookie is sent by the
 * browser on its own, so a request it authenticates that could change something
 * (any method but GET, HEAD, OPTIONS) must also carry the session's CSRF token
 * in `x-csrf-token`; a bearer token needs none.
 */
export function installAuth(app: FastifyInstance, db: Db, config: Pick<Config, 'cookieSecure'>): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('webSession', null);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/') && !route.config?.access) {
      throw new Error(`route ${route.method} ${route.url} declares no access rule`);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config?.access;
    if (!access) return;
    const header = request.headers.authorization;
    if (header === undefined) {
      const readsCookie = access !== 'public' || request.routeOptions.config?.sessionCookie === true;
      const cookie = readsCookie ? sessionCookieOf(request) : undefined;
      const signedIn = cookie === undefined ? null : await authenticateSession(db, cookie);
      if (cookie !== undefined && !signedIn) clearSessionCookie(reply, config);
      // On a route open to callers without a token, a session whose role the route does not
      // admit is not presented on purpose (the browser sends it everywhere): the caller is anonymous.
      const anonymousOk = access === 'public' || access.anonymous === true;
      if (signedIn && (access === 'public' || access.roles.includes(signedIn.principal.role) || !anonymousOk)) {
        if (
          !SAFE_METHODS.has(request.method) &&
          !csrfTokenMatches(request.headers['x-csrf-token'], signedIn.session.csrfToken)
        ) {
          throw new AppError('csrf_failed', 'Send the x-csrf-token header of your session with this request.');
        }
        request.principal = signedIn.principal;
        request.webSession = signedIn.session;
        if (access !== 'public' && !access.roles.includes(signedIn.principal.role)) throw new ForbiddenError();
        return;
      }
      if (anonymousOk) return;
      throw new AppError(
        'unauthenticated',
        cookie === undefined
          ? 'Send a token (Authorization: Bearer <token>) or sign in.'
          : 'Your session has ended; sign in again.',
      );
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
