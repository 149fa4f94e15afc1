/**
 * Tells a store that is down or locked (retry later: 503) apart from a bug or a
 * constraint violation. Drivers report these in different shapes: node's socket
 * errors, PostgreSQL SQLSTATE classes, SQLite result codes.
 */

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

// Class 08 connection exception, 53 insufficient resources, 57P operator intervention.
const PG_UNAVAILABLE = /^(08|53|57P)/;

const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL)/;

const MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'database is locked',
];

export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SQLITE_UNAVAILABLE.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && PG_UNAVAILABLE.test(code)) return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isStoreUnavailable);
  if (MESSAGES.some((m) => error.message.includes(m))) return true;
  return error.cause !== undefined && error.cause !== error && isStoreUnavailable(error.cause);
}

/** A unique constraint refused the write: PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
