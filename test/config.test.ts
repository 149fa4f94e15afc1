import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, readEnv, toConfig } from '../src/config.js';
import { cleanEnv, runCli } from './helpers/cli-process.js';

const HEX_KEY = 'a1'.repeat(32);

/** Runs toConfig(readEnv(env)) and returns the ConfigError it must throw. */
function configError(env: Record<string, string>): ConfigError {
  let thrown: unknown;
  try {
    toConfig(readEnv(env));
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(env)}, got ${String(thrown)}`);
  return thrown;
}

describe('configuration', () => {
  const bad: Array<[string, string]> = [
    ['CUSTOS_PORT', 'abc'],
    ['CUSTOS_PORT', '70000'],
    ['CUSTOS_PORT', '-1'],
    ['CUSTOS_PORT', '80.5'],
    ['CUSTOS_MASTER_KEY', 'short'],
    ['CUSTOS_MASTER_KEY', 'ab'.repeat(31)],
    ['CUSTOS_DATABASE_URL', 'mysql://x'],
    ['CUSTOS_DATABASE_URL', 'not a url'],
    ['CUSTOS_LOG_LEVEL', 'loud'],
    ['CUSTOS_SESSION_RETENTION_DAYS', '0'],
    ['CUSTOS_SESSION_RETENTION_DAYS', 'forever'],
    ['CUSTOS_BODY_LIMIT_BYTES', '10'],
    ['CUSTOS_RETENTION_INTERVAL_MS', '5'],
    ['CUSTOS_SQLITE_BUSY_TIMEOUT_MS', '1s'],
    ['CUSTOS_PG_POOL_SIZE', '0'],
    ['CUSTOS_HASH_REFRESH_MS', '5'],
  ];
  for (const [variable, value] of bad) {
    it(`refuses ${variable}=${JSON.stringify(value)}, naming the variable`, () => {
      const error = configError({ [variable]: value });
      assert.equal(error.variable, variable);
      assert.ok(error.message.startsWith(`${variable}:`), error.message);
    });
  }

  it('never repeats a bad master key or database URL in its message (they are secrets)', () => {
    const key = configError({ CUSTOS_MASTER_KEY: 'my-secret-but-too-short-key' });
    assert.ok(!key.message.includes('my-secret-but-too-short-key'), key.message);
    const url = configError({ CUSTOS_DATABASE_URL: 'mysql://admin:hunter2@db.example.org/custos' });
    assert.ok(!url.message.includes('hunter2'), url.message);
  });

  it('has the documented defaults and freezes the result', () => {
    const config = toConfig(readEnv({}));
    const documented = {
      dataDir: path.resolve('./data'),
      databaseUrl: undefined,
      masterKey: undefined,
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'info',
      bodyLimitBytes: 16 * 1024 * 1024,
      sessionRetentionDays: 365,
      retentionIntervalMs: 60 * 60 * 1000,
      sqliteBusyTimeoutMs: 5000,
      pgPoolSize: 10,
      hashRefreshMs: 2000,
    };
    const actual = Object.fromEntries(Object.keys(documented).map((k) => [k, config[k as keyof typeof config]]));
    assert.deepEqual(actual, documented);
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      CUSTOS_DATA_DIR: '/srv/custos',
      CUSTOS_DATABASE_URL: 'postgresql://custos@db:5432/custos',
      CUSTOS_MASTER_KEY: HEX_KEY,
      CUSTOS_HOST: '0.0.0.0',
      CUSTOS_PORT: '9000',
      CUSTOS_LOG_LEVEL: 'debug',
      CUSTOS_BODY_LIMIT_BYTES: '2048',
      CUSTOS_SESSION_RETENTION_DAYS: '90',
      CUSTOS_RETENTION_INTERVAL_MS: '60000',
      CUSTOS_SQLITE_BUSY_TIMEOUT_MS: '250',
      CUSTOS_PG_POOL_SIZE: '3',
      CUSTOS_HASH_REFRESH_MS: '500',
    });
    assert.equal(config.dataDir, '/srv/custos');
    assert.equal(config.databaseUrl, 'postgresql://custos@db:5432/custos');
    assert.deepEqual(config.masterKey, Buffer.from(HEX_KEY, 'hex'));
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 9000);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.bodyLimitBytes, 2048);
    assert.equal(config.sessionRetentionDays, 90);
    assert.equal(config.retentionIntervalMs, 60000);
    assert.equal(config.sqliteBusyTimeoutMs, 250);
    assert.equal(config.pgPoolSize, 3);
    assert.equal(config.hashRefreshMs, 500);
  });

  it('accepts the master key as 64 hex digits or as base64 of the same 32 bytes', () => {
    const bytes = Buffer.from(HEX_KEY, 'hex');
    const fromHex = toConfig(readEnv({ CUSTOS_MASTER_KEY: HEX_KEY })).masterKey;
    const fromBase64 = toConfig(readEnv({ CUSTOS_MASTER_KEY: bytes.toString('base64') })).masterKey;
    const fromBase64Url = toConfig(readEnv({ CUSTOS_MASTER_KEY: bytes.toString('base64url') })).masterKey;
    assert.deepEqual(fromHex, bytes);
    assert.deepEqual(fromBase64, bytes);
    assert.deepEqual(fromBase64Url, bytes);
  });

  it('readEnv keeps only CUSTOS_* variables, trims them and treats empty values as unset', () => {
    const raw = readEnv({
      CUSTOS_PORT: ' 9001 ',
      CUSTOS_HOST: '   ',
      CUSTOS_LOG_LEVEL: '',
      PATH: '/bin',
      HOME: '/root',
    });
    assert.deepEqual(raw, { CUSTOS_PORT: '9001' });
    const config = toConfig(raw);
    assert.equal(config.port, 9001);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.logLevel, 'info');
  });

  it('lets explicit overrides (command-line flags) win over the environment', () => {
    const config = toConfig(readEnv({ CUSTOS_PORT: '9000', CUSTOS_DATA_DIR: '/a' }), { port: 0, dataDir: '/b' });
    assert.equal(config.port, 0);
    assert.equal(config.dataDir, '/b');
  });

  it('`custos serve` with CUSTOS_PORT=abc exits 2 naming CUSTOS_PORT, before touching the data dir', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-config-'));
    const dataDir = path.join(parent, 'data');
    try {
      const result = await runCli(['serve'], cleanEnv({ CUSTOS_PORT: 'abc', CUSTOS_DATA_DIR: dataDir }));
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /CUSTOS_PORT/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'a configuration error is a message, not a stack trace');
      assert.equal(fs.existsSync(dataDir), false, 'nothing is created when the configuration is bad');
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
