import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { AppError, type FieldProblem, ValidationError } from '../errors.js';

/**
 * Request validation, stricter than Fastify's defaults:
 * - unknown fields are errors, not silently dropped (`removeAdditional: false`);
 * - bodies are never type-coerced ("12" stays a string); query strings and path
 *   parameters are, since they only come as text;
 * - every problem is reported, not just the first.
 */
// ajv-formats is CommonJS: its default export arrives as the module or as `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

function makeAjv(coerce: boolean) {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object);
  return (data: unknown) => {
    if (!validate(data)) return { error: toAppError(validate.errors ?? [], httpPart) };
    if (!hasNul(data)) return { value: data };
    const nul = nulCharacters(data, httpPart === 'body' || httpPart === undefined ? '' : `/${httpPart}`);
    return nul.length ? { error: new ValidationError(nul) } : { value: data };
  };
};

/**
 * Whether any string (value or key) holds U+0000: the fast check every request
 * body goes through, building no paths (a 5,000-session ingest body is 25,000
 * strings); `nulCharacters` then names them only for the rare body that has one.
 */
function hasNul(data: unknown): boolean {
  if (typeof data === 'string') return data.includes('\u0000');
  if (data === null || typeof data !== 'object') return false;
  const stack: object[] = [data];
  while (stack.length > 0) {
    const value = stack.pop() as object;
    if (Array.isArray(value)) {
      for (const child of value) {
        if (typeof child === 'string') {
          if (child.includes('\u0000')) return true;
        } else if (child !== null && typeof child === 'object') stack.push(child);
      }
    } else {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (key.includes('\u0000')) return true;
        const child = (value as Record<string, unknown>)[key];
        if (typeof child === 'string') {
          if (child.includes('\u0000')) return true;
        } else if (child !== null && typeof child === 'object') stack.push(child);
      }
    }
  }
  return false;
}

/**
 * Strings (values or keys) holding U+0000. PostgreSQL text cannot store it (SQLite
 * can), so it is refused up front on every store alike (422), instead of failing
 * inside the database. Walks with its own stack: the input may be nested deeply.
 */
function nulCharacters(data: unknown, prefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const message = 'must not contain the NUL character (U+0000)';
  const stack: Array<[unknown, string]> = [[data, prefix]];
  while (stack.length > 0 && problems.length < 50) {
    const [value, path] = stack.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (value.includes('\u0000')) problems.push({ path: path || '/', code: 'invalid_character', message });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const childPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (key.includes('\u0000')) problems.push({ path: childPath, code: 'invalid_character', message });
        else stack.push([child, childPath]);
      }
    }
  }
  return problems;
}

// A request that breaks these is not the shape the API speaks (400); anything
// else (missing or out-of-range values) is well-formed but invalid (422).
const MALFORMED = new Set(['type', 'additionalProperties', 'unevaluatedProperties']);

function toAppError(errors: ErrorObject[], httpPart: string | undefined): AppError {
  const prefix = httpPart === 'body' || httpPart === undefined ? '' : `/${httpPart}`;
  const problems: FieldProblem[] = errors.map((e) => {
    let path = prefix + e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path += `/${(e.params as { missingProperty: string }).missingProperty}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
      message = 'is not a known field';
    }
    return { path: path || '/', code: problemCode(e.keyword), message };
  });
  const tooLong = errors.find((e) => e.keyword === 'maxItems');
  if (tooLong) {
    const limit = (tooLong.params as { limit: number }).limit;
    return new AppError('batch_too_large', `A batch holds at most ${limit} items.`, problems);
  }
  if (errors.some((e) => e.keyword === 'additionalProperties')) {
    return new AppError('unknown_field', 'The request has fields this API does not know.', problems);
  }
  if (errors.some((e) => MALFORMED.has(e.keyword))) {
    return new AppError('malformed_request', 'The request does not have the expected shape.', problems);
  }
  return new ValidationError(problems);
}

function problemCode(keyword: string): string {
  switch (keyword) {
    case 'required':
      return 'missing_field';
    case 'additionalProperties':
      return 'unknown_field';
    case 'type':
      return 'wrong_type';
    case 'format':
    case 'pattern':
      return 'invalid_format';
    case 'enum':
    case 'const':
      return 'not_allowed';
    default:
      return `invalid_${keyword.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
  }
}
