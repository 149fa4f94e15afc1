import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import helmet from 'helmet';

/**
 * The policy of every answer that sets none of its own (the API's JSON, errors, 404s):
 * it loads nothing and may be framed by no one. The web pages, the transparency page
 * and Swagger UI set theirs in their own plugins' hooks, which run after this one.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * A PDF opened in a tab is drawn by the browser's viewer, which `default-src 'none'`
 * would block in Chromium; it still must not be framed.
 */
const DOCUMENT_CSP = "frame-ancestors 'none'";

/**
 * Helmet's security headers (HSTS, nosniff, frame and referrer policies, …),
 * computed once at start and set on every response, errors and 404s included.
 * Running helmet's middleware chain per request cost as much as the rest of a
 * trivial request. With the content security policy off, every header helmet
 * sets is the same for every request, so nothing is lost; the CSP is ours (above).
 *
 * HSTS is sent on every answer, also over plain HTTP: browsers ignore it there
 * (RFC 6797 §8.1) and honour it once TLS is in front (see docs/SECURITY.md).
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    applySecurityHeaders(reply);
    done(null, payload);
  });
}

let headers: Record<string, string> | undefined;

/**
 * Sets the headers on one reply; for answers that skip the onSend hooks (the router's
 * own errors, `frameworkErrors` in app.ts).
 */
export function applySecurityHeaders(
  reply: Pick<FastifyReply, 'headers' | 'hasHeader' | 'getHeader' | 'header'>,
): void {
  headers ??= helmetHeaders();
  reply.headers(headers);
  if (!reply.hasHeader('content-security-policy')) {
    const type = String(reply.getHeader('content-type') ?? '');
    reply.header('content-security-policy', type.startsWith('application/pdf') ? DOCUMENT_CSP : API_CSP);
  }
}

function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet({ contentSecurityPolicy: false, xFrameOptions: { action: 'deny' } })(
    {} as IncomingMessage,
    response as unknown as ServerResponse,
    (error?: unknown) => {
      if (error) throw error;
    },
  );
  return headers;
}
