import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validatorCompiler } from '../src/http/validation.js';

// The NUL check every validated request part goes through (PostgreSQL text cannot
// hold U+0000): a fast walk first, then the paths of the offending strings.
const validate = (httpPart: string) =>
  validatorCompiler({ schema: {}, httpPart, method: 'POST', url: '/x' }) as (data: unknown) => {
    value?: unknown;
    error?: { problems?: Array<{ path: string; code: string }> };
  };

describe('NUL characters in request data', () => {
  const body = validate('body');
  const problemPaths = (data: unknown) => (body(data).error?.problems ?? []).map((p) => `${p.path} ${p.code}`);

  it('passes data without NUL through unchanged', () => {
    const data = { a: ['x', { b: 'y', c: [1, null, true, { d: 'z' }] }], e: '' };
    assert.equal(body(data).value, data);
    assert.equal(body('plain').value, 'plain');
    assert.equal(body(null).value, null);
  });

  it('finds NUL anywhere: a value, an array element, a nested key, deep down', () => {
    assert.deepEqual(problemPaths({ a: 'x\u0000' }), ['/a invalid_character']);
    assert.deepEqual(problemPaths({ a: ['ok', 'b\u0000d'] }), ['/a/1 invalid_character']);
    assert.deepEqual(problemPaths({ a: [{ 'k\u0000': 1 }] }), ['/a/0/k\u0000 invalid_character']);
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 5000; i++) deep = [deep];
    assert.equal(problemPaths(deep).length, 1, 'a deeply nested NUL is found without overflowing the stack');
    assert.deepEqual(problemPaths('\u0000'), ['/ invalid_character']);
  });

  it('names the request part in the path', () => {
    const query = validate('querystring');
    assert.deepEqual(
      (query({ q: 'a\u0000' }).error?.problems ?? []).map((p) => p.path),
      ['/querystring/q'],
    );
  });
});
