/**
 * The one catalog of error codes. Every error a client can see is listed here with
 * its HTTP status; routes and services throw `AppError` (or a subclass) with one of
 * these codes, and `http/error-handler.ts` turns it into
 * `{"error":{"code","message","details"}}`. Anything not from this catalog is
 * logged and shown to the client as `internal_error` without a stack.
 */
export const ERROR_CATALOG = {
  malformed_json: 400,
  malformed_request: 400,
  unknown_field: 400,
  unauthenticated: 401,
  invalid_token: 401,
  /** Sign-in: unknown user, wrong password or wrong TOTP code (one answer for all three). */
  invalid_credentials: 401,
  /** Sign-in: the password was right; the role needs a TOTP code too. */
  totp_required: 401,
  forbidden: 403,
  /** A request authenticated by the session cookie without the session's x-csrf-token. */
  csrf_failed: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  batch_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  /** Sign-in: too many failures in a row; the account refuses sign-ins until the lock ends. */
  account_locked: 429,
  internal_error: 500,
  store_unavailable: 503,
  not_ready: 503,
  /** Load shedding: too much in flight; refused before any work, so nothing changed. Carries Retry-After. */
  overloaded: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Retry-After of an `overloaded` answer, in seconds: short, since overload usually passes within seconds. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 2;

/** One problem with one field, named by its JSON pointer (`/accounts/3/phone`). */
export interface FieldProblem {
  path: string;
  code: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CATALOG[code];
  }
}

/** 422: the request is well-formed but some fields are invalid; one detail per field. */
export class ValidationError extends AppError {
  constructor(
    readonly problems: FieldProblem[],
    message = 'Some fields are invalid.',
  ) {
    super('validation_failed', message, problems);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super('not_found', `${what} not found.`);
    this.name = 'NotFoundError';
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Your role may not do this.') {
    super('forbidden', message);
    this.name = 'ForbiddenError';
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: unknown) {
    super('conflict', message, details);
    this.name = 'ConflictError';
  }
}

/** The database could not be reached or stayed locked; the request changed nothing. */
export class StoreUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super('store_unavailable', 'The data store is unavailable; nothing was changed. Retry later.');
    this.name = 'StoreUnavailableError';
    this.cause = cause;
  }
}
