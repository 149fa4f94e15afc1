import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { actorOf } from '../http/auth.js';
import { errors, rolesNote } from '../http/schemas.js';
import { clearSessionCookie, sessionCookieOf, setSessionCookie } from '../http/session-cookie.js';
import { prepareDummyHash } from './passwords.js';
import { signIn, signOut } from './sign-in.js';
import { USER_ROLES } from './users.js';
import { type WebSession, sessionIdOf } from './web-sessions.js';

const SignInBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    totp: Type.Optional(
      Type.String({
        maxLength: 16,
        description:
          'The six-digit code of the authenticator app; required for admin, legal, legal_senior and authority',
      }),
    ),
  },
  { additionalProperties: false },
);

const SessionView = Type.Object({
  user: Type.Object({
    id: Type.String(),
    username: Type.String(),
    role: Type.String(),
    authorityId: Type.Union([Type.String(), Type.Null()]),
  }),
  csrfToken: Type.String({
    description: 'Send it as the x-csrf-token header with every request but GET, HEAD and OPTIONS',
  }),
  expiresAt: Type.String({ description: 'When the session ends unless used (30 minutes idle; 12 hours at most)' }),
});

type SessionBody = Static<typeof SessionView>;

function view(
  user: { id: string; username: string; role: string; authorityId: string | null },
  session: WebSession,
): SessionBody {
  return {
    user: { id: user.id, username: user.username, role: user.role, authorityId: user.authorityId },
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

/** Allowed attempts per client address and minute; the account lock-out guards each account on top. */
function signInRateLimit(ctx: Context) {
  return { max: ctx.config.signInRateLimitPerMinute, timeWindow: '1 minute' };
}

/** Sign-in for people on the web pages: a session cookie instead of a token. */
export const sessionRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    prepareDummyHash();
    app.post<{ Body: Static<typeof SignInBody> }>(
      '',
      {
        // The browser's current cookie plays no part in a sign-in (see sign-in.ts for the old session).
        config: { access: 'public', rateLimit: signInRateLimit(ctx) },
        schema: {
          tags: ['identity'],
          summary: 'Sign in with username, password and TOTP code; sets the session cookie',
          description: `${rolesNote('public')} Answers the session and sets \`custos_session\` (HttpOnly, SameSite=Strict, Secure over TLS). A wrong username, password or code is 401 invalid_credentials; a right password without the code the role needs is 401 totp_required; after 5 failures in a row the account is locked for 15 minutes (429 account_locked, details.lockedUntil).`,
          security: [{}],
          body: SignInBody,
          response: { 200: SessionView, ...errors(400, 422, 429) },
        },
      },
      async (request, reply) => {
        const previous = sessionCookieOf(request);
        const signedIn = await signIn(ctx.store.db, ctx.cipher, request.body, {
          requestId: request.id,
          ...(previous ? { previousSessionId: sessionIdOf(previous) } : {}),
        });
        setSessionCookie(reply, ctx.config, signedIn.cookieValue);
        return view(signedIn.user, signedIn.session);
      },
    );

    app.get(
      '',
      {
        config: { access: { roles: USER_ROLES } },
        schema: {
          tags: ['identity'],
          summary: 'The signed-in user and the session (401 when not signed in)',
          description: `${rolesNote(USER_ROLES)} Read with the session cookie; a request with an API token has no session and gets 401.`,
          response: { 200: SessionView, ...errors() },
        },
      },
      async (request) => {
        const session = request.webSession;
        const principal = request.principal;
        if (!session || !principal) throw new AppError('unauthenticated', 'Not signed in: API tokens have no session.');
        return view(
          { id: session.userId, username: session.username, role: principal.role, authorityId: principal.authorityId },
          session,
        );
      },
    );

    app.delete(
      '',
      {
        config: { access: 'public', sessionCookie: true },
        schema: {
          tags: ['identity'],
          summary: 'Sign out: ends the session and clears the cookie (204 also when not signed in)',
          description: `${rolesNote('public')} With the session cookie, send the session's x-csrf-token header too.`,
          security: [{}],
          response: { 204: Type.Null(), ...errors() },
        },
      },
      async (request, reply) => {
        const session = request.webSession;
        if (session) await signOut(ctx.store.db, actorOf(request), session);
        if (session || sessionCookieOf(request) !== undefined) clearSessionCookie(reply, ctx.config);
        return reply.status(204).send();
      },
    );
  };
