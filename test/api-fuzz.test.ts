/**
 * Property-based fuzzing of the whole HTTP API (issue 10, item 2).
 *
 * Every operation of the OpenAPI document the running app serves is called with
 * requests fast-check derives from the operation's own schema: bodies of the right
 * shape with random values, and malformed ones (a required field dropped, an unknown
 * field, a wrong type, a huge string, deep nesting, text that is not JSON, odd
 * content types), random and hostile query strings and path ids, and odd headers,
 * as every role, without a token, with a garbage token and with malformed
 * Authorization headers. For every answer:
 *
 * - the status is below 500 (no 500, and no other 5xx: nothing here sheds load);
 * - the body shows no stack frame, source path or internal error message;
 * - a 4xx answer has SPEC.md's error shape with a catalogued code of that status;
 * - a 4xx answer changed nothing in the store (see `fingerprint` for the one
 *   audited exception).
 *
 * CI runs FUZZ_RUNS (15) cases per operation, about 900 requests per store; a longer
 * run on demand: CUSTOS_FUZZ_RUNS=5000. The seed is fixed (CUSTOS_FUZZ_SEED overrides
 * it); a failure names the operation, the seeds, fast-check's replay path and the
 * shrunk request. CUSTOS_FUZZ_ONLY (a regular expression over "METHOD /path") narrows
 * the run to some operations; CUSTOS_FUZZ_VERBOSE=1 prints the statuses per operation,
 * to see how far the cases get past authentication and validation.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createBank, addHashes } from '../src/hashes/banks.js';
import { ROLES } from '../src/identity/roles.js';
import { createEndpoint } from '../src/webhooks/endpoints.js';
import { decidedCase, openAppeal, openCase } from './helpers/case-fixtures.js';
import { assertErrorBody, assertNoStack } from './helpers/error-body.js';
import { type Harness, TEST_ACTOR, describeEachStore } from './helpers/harness.js';
import { addAuthority } from './helpers/identity.js';
import { buildOrder, fileOrder, seedViolator } from './helpers/legal.js';
import { addUser } from './helpers/users.js';
import { appendAudit } from '../src/audit/service.js';

const FUZZ_RUNS = positiveInt(process.env.CUSTOS_FUZZ_RUNS, 15);
const FUZZ_SEED = Number.parseInt(process.env.CUSTOS_FUZZ_SEED ?? '20261110', 10);
const FUZZ_ONLY = process.env.CUSTOS_FUZZ_ONLY ? new RegExp(process.env.CUSTOS_FUZZ_ONLY) : null;
/** Small, so "too large" is reachable without megabytes per case (the legal route keeps its own 16 MiB). */
const BODY_LIMIT = 256 * 1024;

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

// ---------------------------------------------------------------------------
// The OpenAPI document, reduced to what the fuzzer needs.

/** The subset of JSON Schema (as TypeBox and @fastify/swagger write it) the generators read. */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  method: string;
  /** As OpenAPI writes it: `/v1/cases/{id}`. */
  path: string;
  pathParams: Parameter[];
  query: Parameter[];
  body?: Schema;
  /** The roles the operation's description names (`Roles: a, b.`); empty when it names none. */
  roles: string[];
}

/** Every operation of the document, in document order. */
function operationsOf(doc: { paths: Record<string, Record<string, any>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = (op.parameters ?? []) as Parameter[];
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        query: params.filter((p) => p.in === 'query'),
        body: op.requestBody?.content?.['application/json']?.schema,
        roles: (/Roles: ([a-z_, ]+)\./.exec(op.description ?? '')?.[1] ?? '').split(', ').filter(Boolean),
      });
    }
  }
  return ops;
}

// ---------------------------------------------------------------------------
// Ids of things that exist, so generated requests also reach past the "not found" checks.

interface Pools {
  /** Real ids of every kind (accounts, cases, decisions, appeals, orders, authorities, …). */
  ids: string[];
  /** The same, by the collection of the API that serves them (`cases`, `legal-requests`, …). */
  byCollection: Record<string, string[]>;
  bankNames: string[];
  bankHashes: Array<{ kind: string; value: string }>;
}

async function seed(h: Harness): Promise<Pools> {
  const violator = await seedViolator(h, { sessions: 2 });
  const other = await seedViolator(h, { sessions: 1, violation: false });
  const open = await openCase(h, other.accountId);
  const restricted = await openCase(h, other.accountId, 'csam');
  const decision = await decidedCase(h, other.accountId);
  const appeal = await openAppeal(h, other.accountId);
  const order = await fileOrder(h, buildOrder([{ accountId: violator.accountId }]));
  assert.equal(order.statusCode, 201, order.body);
  const spareAuthority = await addAuthority(h);
  const user = await addUser(h, 'moderator');
  const endpoint = await createEndpoint(h.ctx, TEST_ACTOR, { url: 'http://127.0.0.1:9/hook' });
  const bankName = `fuzz-${crypto.randomBytes(3).toString('hex')}`;
  const pdq = crypto.randomBytes(32).toString('hex');
  await createBank(h.ctx.store.db, TEST_ACTOR, bankName, { category: 'spam' });
  await addHashes(h.ctx.store.db, TEST_ACTOR, bankName, [{ kind: 'pdq', value: pdq }]);
  const tokenRow = await h.ctx.store.db
    .selectFrom('api_tokens')
    .select('id')
    .where('role', '=', 'trusted_flagger')
    .executeTakeFirstOrThrow();
  const byCollection: Record<string, string[]> = {
    accounts: [violator.accountId, other.accountId],
    cases: [open.caseId, restricted.caseId],
    reports: [open.id, restricted.id],
    decisions: [decision.id],
    appeals: [appeal.id],
    'legal-requests': [order.data.id as string],
    authorities: [spareAuthority],
    users: [user.id],
    webhooks: [endpoint.id],
    // Revoking it only takes the trusted flagger's token away; the other roles keep theirs.
    tokens: [tokenRow.id],
  };
  return {
    ids: [...Object.values(byCollection).flat(), open.contentId],
    byCollection,
    bankNames: [bankName],
    bankHashes: [{ kind: 'pdq', value: pdq }],
  };
}

// ---------------------------------------------------------------------------
// Generators derived from a schema.

const ASCII = fc.string({ maxLength: 24 });
const ODD_STRING = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  // Lone surrogates, NUL, control characters: whatever a UTF-16 string may hold.
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff x', '\u202e', '\ufeff', 'é'.normalize('NFD'), '𝕏', ''),
  fc.constantFrom("' OR '1'='1", '"; drop table accounts; --', '../../etc/passwd', '{{7*7}}', '<script>', '%00', '\\'),
);
const DATE_TIME = fc
  .date({ min: new Date('1969-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString());
const BAD_DATE = fc.constantFrom(
  'yesterday',
  '2026-13-45T25:61:61Z',
  '2026-02-30T00:00:00Z',
  '0000-00-00',
  '-271821-04-19T00:00:00Z',
  '+275760-09-13T00:00:01Z',
  '99999-01-01T00:00:00Z',
  '2026-01-01T00:00:00+25:00',
  '1e21',
  '',
);
const BAD_NUMBER = fc.constantFrom(
  '-1',
  '0',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '99999999999999999999',
  '-0',
  ' 1',
);

/** Values of the shape `schema` describes, with random content. `ids` feeds string fields named like ids. */
function arbitraryOf(schema: Schema | undefined, ids: string[], name = '', depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.jsonValue({ maxDepth: 2 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => arbitraryOf(s, ids, name, depth + 1)));
  if (schema.allOf?.length) return arbitraryOf(schema.allOf[0], ids, name, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const base = baseArbitrary(schema, type, ids, name, depth);
  return schema.nullable ? fc.oneof(base, fc.constant(null)) : base;
}

function baseArbitrary(
  schema: Schema,
  type: string | undefined,
  ids: string[],
  name: string,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (type) {
    case 'object': {
      const props = schema.properties ?? {};
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, sub] of Object.entries(props)) shape[key] = arbitraryOf(sub, ids, key, depth + 1);
      if (Object.keys(props).length === 0) return fc.dictionary(ASCII, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      return fc.record(shape, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? minLength + 3, minLength + 3);
      return fc.array(arbitraryOf(schema.items, ids, name, depth + 1), { minLength, maxLength });
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -1e6;
      const max = schema.maximum ?? 1e6;
      return type === 'integer'
        ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
        : fc.double({ min, max, noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'string':
      return stringArbitrary(schema, ids, name);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringArbitrary(schema: Schema, ids: string[], name: string): fc.Arbitrary<string> {
  if (schema.format === 'date-time') return DATE_TIME;
  if (schema.format === 'date') return DATE_TIME.map((d) => d.slice(0, 10));
  if (schema.format === 'email') return fc.emailAddress();
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 64, minLength + 40);
  let plain: fc.Arbitrary<string> = fc.string({ minLength, maxLength });
  if (schema.pattern) {
    try {
      plain = fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 1e9));
    } catch {
      // A pattern fast-check cannot generate from: random strings still exercise it.
    }
  }
  const idLike = /(^id$|Id$|^name$)/.test(name) && ids.length > 0;
  return idLike ? fc.oneof(fc.constantFrom(...ids), plain) : plain;
}

// ---------------------------------------------------------------------------
// Malformed bodies: a valid-shaped value with one thing broken, or no JSON at all.

type JsonPath = Array<string | number>;

function nodesOf(value: unknown, path: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(path);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) nodesOf(v, [...path, i], out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) nodesOf(v, [...path, k], out);
  }
  return out;
}

function setAt(root: unknown, path: JsonPath, replace: (old: unknown, parent: any, key: string | number) => void) {
  if (path.length === 0) return;
  let parent: any = root;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const key = path[path.length - 1] as string | number;
  replace(parent[key], parent, key);
}

const WRONG_TYPED = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  ODD_STRING,
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(ASCII, fc.integer(), { maxKeys: 2 }),
  fc.constantFrom(-1, 0, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, '1', 'true', '[]', '{}'),
);

const DEEP_MARKER = 'deep-marker-7f3a';

/** A mutation applied to a copy of a valid-shaped body; the result is the request's text. */
const MUTATION = fc.record({
  kind: fc.constantFrom('drop', 'extra', 'wrong-type', 'huge', 'deep', 'proto', 'truncate', 'duplicate-key'),
  pick: fc.nat(),
  junk: WRONG_TYPED,
  extraKey: fc.oneof(ASCII, fc.constantFrom('__proto__', 'constructor', 'id', '$where', '')),
  size: fc.constantFrom(1_000, 70_000, BODY_LIMIT + 1),
  depth: fc.constantFrom(64, 1_000, 20_000, 200_000),
  hugeUnit: fc.constantFrom('x', 'é', '😀', '\u0000'),
});

function mutate(value: unknown, m: typeof MUTATION extends fc.Arbitrary<infer T> ? T : never): string {
  const copy = structuredClone(value) as any;
  const nodes = nodesOf(copy);
  const path = nodes[m.pick % nodes.length] as JsonPath;
  const containers = nodes.filter((p) => {
    let v: any = copy;
    for (const k of p) v = v[k];
    return v && typeof v === 'object';
  });
  const container = containers.length ? (containers[m.pick % containers.length] as JsonPath) : [];
  const at = (p: JsonPath) => p.reduce((v: any, k) => v[k], copy);
  switch (m.kind) {
    case 'drop': {
      const target = at(container);
      if (Array.isArray(target)) target.splice(0, 1);
      else if (target && typeof target === 'object') {
        const keys = Object.keys(target);
        if (keys.length) delete target[keys[m.pick % keys.length] as string];
      }
      return JSON.stringify(copy);
    }
    case 'extra': {
      const target = at(container);
      if (Array.isArray(target)) target.push(m.junk);
      else if (target && typeof target === 'object') target[m.extraKey] = m.junk;
      return JSON.stringify(copy) ?? 'null';
    }
    case 'wrong-type':
      if (path.length === 0) return JSON.stringify(m.junk);
      setAt(copy, path, (_old, parent, key) => {
        parent[key] = m.junk;
      });
      return JSON.stringify(copy);
    case 'huge': {
      const huge = m.hugeUnit.repeat(Math.ceil(m.size / Buffer.byteLength(m.hugeUnit)));
      if (path.length === 0) return JSON.stringify(huge);
      setAt(copy, path, (_old, parent, key) => {
        parent[key] = huge;
      });
      return JSON.stringify(copy);
    }
    case 'deep': {
      const deep =
        m.pick % 2 === 0
          ? '['.repeat(m.depth) + ']'.repeat(m.depth)
          : '{"a":'.repeat(m.depth) + '1' + '}'.repeat(m.depth);
      if (path.length === 0) return deep;
      setAt(copy, path, (_old, parent, key) => {
        parent[key] = DEEP_MARKER;
      });
      return JSON.stringify(copy).replace(`"${DEEP_MARKER}"`, deep);
    }
    case 'proto': {
      const text = JSON.stringify(copy) ?? 'null';
      const poison = m.pick % 2 === 0 ? '"__proto__":{"isAdmin":true}' : '"constructor":{"prototype":{"isAdmin":true}}';
      return text.startsWith('{') ? `{${poison}${text.length > 2 ? ',' : ''}${text.slice(1)}` : `{${poison}}`;
    }
    case 'truncate': {
      const text = JSON.stringify(copy) ?? 'null';
      return text.slice(0, m.pick % Math.max(1, text.length));
    }
    default: {
      // duplicate-key: the last one wins in JSON.parse; the first may be the one validated elsewhere.
      const text = JSON.stringify(copy) ?? 'null';
      return text.startsWith('{')
        ? `{"x":1,"x":${JSON.stringify(m.junk)}${text.length > 2 ? ',' : ''}${text.slice(1)}`
        : text;
    }
  }
}

const RAW_BODY = fc.oneof(
  fc.constantFrom('', ' ', 'null', 'true', '0', '"text"', '[]', '{}', '{', '}', '[{]', '{"a":}', 'undefined', 'NaN'),
  fc.constantFrom('\ufeff{}', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":1}garbage', "{'a':1}", '{"a":01}', '{a:1}'),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
);

const CONTENT_TYPE = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/problem+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/jsonx',
  ';;;',
);

// ---------------------------------------------------------------------------
// Query strings, path ids, headers.

/** Like encodeURIComponent, but a lone surrogate becomes its (invalid) three UTF-8-style bytes instead of throwing. */
function encode(text: string): string {
  let out = '';
  for (const char of text) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else out += encodeURIComponent(char);
  }
  return out;
}

const BAD_PERCENT = fc.constantFrom('%', '%zz', '%ff', '%00', '%c0%af', '%e2%82', '%25', '%u0041');

function queryValue(param: Parameter, ids: string[]): fc.Arbitrary<string> {
  const valid = arbitraryOf(param.schema, ids, param.name).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return fc.oneof(
    { weight: 4, arbitrary: valid.map(encode) },
    { weight: 1, arbitrary: BAD_DATE.map(encode) },
    { weight: 1, arbitrary: BAD_NUMBER.map(encode) },
    { weight: 1, arbitrary: ODD_STRING.map(encode) },
    { weight: 1, arbitrary: fc.constantFrom(300, 5_000, 70_000).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: BAD_PERCENT },
  );
}

function queryArbitrary(op: Operation, ids: string[]): fc.Arbitrary<string> {
  /** `arbitrary` or null, null `absent` times in `absent + present`. */
  const sometimes = <T>(arbitrary: fc.Arbitrary<T>, absent: number, present = 1) =>
    fc.oneof({ weight: absent, arbitrary: fc.constant(null) }, { weight: present, arbitrary });
  const parts = op.query.map((p) =>
    fc
      .tuple(queryValue(p, ids), sometimes(queryValue(p, ids), 6))
      .map(([v, repeat]) => `${p.name}=${v}${repeat === null ? '' : `&${p.name}=${repeat}`}`)
      .chain((part) => (p.required ? sometimes(fc.constant(part), 1, 7) : sometimes(fc.constant(part), 1))),
  );
  const unknown = sometimes(
    fc
      .tuple(fc.constantFrom('x', '__proto__', 'constructor', 'limit[]', 'a.b', ''), ODD_STRING)
      .map(([k, v]) => `${k}=${encode(v)}`),
    6,
  );
  const lonely = sometimes(fc.constant('flag'), 8);
  return fc.tuple(fc.tuple(...parts), unknown, lonely).map(([values, ...extras]) => {
    const all = [...values, ...extras].filter((v): v is string => v !== null);
    return all.length ? `?${all.join('&')}` : '';
  });
}

function pathValue(param: Parameter, pools: Pools, collection: string): fc.Arbitrary<string> {
  const real =
    param.name === 'name'
      ? fc.constantFrom(...pools.bankNames)
      : param.name === 'kind'
        ? fc.constantFrom('pdq', 'md5', 'sha256', 'PDQ')
        : param.name === 'value'
          ? fc.constantFrom(...pools.bankHashes.map((x) => x.value), 'f'.repeat(64))
          : fc.constantFrom(...(pools.byCollection[collection] ?? pools.ids));
  return fc.oneof(
    { weight: 4, arbitrary: real },
    { weight: 1, arbitrary: fc.constantFrom(...pools.ids) },
    // An id of another kind, with its prefix swapped.
    { weight: 1, arbitrary: fc.constantFrom(...pools.ids).map((id) => `zz${id.slice(id.indexOf('_'))}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '%20',
        '..',
        '%2e%2e',
        '..%2f..%2fetc%2fpasswd',
        '%2F',
        encode("x' or '1'='1"),
        encode('💥ü'),
        '0',
        '-1',
        'null',
        'undefined',
        '__proto__',
        'constructor',
        'a'.repeat(64),
        'a'.repeat(65),
        'a'.repeat(200),
        'a'.repeat(201),
        'a'.repeat(5_000),
      ),
    },
    { weight: 1, arbitrary: BAD_PERCENT },
    { weight: 2, arbitrary: ODD_STRING.map(encode) },
  );
}

type Caller = (typeof ROLES)[number] | 'anonymous' | 'garbage';

/** Any caller, with the roles the operation admits drawn more often so that cases get past the role check. */
function callerArbitrary(op: Operation): fc.Arbitrary<Caller> {
  const admitted = ROLES.filter((r) => op.roles.includes(r));
  const anyone = fc.constantFrom<Caller>(...ROLES, 'anonymous', 'garbage');
  return admitted.length
    ? fc.oneof({ weight: 2, arbitrary: anyone }, { weight: 3, arbitrary: fc.constantFrom(...admitted) })
    : anyone;
}

/** How the Authorization header carries the token (or garbage in its place). */
const AUTH_FORM = fc.oneof(
  { weight: 8, arbitrary: fc.constant('bearer') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'lowercase',
      'double-space',
      'suffix',
      'truncated',
      'no-scheme',
      'basic',
      'trailing-space',
    ),
  },
);

const GARBAGE_AUTH = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => `Bearer cus_${s}`),
  fc.constantFrom('Bearer', 'Bearer ', '', ' ', 'Bearer cus_', 'Bearer null', 'Token abc', 'Bearer a b'),
  fc.constantFrom(10_000, 60_000).map((n) => `Bearer ${'A'.repeat(n)}`),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, '?')}`),
  fc.constantFrom('Bearer ÿÿÿ', 'Bearer cus_é'),
);

function authorization(token: string, form: string): string {
  switch (form) {
    case 'lowercase':
      return `bearer ${token}`;
    case 'double-space':
      return `Bearer  ${token}`;
    case 'suffix':
      return `Bearer ${token}x`;
    case 'truncated':
      return `Bearer ${token.slice(0, -1)}`;
    case 'no-scheme':
      return token;
    case 'basic':
      return `Basic ${Buffer.from(`user:${token}`).toString('base64')}`;
    case 'trailing-space':
      return `Bearer ${token} `;
    default:
      return `Bearer ${token}`;
  }
}

/** Headers besides Authorization and Content-Type a client (or an attacker) might send. */
const EXTRA_HEADERS = fc.record(
  {
    cookie: fc.constantFrom('custos_session=garbage', 'custos_session=', 'custos_session=a; custos_session=b', '=;=;'),
    'x-csrf-token': fc.constantFrom('', 'x', 'A'.repeat(5_000)),
    'x-request-id': fc.constantFrom('abc', 'req-+49151234567', '192.0.2.1-aaaa', 'a'.repeat(300), 'ok-request-id-1'),
    'content-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ''),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1'),
    'x-huge': fc.constant('h'.repeat(16_000)),
  },
  { requiredKeys: [] },
);

// ---------------------------------------------------------------------------
// One generated request.

interface FuzzRequest {
  caller: Caller;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  remoteAddress: string;
}

function requestArbitrary(op: Operation, pools: Pools, tokens: Harness['tokens']): fc.Arbitrary<FuzzRequest> {
  const pathArb = fc
    .tuple(...op.pathParams.map((p) => pathValue(p, pools, op.path.split('/')[2] ?? '')))
    .map((values) => {
      let path = op.path;
      op.pathParams.forEach((p, i) => {
        path = path.replace(`{${p.name}}`, values[i] as string);
      });
      return path;
    });
  const validBody = arbitraryOf(op.body, pools.ids);
  const bodyArb: fc.Arbitrary<string | undefined> = op.body
    ? fc.oneof(
        { weight: 4, arbitrary: validBody.map((v) => JSON.stringify(v)) },
        { weight: 5, arbitrary: fc.tuple(validBody, MUTATION).map(([v, m]) => mutate(v, m)) },
        { weight: 2, arbitrary: RAW_BODY },
        { weight: 1, arbitrary: fc.constant(undefined) },
      )
    : fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: RAW_BODY });
  // Mostly the documented method; sometimes another one on the same path.
  const methodArb = fc.oneof(
    { weight: 12, arbitrary: fc.constant(op.method) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
  );
  return fc
    .record({
      caller: callerArbitrary(op),
      form: AUTH_FORM,
      garbage: GARBAGE_AUTH,
      method: methodArb,
      path: pathArb,
      query: queryArbitrary(op, pools.ids),
      body: bodyArb,
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: CONTENT_TYPE },
      ),
      extra: fc.option(EXTRA_HEADERS, { freq: 3 }),
      trailingSlash: fc.boolean(),
      client: fc.integer({ min: 1, max: 250 }),
    })
    .map((r) => {
      const headers: Record<string, string> = { ...(r.extra ?? {}) };
      if (r.caller === 'garbage') headers.authorization = r.garbage;
      else if (r.caller !== 'anonymous') headers.authorization = authorization(tokens[r.caller], r.form);
      if (r.body !== undefined && r.contentType !== undefined) headers['content-type'] = r.contentType;
      return {
        caller: r.caller,
        method: r.method,
        url: `${r.path}${r.trailingSlash && r.method === 'GET' ? '/' : ''}${r.query}`,
        headers,
        ...(r.body === undefined ? {} : { payload: r.body }),
        // Spread over addresses so rate limits of public routes do not answer every case.
        remoteAddress: `198.51.100.${r.client}`,
      };
    });
}

// ---------------------------------------------------------------------------
// The store's fingerprint.

/**
 * Refusals the code audits on purpose (legal/refusals.ts: every refused request on the
 * legal-order and authority routes and on legal's read of personal data;
 * identity/sign-in.ts: failed sign-ins). Their audit
 * rows are the point of those features, so they are left out of the comparison; every
 * other audit row still counts. `audit_head` (the chain's tip) necessarily moves with
 * such a row, so it is compared only when no audited refusal was added.
 */
const AUDITED_REFUSALS = [
  'legal_request.refused',
  'authority.refused',
  'personal_data.refused',
  'session.sign_in_failed',
];

interface Fingerprint {
  tables: Map<string, string>;
  refusals: string;
}

/** Builds one query that returns, per table, its row count and a digest of all its rows. */
async function fingerprinter(h: Harness): Promise<() => Promise<Fingerprint>> {
  const db = h.ctx.store.db;
  const refusalList = AUDITED_REFUSALS.map((a) => `'${a}'`).join(',');
  let query: string;
  if (h.dialect === 'postgres') {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`.execute(db);
    query = rows
      .map(({ name }) => {
        const where = name === 'audit_log' ? ` where x.action not in (${refusalList})` : '';
        return `select '${name}' as t, count(*)::text as n, coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as d from "${name}" x${where}`;
      })
      .concat(`select '#refusals', count(*)::text, '' from audit_log where action in (${refusalList})`)
      .join(' union all ');
  } else {
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by 1`.execute(db);
    const parts: string[] = [];
    for (const { name } of rows) {
      const cols = await sql<{ name: string }>`select name from pragma_table_info(${name})`.execute(db);
      const row = cols.rows.map((c) => `quote("${c.name}")`).join(` || ',' || `);
      const where = name === 'audit_log' ? ` where action not in (${refusalList})` : '';
      parts.push(
        `select '${name}' as t, count(*) as n, coalesce(group_concat(r, '|'), '') as d from (select ${row} as r from "${name}"${where} order by 1)`,
      );
    }
    parts.push(`select '#refusals', count(*), '' from audit_log where action in (${refusalList})`);
    query = parts.join(' union all ');
  }
  return async () => {
    const { rows } = await sql.raw<{ t: string; n: unknown; d: string }>(query).execute(db);
    const tables = new Map<string, string>();
    let refusals = '';
    for (const r of rows) {
      if (r.t === '#refusals') refusals = String(r.n);
      else tables.set(r.t, `${r.n}:${crypto.createHash('sha256').update(String(r.d)).digest('hex').slice(0, 16)}`);
    }
    return { tables, refusals };
  };
}

/** Tables whose fingerprint differs, ignoring the audit head when an audited refusal explains it. */
function changedTables(before: Fingerprint, after: Fingerprint): string[] {
  const changed: string[] = [];
  for (const [table, print] of after.tables) {
    if (before.tables.get(table) === print) continue;
    if (table === 'audit_head' && before.refusals !== after.refusals) continue;
    changed.push(table);
  }
  return changed;
}

// ---------------------------------------------------------------------------
// The properties.

/** What a body must never show: stack frames, source or install paths, internal messages. */
const LEAKS = [
  /\n\s+at .+\(.+:\d+:\d+\)/,
  /\\n\s+at /,
  /\/work\//,
  /node_modules/,
  /Cannot read propert/,
  /is not a function/,
  /is not defined/,
  /Maximum call stack/,
  /SQLITE_/,
  /syntax error at or near/,
  /invalid byte sequence/,
  /violates (?:not-null|unique|foreign key|check) constraint/,
];

function describeRequest(req: FuzzRequest): string {
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v]),
  );
  const url = req.url.length > 300 ? `${req.url.slice(0, 300)}…(${req.url.length})` : req.url;
  const payload =
    req.payload === undefined
      ? undefined
      : req.payload.length > 400
        ? `${req.payload.slice(0, 400)}…(${req.payload.length})`
        : req.payload;
  return JSON.stringify({ caller: req.caller, method: req.method, url, headers, payload });
}

/** Simple string seed per operation, so adding a route leaves the other operations' cases as they were. */
function seedFor(key: string): number {
  return (FUZZ_SEED ^ crypto.createHash('sha256').update(key).digest().readInt32BE(0)) | 0;
}

describeEachStore(
  'API fuzzing',
  (get) => {
    let h: Harness;
    let pools: Pools;
    let fingerprint: () => Promise<Fingerprint>;
    let operations: Operation[];

    before(async () => {
      h = get();
      pools = await seed(h);
      fingerprint = await fingerprinter(h);
      operations = operationsOf(h.app.swagger() as never);
    });

    it('reads every operation from the OpenAPI document', () => {
      assert.ok(operations.length >= 50, `only ${operations.length} operations`);
      for (const op of operations) assert.match(op.path, /^\//);
      assert.ok(operations.filter((op) => op.roles.length > 0).length >= 40, 'the role notes are read');
    });

    it('fingerprints see a changed row and ignore only audited refusals', async () => {
      const start = await fingerprint();
      const db = h.ctx.store.db;
      const id = pools.ids[0] as string;
      await db.updateTable('accounts').set({ username: 'fingerprint-probe' }).where('id', '=', id).execute();
      assert.deepEqual(changedTables(start, await fingerprint()), ['accounts']);
      const refused = await h.app.inject({ method: 'GET', url: '/v1/legal-requests/lr_nope', headers: {} });
      assert.equal(refused.statusCode, 401);
      const after = await fingerprint();
      assert.notEqual(after.refusals, start.refusals, 'the refusal was audited');
      assert.deepEqual(changedTables(start, after), ['accounts']);
      await appendAudit(db, TEST_ACTOR, { action: 'fuzz.probe' });
      assert.deepEqual(changedTables(after, await fingerprint()).sort(), ['audit_head', 'audit_log']);
    });

    it('refuses NUL characters in path ids, query strings and bodies on every store (422, nothing stored)', async () => {
      const before = await fingerprint();
      const admin = { authorization: `Bearer ${h.tokens.admin}` };
      const revoke = await h.app.inject({ method: 'POST', url: '/v1/tokens/a%00b/revoke', headers: admin });
      assert.deepEqual(assertErrorBody(revoke, 422, 'validation_failed').details, [
        { path: '/params/id', code: 'invalid_character', message: 'must not contain the NUL character (U+0000)' },
      ]);
      const ingest = await h.app.inject({
        method: 'POST',
        url: '/v1/ingest/accounts',
        headers: { authorization: `Bearer ${h.tokens.platform}` },
        payload: { accounts: [{ id: 'acc-nul', username: 'nul\u0000name' }] },
      });
      const error = assertErrorBody(ingest, 422, 'validation_failed');
      assert.deepEqual(
        (error.details as Array<{ path: string }>).map((d) => d.path),
        ['/accounts/0/username'],
      );
      const audit = await h.app.inject({
        method: 'GET',
        url: `/v1/audit?from=${encodeURIComponent('2026-01-01T00:00:00Z')}%00`,
        headers: admin,
      });
      assertErrorBody(audit);
      assert.deepEqual(changedTables(before, await fingerprint()), []);
    });

    it(`survives ${FUZZ_RUNS} random requests per operation as every caller (seed ${FUZZ_SEED})`, async () => {
      const stats = { requests: 0, byStatus: new Map<number, number>() };
      for (const op of operations) {
        const key = `${op.method} ${op.path}`;
        if (FUZZ_ONLY && !FUZZ_ONLY.test(key)) continue;
        const seed = seedFor(key);
        const opStatuses = new Map<number, number>();
        const property = fc.asyncProperty(requestArbitrary(op, pools, h.tokens), async (req) => {
          const before = await fingerprint();
          const res = await h.app.inject({
            method: req.method as 'GET',
            url: req.url,
            headers: req.headers,
            payload: req.payload,
            remoteAddress: req.remoteAddress,
          });
          stats.requests++;
          stats.byStatus.set(res.statusCode, (stats.byStatus.get(res.statusCode) ?? 0) + 1);
          opStatuses.set(res.statusCode, (opStatuses.get(res.statusCode) ?? 0) + 1);
          const what = `${res.statusCode} ${res.body.slice(0, 600)}`;
          assert.ok(res.statusCode < 500, `a server error: ${what}`);
          assertNoStack(res);
          for (const leak of LEAKS) assert.doesNotMatch(res.body, leak, `the body leaks internals: ${what}`);
          if (res.statusCode >= 400) {
            // Every refusal, the router's and the parser's included, speaks SPEC.md's error shape.
            assertErrorBody(res);
            const after = await fingerprint();
            const changed = changedTables(before, after);
            assert.deepEqual(changed, [], `a refused request (${what}) changed ${changed.join(', ')}`);
          }
        });
        const details = await fc.check(property, { numRuns: FUZZ_RUNS, seed });
        if (process.env.CUSTOS_FUZZ_VERBOSE) {
          console.log(`${key} ${JSON.stringify([...opStatuses.entries()].sort((a, b) => a[0] - b[0]))}`);
        }
        if (details.failed) {
          const error = details.errorInstance;
          const counterexample = details.counterexample?.[0];
          throw new Error(
            `${key} failed after ${details.numRuns} cases and ${details.numShrinks} shrinks ` +
              `(CUSTOS_FUZZ_SEED=${FUZZ_SEED}, operation seed ${details.seed}, path ${details.counterexamplePath}; ` +
              `CUSTOS_FUZZ_ONLY='^${key.replace(/[{}]/g, '\\$&')}$' reruns this operation alone)\n` +
              `request: ${counterexample ? describeRequest(counterexample) : '?'}\n` +
              `${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }
      }
      const statuses = [...stats.byStatus.entries()].sort((a, b) => a[0] - b[0]);
      // Shown with --test-reporter=spec; useful to see that the cases reach past 401/403/400.
      console.log(`fuzzed ${stats.requests} requests; statuses ${JSON.stringify(statuses)}`);
      assert.ok(stats.requests > 0, 'CUSTOS_FUZZ_ONLY matches no operation');
    });
  },
  { config: { bodyLimitBytes: BODY_LIMIT } },
);
