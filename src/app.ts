import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Context } from './context.js';
import { installAuth } from './http/auth.js';
import { errorBody, installErrorHandling } from './http/error-handler.js';
import { AppError } from './errors.js';
import { validatorCompiler } from './http/validation.js';
import { newId } from './ids.js';
import { scrubPersonalData } from './logging.js';
import { healthRoutes } from './health/routes.js';
import { ingestRoutes } from './ingest/routes.js';
import { accountRoutes } from './accounts/routes.js';
import { auditRoutes } from './audit/routes.js';
import { meRoute, tokenRoutes } from './identity/routes.js';
import { sessionRoutes } from './identity/session-routes.js';
import { userRoutes } from './identity/user-routes.js';
import { reportRoutes } from './reports/routes.js';
import { caseRoutes } from './cases/routes.js';
import { decisionRoutes } from './decisions/routes.js';
import { appealRoutes } from './appeals/routes.js';
import { webhookRoutes } from './webhooks/routes.js';
import { authorityRoutes } from './authorities/routes.js';
import { hashBankRoutes } from './hashes/routes.js';
import { legalRoutes } from './legal/routes.js';
import { signingKeysRoute } from './legal/well-known.js';
import { statementRoutes } from './transparency/statements-routes.js';
import { figureRoutes } from './transparency/figures-routes.js';
import { transparencyRoutes } from './transparency/routes.js';
import { transparencyPageRoutes } from './transparency/page.js';
import { installOverloadProtection } from './http/overload.js';
import { applySecurityHeaders, installSecurityHeaders } from './http/security-headers.js';
import { webRoutes } from './web/routes.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,100}$/;

/** Builds the HTTP application without listening, so tests can use `inject()`. */
export async function buildApp(ctx: Context): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // Our own one-line request log (below) replaces Fastify's two lines per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      // An id shaped like an address or a phone number would end up in logs and the audit log.
      return typeof given === 'string' && REQUEST_ID.test(given) && scrubPersonalData(given) === given
        ? given
        : newId('req');
    },
    // Only the configured proxies' X-Forwarded-For / X-Forwarded-Proto are believed (CUSTOS_TRUST_PROXY).
    trustProxy: ctx.config.trustProxy.length > 0 ? [...ctx.config.trustProxy] : false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors the router raises before any route runs (an undecodable path) use the catalog too.
    frameworkErrors: (_error, request, reply) => {
      const mapped = new AppError('malformed_request', 'The request path could not be understood.');
      reply.header('x-request-id', request.id);
      applySecurityHeaders(reply);
      // The reply is generic over every route's schema here; it is a plain JSON answer.
      (reply as unknown as { code(n: number): { send(b: unknown): void } }).code(mapped.status).send(errorBody(mapped));
    },
    return503OnClosing: true,
  });
  // First of all hooks: an overloaded process refuses before authentication, parsing or store work.
  installOverloadProtection(app, ctx.config);
  // Off by default; public read routes opt in with `config.rateLimit` (per client address, in memory per process).
  await app.register(rateLimit, { global: false });
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);
  // Parses cookies at onRequest, ahead of the auth hook that reads the sign-in cookie.
  await app.register(cookie);
  installAuth(app, ctx.store.db, ctx.config);

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  // One line per request: route pattern, never the raw URL, whose query may carry lookups.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        role: request.principal?.role ?? 'public',
      },
      'request',
    );
  });

  installSecurityHeaders(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Custos API',
        version: '1',
        description:
          'Trust-and-safety and lawful-disclosure back office. Errors are always {"error":{"code","message","details"}}.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token (cus_…)' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'custos_session',
            description:
              "The web pages' sign-in cookie (POST /v1/session), accepted wherever a token is; requests other than GET, HEAD and OPTIONS must send the session's x-csrf-token header too.",
          },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Swagger UI allows framing by its own origin; nothing of Custos is to be framed.
    transformStaticCSP: (csp: string) => csp.replace("frame-ancestors 'self'", "frame-ancestors 'none'"),
  });

  await app.register(healthRoutes(ctx));
  await app.register(ingestRoutes(ctx), { prefix: '/v1/ingest' });
  await app.register(accountRoutes(ctx), { prefix: '/v1/accounts' });
  await app.register(auditRoutes(ctx), { prefix: '/v1/audit' });
  await app.register(tokenRoutes(ctx), { prefix: '/v1/tokens' });
  await app.register(meRoute(), { prefix: '/v1/me' });
  await app.register(sessionRoutes(ctx), { prefix: '/v1/session' });
  await app.register(userRoutes(ctx), { prefix: '/v1/users' });
  await app.register(reportRoutes(ctx), { prefix: '/v1/reports' });
  await app.register(caseRoutes(ctx), { prefix: '/v1/cases' });
  await app.register(decisionRoutes(ctx), { prefix: '/v1/decisions' });
  await app.register(appealRoutes(ctx), { prefix: '/v1/appeals' });
  await app.register(webhookRoutes(ctx), { prefix: '/v1/webhooks' });
  await app.register(authorityRoutes(ctx), { prefix: '/v1/authorities' });
  await app.register(hashBankRoutes(ctx), { prefix: '/v1/hash-banks' });
  await app.register(legalRoutes(ctx), { prefix: '/v1/legal-requests' });
  await app.register(signingKeysRoute(ctx));
  await app.register(statementRoutes(ctx), { prefix: '/v1/transparency/statements' });
  await app.register(figureRoutes(ctx), { prefix: '/v1/transparency/dsa' });
  await app.register(transparencyRoutes(ctx), { prefix: '/v1/transparency' });
  await app.register(transparencyPageRoutes(ctx));
  await app.register(webRoutes());
  await app.ready();
  return app;
}
