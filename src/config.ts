import net from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';

/**
 * Configuration comes from the environment only, so the server, the workers and
 * every CLI command read the same values. `readEnv` collects the raw strings;
 * `toConfig` checks them, applies defaults and freezes the result. A bad value
 * throws a ConfigError naming the variable, and the process stops before it
 * touches any data.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** Folder for the SQLite file, the generated master key and demo tokens. */
  readonly dataDir: string;
  /** PostgreSQL URL; when absent the embedded SQLite store is used. */
  readonly databaseUrl: string | undefined;
  /** 32-byte master key given in the environment, or undefined to use the key file. */
  readonly masterKey: Buffer | undefined;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  /** Largest request body accepted, in bytes (413 beyond). */
  readonly bodyLimitBytes: number;
  /** Sessions older than this are purged (unless the account is preserved). */
  readonly sessionRetentionDays: number;
  /** How often the retention job runs. */
  readonly retentionIntervalMs: number;
  /** How long SQLite waits for a lock before the request fails with 503. */
  readonly sqliteBusyTimeoutMs: number;
  /**
   * SQLite's `synchronous` in WAL mode. NORMAL (default): a commit survives a
   * crash of the process, and the last commits may be lost on power loss; FULL
   * survives power loss too, at one fsync per commit (about 170 commits/s on the
   * reference machine against 7,000).
   */
  readonly sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Size of the PostgreSQL connection pool. */
  readonly pgPoolSize: number;
  /**
   * A PostgreSQL read replica (streaming standby) for the heavy read-only reports:
   * the transparency figures, the DSA export and the auditors' access report.
   * Unset: they read the primary. Everything that writes, and every read that
   * decides something, stays on the primary.
   */
  readonly readDatabaseUrl: string | undefined;
  /** Size of the read replica's connection pool. */
  readonly pgReadPoolSize: number;
  /** Policy file (YAML or JSON); the shipped `policy/current.yaml` when unset. */
  readonly policyFile: string | undefined;
  /** Disclosure policy file; the shipped `policy/disclosure/current.yaml` when unset. */
  readonly disclosurePolicyFile: string | undefined;
  /** DSA Transparency Database submission endpoint (statements of reasons are sent there when set). */
  readonly dsaEndpoint: string | undefined;
  /** Bearer token for the DSA endpoint. */
  readonly dsaToken: string | undefined;
  /** How often pending statements are sent to the DSA endpoint. */
  readonly dsaSubmitIntervalMs: number;
  /** Published transparency counts below this are shown as a range ("1–9"); 1 shows every count. */
  readonly transparencyMinCount: number;
  /** How often the legal jobs (deadline warnings, user notices, unfinished disclosures) run. */
  readonly legalJobsIntervalMs: number;
  /** How long one webhook delivery may take before it counts as failed. */
  readonly webhookTimeoutMs: number;
  /** How often the outbox is polled for due webhook deliveries. */
  readonly webhookPollMs: number;
  /** First retry delay of a failed webhook; doubles with each attempt. */
  readonly webhookRetryBaseMs: number;
  /**
   * Folder of an operator-supplied ONNX text classifier in the transformers.js layout
   * (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx; see
   * docs/MODEL.md), run as an extra scanner. Unset (default): no ONNX scanner, and the
   * optional onnxruntime-node and @huggingface/transformers packages are never loaded.
   */
  readonly onnxTextModelDir: string | undefined;
  /**
   * One of the image models bundled with nsfwjs (MobileNetV2, MobileNetV2Mid,
   * InceptionV3), run as an extra image scanner for sexual content. Unset (default):
   * no such scanner, and the optional nsfwjs and @tensorflow/* packages are never loaded.
   */
  readonly nsfwModel: string | undefined;
  /**
   * Weights of our linear text classifier (`custos model train` writes them);
   * the shipped models/text-linear-v1.bin when unset. A missing or corrupt file
   * stops the start with its path: no silent fallback to rules alone.
   */
  readonly textModelFile: string | undefined;
  /**
   * NATS server(s), comma-separated; when set, scan jobs flow through a JetStream
   * stream to any number of worker processes instead of the job table alone.
   */
  readonly natsUrl: string | undefined;
  /** First token of the NATS subjects and stream names (one deployment, one prefix). */
  readonly natsPrefix: string;
  /** How long JetStream waits for a worker's ack before handing the message to another worker. */
  readonly natsAckWaitMs: number;
  /** Copies JetStream keeps of each stream in a NATS cluster (1 on a single server; 3 in production). */
  readonly natsReplicas: number;
  /** How often running scanners read the hash banks' changes (imports, disabled hashes) from the store. */
  readonly hashRefreshMs: number;
  /**
   * The `Secure` attribute of the sign-in cookie: `auto` (default) when the request came
   * over TLS to this process, `always` behind a TLS-terminating proxy, `never` for
   * plain-HTTP development only.
   */
  readonly cookieSecure: 'auto' | 'always' | 'never';
  /** Sign-in attempts (POST /v1/session) accepted per client address and minute; beyond, 429. */
  readonly signInRateLimitPerMinute: number;
  /**
   * The reverse proxies in front (addresses or CIDR ranges): a request from one of them is
   * taken to come from the address its `X-Forwarded-For` names, over the protocol its
   * `X-Forwarded-Proto` names, so rate limits count each client and the session cookie is
   * Secure behind a TLS proxy. Empty (the default): the headers are ignored, since any
   * client could write them.
   */
  readonly trustProxy: readonly string[];
  /**
   * Load shedding (http/overload.ts): requests handled at once; one more is answered
   * 503 `overloaded` with Retry-After at once. 0 turns the limit off.
   */
  readonly overloadMaxInFlight: number;
  /** Mean event-loop delay, over each of the last two samples, above which new requests are shed (0: off). */
  readonly overloadMaxEventLoopDelayMs: number;
  /** V8 heap in use above which new requests are shed (0: off); 90% of the heap limit by default. */
  readonly overloadMaxHeapUsedBytes: number;
  /** How often the event-loop delay and the heap are sampled for load shedding. */
  readonly overloadSampleMs: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type RawEnv = Record<string, string | undefined>;

const VARIABLES = [
  'CUSTOS_DATA_DIR',
  'CUSTOS_DATABASE_URL',
  'CUSTOS_DATABASE_READ_URL',
  'CUSTOS_MASTER_KEY',
  'CUSTOS_HOST',
  'CUSTOS_PORT',
  'CUSTOS_LOG_LEVEL',
  'CUSTOS_BODY_LIMIT_BYTES',
  'CUSTOS_SESSION_RETENTION_DAYS',
  'CUSTOS_RETENTION_INTERVAL_MS',
  'CUSTOS_SQLITE_BUSY_TIMEOUT_MS',
  'CUSTOS_SQLITE_SYNCHRONOUS',
  'CUSTOS_PG_POOL_SIZE',
  'CUSTOS_PG_READ_POOL_SIZE',
  'CUSTOS_POLICY_FILE',
  'CUSTOS_DISCLOSURE_POLICY_FILE',
  'CUSTOS_LEGAL_JOBS_INTERVAL_MS',
  'CUSTOS_DSA_ENDPOINT',
  'CUSTOS_DSA_TOKEN',
  'CUSTOS_DSA_SUBMIT_INTERVAL_MS',
  'CUSTOS_TRANSPARENCY_MIN_COUNT',
  'CUSTOS_WEBHOOK_TIMEOUT_MS',
  'CUSTOS_WEBHOOK_POLL_MS',
  'CUSTOS_WEBHOOK_RETRY_BASE_MS',
  'CUSTOS_ONNX_TEXT_MODEL_DIR',
  'CUSTOS_NSFW_MODEL',
  'CUSTOS_TEXT_MODEL_FILE',
  'CUSTOS_NATS_URL',
  'CUSTOS_NATS_PREFIX',
  'CUSTOS_NATS_ACK_WAIT_MS',
  'CUSTOS_NATS_REPLICAS',
  'CUSTOS_HASH_REFRESH_MS',
  'CUSTOS_COOKIE_SECURE',
  'CUSTOS_SIGN_IN_RATE_LIMIT',
  'CUSTOS_TRUST_PROXY',
  'CUSTOS_OVERLOAD_MAX_IN_FLIGHT',
  'CUSTOS_OVERLOAD_MAX_LOOP_DELAY_MS',
  'CUSTOS_OVERLOAD_MAX_HEAP_MB',
  'CUSTOS_OVERLOAD_SAMPLE_MS',
] as const;

/** Picks the CUSTOS_* variables out of an environment; empty strings count as unset. */
export function readEnv(env: RawEnv = process.env): RawEnv {
  const raw: RawEnv = {};
  for (const name of VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') raw[name] = value.trim();
  }
  return raw;
}

function integer(raw: RawEnv, name: string, fallback: number, min: number, max: number): number {
  const value = raw[name];
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function masterKey(raw: RawEnv): Buffer | undefined {
  const value = raw.CUSTOS_MASTER_KEY;
  if (value === undefined) return undefined;
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) key = Buffer.from(value, 'base64');
  if (key?.length !== 32) {
    throw new ConfigError('CUSTOS_MASTER_KEY', 'must be 32 bytes, as 64 hex digits or base64');
  }
  return key;
}

function databaseUrl(raw: RawEnv, name: 'CUSTOS_DATABASE_URL' | 'CUSTOS_DATABASE_READ_URL'): string | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a URL (expected postgres://user@host:port/db)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must be a postgres:// URL, got ${url.protocol}//`);
  }
  return value;
}

function readDatabaseUrl(raw: RawEnv): string | undefined {
  const value = databaseUrl(raw, 'CUSTOS_DATABASE_READ_URL');
  if (value !== undefined && raw.CUSTOS_DATABASE_URL === undefined) {
    throw new ConfigError('CUSTOS_DATABASE_READ_URL', 'needs CUSTOS_DATABASE_URL (a replica of which primary?)');
  }
  return value;
}

function httpUrl(raw: RawEnv, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a URL (expected http:// or https://)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, got ${url.protocol}//`);
  }
  return value;
}

function natsUrl(raw: RawEnv): string | undefined {
  const value = raw.CUSTOS_NATS_URL;
  if (value === undefined) return undefined;
  // A URL may carry credentials (nats://user:secret@host): name the problem, never the value.
  for (const server of value.split(',')) {
    let url: URL;
    try {
      url = new URL(server.trim());
    } catch {
      throw new ConfigError('CUSTOS_NATS_URL', 'is not a URL (expected nats://host:4222, comma-separated for several)');
    }
    if ((url.protocol !== 'nats:' && url.protocol !== 'tls:') || url.hostname === '') {
      throw new ConfigError('CUSTOS_NATS_URL', `must be nats://host:port or tls://host:port, got ${url.protocol}//`);
    }
  }
  return value;
}

function natsPrefix(raw: RawEnv): string {
  const value = raw.CUSTOS_NATS_PREFIX ?? 'custos';
  // One subject token, lower case: it also names streams, where case-only differences would collide.
  if (!/^[a-z0-9_-]{1,32}$/.test(value)) {
    throw new ConfigError('CUSTOS_NATS_PREFIX', `must be 1-32 of a-z, 0-9, _ and -, got "${value}"`);
  }
  return value;
}

function oneOf<T extends string>(raw: RawEnv, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw[name];
  if (value === undefined) return fallback;
  const upper = value.toUpperCase() as T;
  if (!allowed.includes(upper)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  return upper;
}

function onnxTextModelDir(raw: RawEnv): string | undefined {
  const value = raw.CUSTOS_ONNX_TEXT_MODEL_DIR;
  if (value === undefined) return undefined;
  // The loader reads onnx/model.onnx, config.json and the tokenizer from the folder.
  if (/\.(onnx|json)$/i.test(value)) {
    throw new ConfigError(
      'CUSTOS_ONNX_TEXT_MODEL_DIR',
      'must name the model folder (holding config.json, tokenizer.json and onnx/model.onnx), not a file in it',
    );
  }
  return path.resolve(value);
}

/** The models nsfwjs bundles (NSFW_MODELS in scanning/nsfw-scanner.ts, which loads sharp: not imported here). */
const NSFW_MODEL_NAMES = ['MobileNetV2', 'MobileNetV2Mid', 'InceptionV3'];

function nsfwModel(raw: RawEnv): string | undefined {
  const value = raw.CUSTOS_NSFW_MODEL;
  if (value === undefined) return undefined;
  if (!NSFW_MODEL_NAMES.includes(value)) {
    throw new ConfigError('CUSTOS_NSFW_MODEL', `must be one of ${NSFW_MODEL_NAMES.join(', ')}, got "${value}"`);
  }
  return value;
}

const COOKIE_SECURE = ['auto', 'always', 'never'] as const;

function cookieSecure(raw: RawEnv): Config['cookieSecure'] {
  const value = (raw.CUSTOS_COOKIE_SECURE ?? 'auto').toLowerCase();
  if (!(COOKIE_SECURE as readonly string[]).includes(value)) {
    throw new ConfigError('CUSTOS_COOKIE_SECURE', `must be one of ${COOKIE_SECURE.join(', ')}, got "${value}"`);
  }
  return value as Config['cookieSecure'];
}

const MiB = 1024 * 1024;

/**
 * CUSTOS_TRUST_PROXY: comma-separated addresses or CIDR ranges of the proxies. Ranges wider
 * than a /8 (IPv4) or a /32 (IPv6) are refused: a proxy fleet does not span them, and a
 * range that wide would let clients anywhere in it write their own X-Forwarded-For. IPv4
 * ranges are written as IPv4: an IPv4-mapped IPv6 range (::ffff:0:0/96) would trust every
 * IPv4 client.
 */
const IPV4_MAPPED = new net.BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

function trustProxy(raw: RawEnv): string[] {
  const value = raw.CUSTOS_TRUST_PROXY;
  if (value === undefined) return [];
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const refuse = (entry: string, why: string): never => {
    throw new ConfigError('CUSTOS_TRUST_PROXY', `"${entry}" ${why}`);
  };
  for (const entry of entries) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = net.isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    if (
      family === 0 ||
      rest.length > 0 ||
      (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) ||
      Number(prefix) > bits
    ) {
      refuse(entry, 'is not an address or a CIDR range of the proxies (e.g. 10.0.0.0/8,::1)');
    }
    if (family === 6 && IPV4_MAPPED.check(address!, 'ipv6')) {
      refuse(entry, 'is an IPv4-mapped IPv6 address: write the IPv4 address or range instead');
    }
    const widest = family === 4 ? 8 : 32;
    if (prefix !== undefined && Number(prefix) < widest) {
      refuse(entry, `is wider than /${widest}: clients in it could claim any address`);
    }
  }
  return entries;
}

/** Shed before V8 runs out of heap (a crash loses every request in flight), not at the edge. */
function overloadMaxHeapUsedBytes(raw: RawEnv): number {
  const limitMiB = Math.floor(v8.getHeapStatistics().heap_size_limit / MiB);
  const mib = integer(raw, 'CUSTOS_OVERLOAD_MAX_HEAP_MB', Math.floor(limitMiB * 0.9), 0, 1024 * 1024);
  return mib * MiB;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Validates raw values and returns the frozen configuration. */
export function toConfig(raw: RawEnv, overrides: Partial<Config> = {}): Config {
  const logLevel = (raw.CUSTOS_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('CUSTOS_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const config: Config = {
    dataDir: path.resolve(raw.CUSTOS_DATA_DIR ?? './data'),
    databaseUrl: databaseUrl(raw, 'CUSTOS_DATABASE_URL'),
    readDatabaseUrl: readDatabaseUrl(raw),
    masterKey: masterKey(raw),
    host: raw.CUSTOS_HOST ?? '127.0.0.1',
    port: integer(raw, 'CUSTOS_PORT', 8080, 0, 65535),
    logLevel,
    bodyLimitBytes: integer(raw, 'CUSTOS_BODY_LIMIT_BYTES', 16 * 1024 * 1024, 1024, 1024 ** 3),
    sessionRetentionDays: integer(raw, 'CUSTOS_SESSION_RETENTION_DAYS', 365, 1, 36500),
    retentionIntervalMs: integer(raw, 'CUSTOS_RETENTION_INTERVAL_MS', 60 * 60 * 1000, 1000, 7 * 86400000),
    sqliteBusyTimeoutMs: integer(raw, 'CUSTOS_SQLITE_BUSY_TIMEOUT_MS', 5000, 0, 600000),
    sqliteSynchronous: oneOf(raw, 'CUSTOS_SQLITE_SYNCHRONOUS', ['NORMAL', 'FULL'] as const, 'NORMAL'),
    pgPoolSize: integer(raw, 'CUSTOS_PG_POOL_SIZE', 10, 1, 1000),
    pgReadPoolSize: integer(raw, 'CUSTOS_PG_READ_POOL_SIZE', 5, 1, 1000),
    policyFile: raw.CUSTOS_POLICY_FILE ? path.resolve(raw.CUSTOS_POLICY_FILE) : undefined,
    disclosurePolicyFile: raw.CUSTOS_DISCLOSURE_POLICY_FILE
      ? path.resolve(raw.CUSTOS_DISCLOSURE_POLICY_FILE)
      : undefined,
    dsaEndpoint: httpUrl(raw, 'CUSTOS_DSA_ENDPOINT'),
    dsaToken: raw.CUSTOS_DSA_TOKEN,
    dsaSubmitIntervalMs: integer(raw, 'CUSTOS_DSA_SUBMIT_INTERVAL_MS', 60_000, 100, 86_400_000),
    transparencyMinCount: integer(raw, 'CUSTOS_TRANSPARENCY_MIN_COUNT', 10, 1, 1000),
    legalJobsIntervalMs: integer(raw, 'CUSTOS_LEGAL_JOBS_INTERVAL_MS', 60_000, 100, 86_400_000),
    webhookTimeoutMs: integer(raw, 'CUSTOS_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    webhookPollMs: integer(raw, 'CUSTOS_WEBHOOK_POLL_MS', 1000, 10, 600_000),
    webhookRetryBaseMs: integer(raw, 'CUSTOS_WEBHOOK_RETRY_BASE_MS', 2000, 1, 3_600_000),
    onnxTextModelDir: onnxTextModelDir(raw),
    nsfwModel: nsfwModel(raw),
    textModelFile: raw.CUSTOS_TEXT_MODEL_FILE ? path.resolve(raw.CUSTOS_TEXT_MODEL_FILE) : undefined,
    natsUrl: natsUrl(raw),
    natsPrefix: natsPrefix(raw),
    natsAckWaitMs: integer(raw, 'CUSTOS_NATS_ACK_WAIT_MS', 60_000, 1000, 3_600_000),
    natsReplicas: integer(raw, 'CUSTOS_NATS_REPLICAS', 1, 1, 5),
    hashRefreshMs: integer(raw, 'CUSTOS_HASH_REFRESH_MS', 2000, 10, 600_000),
    cookieSecure: cookieSecure(raw),
    signInRateLimitPerMinute: integer(raw, 'CUSTOS_SIGN_IN_RATE_LIMIT', 60, 1, 100_000),
    trustProxy: trustProxy(raw),
    overloadMaxInFlight: integer(raw, 'CUSTOS_OVERLOAD_MAX_IN_FLIGHT', 256, 0, 1_000_000),
    overloadMaxEventLoopDelayMs: integer(raw, 'CUSTOS_OVERLOAD_MAX_LOOP_DELAY_MS', 1000, 0, 600_000),
    overloadMaxHeapUsedBytes: overloadMaxHeapUsedBytes(raw),
    overloadSampleMs: integer(raw, 'CUSTOS_OVERLOAD_SAMPLE_MS', 500, 10, 60_000),
    ...overrides,
  };
  return Object.freeze(config);
}

/** Reads and validates the process environment. */
export function loadConfig(env: RawEnv = process.env, overrides: Partial<Config> = {}): Config {
  return toConfig(readEnv(env), overrides);
}
