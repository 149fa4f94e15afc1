import { ConfigError, type Config, loadConfig } from '../config.js';
import { type Context, closeContext, createContext } from '../context.js';
import { isStoreUnavailable } from '../db/store-errors.js';
import { AppError } from '../errors.js';
import { MasterKeyError } from '../crypto/master-key.js';
import { createLogger } from '../logging.js';
import { PolicyError } from '../policy/policy.js';
import { TextModelError } from '../scanning/classifier/text-model.js';
import { OnnxTextModelError } from '../scanning/onnx-text-scanner.js';
import { NsfwModelError } from '../scanning/nsfw-scanner.js';

export const EXIT = { ok: 0, failure: 1, config: 2, store: 3 } as const;

/** Reads the configuration, or prints what is wrong with it and exits 2. */
export function configOrExit(overrides: Partial<Config> = {}): Config {
  try {
    return loadConfig(process.env, overrides);
  } catch (error) {
    fail(error);
  }
}

/** Prints an error the way a person can act on it, then exits with its code. */
export function fail(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`custos: configuration error: ${error.message}\n`);
    process.exit(EXIT.config);
  }
  if (
    error instanceof MasterKeyError ||
    error instanceof PolicyError ||
    error instanceof TextModelError ||
    error instanceof OnnxTextModelError ||
    error instanceof NsfwModelError
  ) {
    process.stderr.write(`custos: ${error.message}\n`);
    process.exit(EXIT.config);
  }
  if (isStoreUnavailable(error) || (error instanceof AppError && error.code === 'store_unavailable')) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    const detail = cause || (error instanceof Error ? error.message : String(error));
    process.stderr.write(`custos: cannot reach the data store: ${detail}\n`);
    process.exit(EXIT.store);
  }
  if (error instanceof AppError) {
    const details = error.details ? ` ${JSON.stringify(error.details)}` : '';
    process.stderr.write(`custos: ${error.code}: ${error.message}${details}\n`);
    process.exit(EXIT.failure);
  }
  process.stderr.write(`custos: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(EXIT.failure);
}

/** Runs a one-shot command with a context (store opened and migrated), then closes it. */
export async function withContext<T>(fn: (ctx: Context) => Promise<T>, overrides: Partial<Config> = {}): Promise<T> {
  const config = configOrExit(overrides);
  let ctx: Context | undefined;
  let result: T;
  try {
    ctx = await createContext(config, { logger: createLogger('warn') });
    result = await fn(ctx);
  } catch (error) {
    if (ctx) await closeContext(ctx).catch(() => {});
    fail(error);
  }
  await closeContext(ctx).catch(() => {});
  return result;
}

/** The CLI's audit actor: the operating-system user who ran it. */
export function cliActor() {
  return { id: `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`, role: 'system' as const };
}
