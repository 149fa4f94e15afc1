import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateStatement } from '../../src/transparency/dsa-rules.js';

/**
 * What a request does instead of being answered normally:
 * - `ok`: nothing, it is answered normally;
 * - `unavailable`: 503, nothing created;
 * - `drop`: the connection is cut before anything is created;
 * - `reject_batch`: 422 naming no statement (a problem with the batch as a whole);
 * - `accept_then_drop`: the next request that creates statements creates them, then the
 *   connection is cut (the answer is lost); requests creating nothing pass it by.
 */
export type Fault = 'ok' | 'unavailable' | 'drop' | 'reject_batch' | 'accept_then_drop';

/** What a request meant for one statement in it. */
export type Outcome = 'created' | 'duplicate' | 'not_created';

export interface DsaRequest {
  /** 1 for the first request, 2 for the second, … */
  n: number;
  authorized: boolean;
  /** The body was not `{"statements":[1 to 100 statements]}`. */
  malformed: boolean;
  puids: string[];
  /** The status answered, or 'dropped' when the connection was cut. */
  status: number | 'dropped';
  outcomes: Map<string, Outcome>;
}

export interface FakeDsaDatabase {
  readonly url: string;
  readonly token: string;
  readonly requests: DsaRequest[];
  /** How many times each puid was created: the real database would hold each once. */
  readonly created: Map<string, number>;
  /** Faults still to happen, in order: each request takes the first (see Fault). */
  readonly faults: Fault[];
  close(): Promise<void>;
}

/**
 * A stand-in for the DSA Transparency Database's multiple-statements endpoint on
 * 127.0.0.1, with the contract of the real one: a bearer token; a body
 * `{"statements":[…]}` of 1 to 100 statements; each statement checked against the
 * same rules (plus `refuses`, a rule only this server knows, as when the database
 * adds one); all of a batch created or none; 422 with `errors.statement_<i>` for
 * refused statements, 422 with `errors.existing_puids` (409 with `existing_puids`
 * when every statement is known) for puids it holds already; 201 when created.
 */
export async function startFakeDsaDatabase(
  options: { refuses?: (statement: any) => string | null } = {},
): Promise<FakeDsaDatabase> {
  const token = `tdb-${crypto.randomBytes(8).toString('hex')}`;
  const requests: DsaRequest[] = [];
  const created = new Map<string, number>();
  const faults: Fault[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: DsaRequest = {
        n: requests.length + 1,
        authorized: req.headers.authorization === `Bearer ${token}`,
        malformed: false,
        puids: [],
        status: 0,
        outcomes: new Map(),
      };
      requests.push(entry);
      const answer = (status: number, body: unknown) => {
        entry.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const cut = () => {
        entry.status = 'dropped';
        req.socket.destroy();
      };
      const notCreated = () => {
        for (const p of entry.puids) entry.outcomes.set(p, 'not_created');
      };
      if (req.method !== 'POST') return answer(405, { message: 'Method not allowed.' });
      if (!entry.authorized) return answer(401, { message: 'Unauthenticated.' });
      let json: any;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        entry.malformed = true;
        return answer(400, { message: 'The body is not JSON.' });
      }
      const statements = json?.statements;
      if (
        !Array.isArray(statements) ||
        statements.length === 0 ||
        statements.length > 100 ||
        Object.keys(json).length !== 1
      ) {
        entry.malformed = true;
        return answer(422, {
          message: 'The statements field must be an array of 1 to 100 statements.',
          errors: { statements: ['The statements field must be an array of 1 to 100 statements.'] },
        });
      }
      entry.puids = statements.map((s: any) => String(s?.puid));
      const fault = faults[0] === 'accept_then_drop' ? undefined : faults.shift();
      if (fault === 'unavailable') {
        notCreated();
        return answer(503, { message: 'Service Unavailable' });
      }
      if (fault === 'drop') {
        notCreated();
        return cut();
      }
      if (fault === 'reject_batch') {
        notCreated();
        return answer(422, { message: 'The payload is invalid.', errors: { payload: ['The payload is invalid.'] } });
      }
      const errors: Record<string, Record<string, string[]>> = {};
      statements.forEach((s: unknown, i: number) => {
        const fields = new Set(validateStatement(s).map((p) => p.path.split('/')[1] || 'statement'));
        const refused = options.refuses?.(s);
        if (refused) fields.add(refused);
        if (fields.size > 0) {
          errors[`statement_${i}`] = Object.fromEntries(
            [...fields].map((f) => [f, [`The ${f.replaceAll('_', ' ')} is invalid.`]]),
          );
        }
      });
      if (Object.keys(errors).length > 0) {
        notCreated();
        return answer(422, { message: 'Some statements are invalid.', errors });
      }
      if (new Set(entry.puids).size !== entry.puids.length) {
        notCreated();
        return answer(422, {
          message: 'The identifier(s) are not unique within this call.',
          errors: { puid: ['The identifier(s) are not unique within this call.'] },
        });
      }
      const existing = entry.puids.filter((p) => created.has(p));
      if (existing.length > 0) {
        for (const p of entry.puids) entry.outcomes.set(p, existing.includes(p) ? 'duplicate' : 'not_created');
        const message = 'The identifiers given are not unique within this platform.';
        if (existing.length === entry.puids.length) return answer(409, { message, existing_puids: existing });
        return answer(422, { message, errors: { puid: [message], existing_puids: existing } });
      }
      for (const p of entry.puids) {
        created.set(p, (created.get(p) ?? 0) + 1);
        entry.outcomes.set(p, 'created');
      }
      if (faults[0] === 'accept_then_drop') {
        faults.shift();
        return cut();
      }
      answer(201, { statements: statements.map((s: object) => ({ ...s, uuid: crypto.randomUUID() })) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/statements`,
    token,
    requests,
    created,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
