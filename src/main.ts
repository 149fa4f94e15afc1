import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { type Context, closeContext, createContext } from './context.js';
import { assertMasterKeyFits } from './crypto/master-key-rotation.js';
import { seedDemo } from './demo/seed.js';
import { type Workers, startWorkers } from './workers/scheduler.js';

export interface ServeOptions {
  demo?: boolean;
  /** Run background jobs in this process (the embedded default). */
  workers?: boolean;
}

export interface RunningServer {
  ctx: Context;
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** Starts the API (and, by default, the in-process workers) on the configured port. */
export async function serve(config: Config, options: ServeOptions = {}): Promise<RunningServer> {
  // With NATS configured even an API-only server connects, to report the queue in /readyz.
  const ctx = await createContext(config, { scanQueue: true });
  let app: FastifyInstance | undefined;
  let workers: Workers | undefined;
  try {
    // Refuse to serve with a key the data is not under (the old key after a rotation).
    await assertMasterKeyFits(ctx.store.db, ctx.cipher);
    if (options.demo) {
      const seeded = await seedDemo(ctx);
      ctx.logger.info(
        {
          accounts: seeded.accounts,
          tokensFile: seeded.tokensFile,
          usersFile: seeded.usersFile,
          seeded: seeded.seeded,
        },
        'demo data ready',
      );
    }
    app = await buildApp(ctx);
    // Imports and disabled hashes reach this process's scanner within the refresh interval.
    ctx.hashes.start(config.hashRefreshMs, ctx.logger);
    const url = await app.listen({ host: config.host, port: config.port });
    if (options.workers ?? true) workers = startWorkers(ctx);
    ctx.logger.info({ url, store: ctx.store.description }, 'custos is listening');
    const running: RunningServer = {
      ctx,
      app,
      url,
      async stop() {
        await workers?.stop();
        await app?.close();
        await closeContext(ctx);
      },
    };
    return running;
  } catch (error) {
    await workers?.stop();
    await app?.close();
    await closeContext(ctx);
    throw error;
  }
}
