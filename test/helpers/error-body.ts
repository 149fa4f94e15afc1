import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { ERROR_CATALOG } from '../../src/errors.js';

/** A stack frame as V8 prints it (raw or JSON-escaped), or a source position of the code. */
const STACK_PATTERNS = [/\bat [^"]*?\.(?:ts|js|mjs|cjs):\d+/, /(?:\\n|\n)\s+at /, /\.ts:\d+/, /node_modules\//];

/** Fails when a response body shows a stack trace or a source path. */
export function assertNoStack(res: { body: string }, what = 'response'): void {
  for (const pattern of STACK_PATTERNS) {
    assert.doesNotMatch(res.body, pattern, `${what} leaks a stack trace: ${res.body.slice(0, 500)}`);
  }
  assert.doesNotMatch(res.body, /"stack"\s*:/, `${what} has a stack field`);
}

/**
 * Checks SPEC.md's error shape: exactly `{error:{code,message,details?}}`, a
 * snake_case code from the catalog whose status is the one answered, JSON, and
 * no stack. Returns the error object.
 */
export function assertErrorBody(
  res: LightMyRequestResponse,
  status?: number,
  code?: string,
): { code: string; message: string; details?: unknown } {
  const what = `${res.statusCode} ${res.body.slice(0, 300)}`;
  if (status !== undefined) assert.equal(res.statusCode, status, what);
  assert.match(String(res.headers['content-type']), /^application\/json/, what);
  const body = JSON.parse(res.body) as { error: { code: string; message: string; details?: unknown } };
  assert.deepEqual(Object.keys(body), ['error'], what);
  const keys = Object.keys(body.error);
  assert.ok(keys.includes('code') && keys.includes('message'), what);
  assert.deepEqual(
    keys.filter((k) => !['code', 'message', 'details'].includes(k)),
    [],
    `only code, message and details: ${what}`,
  );
  assert.match(body.error.code, /^[a-z]+(_[a-z]+)*$/, what);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.equal(
    ERROR_CATALOG[body.error.code as keyof typeof ERROR_CATALOG],
    res.statusCode,
    `code ${body.error.code} belongs to the catalog with this status`,
  );
  if (code !== undefined) assert.equal(body.error.code, code, what);
  assertNoStack(res);
  return body.error;
}
