import type { Logger } from 'pino';
import type { Config } from './config.js';
import { loadMasterKey } from './crypto/master-key.js';
import { PersonalDataCipher } from './crypto/personal-data-cipher.js';
import { type OpenStoreOptions, type Store, openStore } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createLogger } from './logging.js';
import { type Policy, loadPolicy } from './policy/policy.js';
import { type DisclosurePolicy, loadDisclosurePolicy } from './legal/disclosure-policy.js';
import { recordPolicyVersions } from './transparency/policy-history.js';
import { HashMatcher } from './hashes/matcher.js';
import { buildScanning } from './scanning/build.js';
import { NatsScanQueue } from './scanning/nats-queue.js';
import type { ScanPipeline } from './scanning/pipeline.js';
import type { ScanningPolicy } from './scanning/scanning-policy.js';

/**
 * Everything a request handler, a worker or a CLI command needs, built in one
 * place. Nothing else constructs stores, keys or loggers.
 */
export interface Context {
  readonly config: Config;
  readonly store: Store;
  readonly cipher: PersonalDataCipher;
  readonly logger: Logger;
  /** The policy in force; its version is recorded with every decision. */
  readonly policy: Policy;
  /** The disclosure policy in force; its version is recorded with every check and review of a legal order. */
  readonly disclosure: DisclosurePolicy;
  /** The content scanning pipeline and the policy's scanning rules. */
  readonly scanner: ScanPipeline;
  readonly scanning: ScanningPolicy;
  /** The hash banks in memory (loaded on first use; servers and workers follow their changes). */
  readonly hashes: HashMatcher;
  /** The NATS JetStream scan stream, in processes that asked for it when CUSTOS_NATS_URL is set. */
  readonly scanQueue?: NatsScanQueue;
}

export interface ContextOptions extends OpenStoreOptions {
  logger?: Logger;
  /** Run migrations on open (the server does; `custos migrate` does it explicitly). */
  migrate?: boolean;
  /**
   * Connect to NATS when CUSTOS_NATS_URL is set (the server and `custos worker`
   * do; one-shot commands do not). Never waits for NATS: see NatsScanQueue.
   */
  scanQueue?: boolean;
}

export async function createContext(config: Config, options: ContextOptions = {}): Promise<Context> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const policy = loadPolicy(config.policyFile);
  const disclosure = loadDisclosurePolicy(config.disclosurePolicyFile);
  const cipher = new PersonalDataCipher(loadMasterKey(config.dataDir, config.masterKey));
  const store = await openStore(config, options);
  let built: Awaited<ReturnType<typeof buildScanning>>;
  const hashes = new HashMatcher(store.db);
  try {
    await store.ping();
    if (options.migrate ?? true) await migrateToLatest(store);
    await recordPolicyVersions(store.db, [
      { kind: 'moderation', name: policy.name, version: policy.version, file: policy.file },
      { kind: 'disclosure', name: disclosure.name, version: disclosure.version, file: disclosure.file },
    ]).catch((err) => logger.warn({ err }, 'could not record the policy versions (schema not migrated yet?)'));
    built = await buildScanning(policy, {
      textModelFile: config.textModelFile,
      onnxTextModelDir: config.onnxTextModelDir,
      nsfwModel: config.nsfwModel,
      warn: (message) => logger.warn(message),
      hashMatcher: hashes,
    });
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  const { scanner, scanning } = built;
  const scanQueue =
    options.scanQueue && config.natsUrl
      ? new NatsScanQueue({
          url: config.natsUrl,
          prefix: config.natsPrefix,
          ackWaitMs: config.natsAckWaitMs,
          replicas: config.natsReplicas,
          logger,
        })
      : undefined;
  return { config, store, cipher, logger, policy, disclosure, scanner, scanning, hashes, scanQueue };
}

export async function closeContext(ctx: Context): Promise<void> {
  ctx.hashes.stop();
  await ctx.scanQueue?.close();
  await ctx.store.close();
}
