import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../audit/service.js';
import type { Context } from '../context.js';
import { toAppError } from '../http/error-handler.js';
import { actorOf } from '../http/auth.js';

/**
 * An `onError` hook that writes every refused request on a sensitive route family
 * (legal orders, authorities) to the audit log: forged or expired tokens, wrong roles,
 * invalid orders, an authority probing another's order ids. What was refused and why
 * (status, code, the paths and codes of the problems), never the submitted values.
 */
export function auditRefusals(ctx: Context, action: string) {
  return async (request: FastifyRequest, _reply: FastifyReply, error: FastifyError): Promise<void> => {
    const mapped = toAppError(error);
    if (mapped.status < 400 || mapped.status >= 500) return;
    const details = Array.isArray(mapped.details)
      ? (mapped.details as Array<{ path?: unknown; code?: unknown }>)
          .slice(0, 50)
          .map((d) => ({ path: d.path, code: d.code }))
      : undefined;
    try {
      await appendAudit(ctx.store.db, actorOf(request), {
        action,
        subjectType: 'route',
        subjectId: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
        details: { status: mapped.status, code: mapped.code, ...(details ? { problems: details } : {}) },
      });
    } catch (err) {
      // The refusal is answered either way; a store that is down is logged, not hidden.
      request.log.warn({ err }, 'could not audit a refused request');
    }
  };
}
