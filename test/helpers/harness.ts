import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app.js';
import { type Config, toConfig } from '../../src/config.js';
import { type Context, closeContext, createContext } from '../../src/context.js';
import type { Dialect } from '../../src/db/database.js';
import { ROLES, type Role } from '../../src/identity/roles.js';
import { createToken } from '../../src/identity/tokens.js';
import { createAuthority } from '../../src/authorities/service.js';
import { createLogger } from '../../src/logging.js';
import { type CryptoKey, type JWK, exportJWK, generateKeyPair } from 'jose';

/** A fresh key pair an authority registers (public) and opens its packages with (private). */
export async function authorityKeyPair(): Promise<{
  publicJwk: Record<string, unknown>;
  privateKey: CryptoKey;
  privateJwk: JWK;
}> {
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  return {
    publicJwk: { ...(await exportJWK(publicKey)), use: 'enc' },
    privateKey,
    privateJwk: await exportJWK(privateKey),
  };
}

/** PostgreSQL used by the suite; each suite gets its own schema in it. */
export const TEST_PG_URL = process.env.CUSTOS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Stores to run against: CUSTOS_TEST_STORES=sqlite or =postgres narrows the run. */
export const TEST_STORES: Dialect[] = (process.env.CUSTOS_TEST_STORES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Dialect => s === 'sqlite' || s === 'postgres');

export const TEST_ACTOR = { id: 'test', role: 'system' as const };

export type Tokens = Record<Role, string> & { authorityId: string };

/** A running Custos for one suite: its own store, app, log capture and one token per role. */
export interface Harness {
  dialect: Dialect;
  ctx: Context;
  app: FastifyInstance;
  config: Config;
  tokens: Tokens;
  /** The key pair of the harness's authority (tokens.authority): its packages open with `privateKey`. */
  authorityKey: Awaited<ReturnType<typeof authorityKeyPair>>;
  /** Every log line written so far, as text. */
  logs: () => string;
  /** Schema name (postgres) or file (sqlite), for tests that open the raw store. */
  location: string;
  call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
    url: string,
    options?: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse & { data: any }>;
}

export interface HarnessOptions {
  config?: Partial<Config>;
}

/** Creates a store (SQLite file in a fresh folder, or a fresh PostgreSQL schema) and the app on it. */
export async function startHarness(dialect: Dialect, options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-test-'));
  const schema = `t_${crypto.randomBytes(6).toString('hex')}`;
  const config = toConfig(
    { CUSTOS_DATA_DIR: dataDir, ...(dialect === 'postgres' ? { CUSTOS_DATABASE_URL: TEST_PG_URL } : {}) },
    { logLevel: 'info', pgPoolSize: 4, ...options.config },
  );
  let captured = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      captured += chunk.toString();
      cb();
    },
  });
  const ctx = await createContext(config, { pgSchema: schema, logger: createLogger('info', sink) });
  const app = await buildApp(ctx);
  const authorityKey = await authorityKeyPair();
  const authorityId = await createAuthority(ctx.store.db, TEST_ACTOR, {
    name: 'Test Police',
    country: 'DE',
    kind: 'police',
    contactEmail: 'police@example.org',
    publicJwk: authorityKey.publicJwk,
  });
  const tokens = { authorityId } as Tokens;
  for (const role of ROLES) {
    const created = await createToken(ctx.store.db, TEST_ACTOR, {
      role,
      name: `test ${role}`,
      authorityId: role === 'authority' ? authorityId : null,
    });
    tokens[role] = created.token;
  }
  return {
    dialect,
    ctx,
    app,
    config,
    tokens,
    authorityKey,
    logs: () => captured,
    location: dialect === 'postgres' ? schema : path.join(dataDir, 'custos.sqlite'),
    async call(method, url, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let payload: string | undefined;
      if (opts.rawBody !== undefined) payload = opts.rawBody;
      else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
      if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await app.inject({ method, url, headers, payload });
      let data: unknown;
      try {
        data = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        data = res.body;
      }
      return Object.assign(res, { data });
    },
  };
}

export async function stopHarness(h: Harness): Promise<void> {
  await h.app.close();
  if (h.dialect === 'postgres') {
    await sql`drop schema if exists ${sql.id(h.location)} cascade`.execute(h.ctx.store.db).catch(() => {});
  }
  await closeContext(h.ctx);
  fs.rmSync(h.config.dataDir, { recursive: true, force: true });
}

/**
 * Runs a suite once per store. Inside, `get()` returns that store's harness,
 * created before the suite's tests and torn down after them.
 */
export function describeEachStore(
  name: string,
  fn: (get: () => Harness, dialect: Dialect) => void,
  options: HarnessOptions = {},
): void {
  for (const dialect of TEST_STORES) {
    describe(`${name} [${dialect}]`, () => {
      let harness: Harness | undefined;
      before(async () => {
        harness = await startHarness(dialect, options);
      });
      after(async () => {
        if (harness) await stopHarness(harness);
      });
      fn(() => {
        if (!harness) throw new Error('harness not started');
        return harness;
      }, dialect);
    });
  }
}
