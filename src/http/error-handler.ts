import type { FastifyError, FastifyInstance } from 'fastify';
import {
  AppError,
  ERROR_CATALOG,
  type ErrorCode,
  OVERLOAD_RETRY_AFTER_SECONDS,
  StoreUnavailableError,
} from '../errors.js';
import { isStoreUnavailable } from '../db/store-errors.js';
import { scrubPersonalData } from '../logging.js';

/**
 * The one place errors become HTTP answers. Catalogued errors keep their code and
 * status; Fastify's own errors (bad JSON, body too large, …) are mapped to the
 * catalog; a store that is down is 503; anything else is logged in full and shown
 * to the client only as `internal_error`, never with a stack.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isStoreUnavailable(error)) return new StoreUnavailableError(error);
  const e = error as Partial<FastifyError>;
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('malformed_json', 'The body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('malformed_json', 'The body is empty but its content type is JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The body is larger than this route accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('unsupported_media_type', 'Send the body as application/json.');
  }
  if (e.statusCode === 429) return new AppError('rate_limited', 'Too many requests; slow down.');
  if (e.statusCode === 413) return new AppError('payload_too_large', 'The body is too large.');
  if (e.statusCode === 415) return new AppError('unsupported_media_type', 'Send the body as application/json.');
  if (e instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message ?? ''))) {
    return new AppError('malformed_json', 'The body is not valid JSON.');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('malformed_request', 'The request could not be understood.');
  }
  return new AppError('internal_error', 'Something went wrong on our side; it has been logged.');
}

export function errorBody(error: AppError) {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const mapped = toAppError(error);
    if (mapped.code === 'internal_error') request.log.error({ err: error }, 'unhandled error');
    else if (mapped.status >= 500) request.log.warn({ err: error, code: mapped.code }, 'store unavailable');
    if (mapped.code === 'store_unavailable' || mapped.code === 'not_ready') reply.header('retry-after', '5');
    if (mapped.code === 'overloaded') reply.header('retry-after', String(OVERLOAD_RETRY_AFTER_SECONDS));
    if (mapped.code === 'rate_limited') {
      const retry = (error as { headers?: Record<string, string> }).headers?.['retry-after'];
      if (retry) reply.header('retry-after', retry);
    }
    return reply.status(mapped.status).send(errorBody(mapped));
  });
  app.setNotFoundHandler((request, reply) => {
    // The path is the caller's text: a phone number or an address in it is not echoed back.
    const shown = scrubPersonalData(request.url.split('?')[0] ?? '').replace(/\d{7,}/g, '[number]');
    const error = new AppError('route_not_found', `No route ${request.method} ${shown}.`);
    return reply.status(404).send(errorBody(error));
  });
}

/** The error answer every route documents, so OpenAPI shows its shape. */
export const ErrorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CATALOG) as ErrorCode[] },
        message: { type: 'string' },
        details: {},
      },
    },
  },
} as const;
