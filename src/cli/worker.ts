import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { type Context, closeContext, createContext } from '../context.js';
import { assertMasterKeyFits } from '../crypto/master-key-rotation.js';
import { type Workers, startWorkers } from '../workers/scheduler.js';
import { configOrExit, fail } from './run-command.js';

function concurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 256) throw new InvalidArgumentError('a whole number from 1 to 256');
  return n;
}

/**
 * `custos worker`: the server's background jobs without its API, for running as
 * many processes as the load needs beside stateless `custos serve --workers 0`.
 */
export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'Run the background jobs without the API: scanning (from NATS JetStream when CUSTOS_NATS_URL is set, else from the job table), webhook delivery, suspension expiry, retention',
    )
    .option('--data-dir <dir>', 'data folder (default: CUSTOS_DATA_DIR or ./data)')
    .option('--concurrency <n>', 'scans in flight at once (NATS mode)', concurrency, 4)
    .action(async (opts: { dataDir?: string; concurrency: number }) => {
      const config = configOrExit(opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {});
      let ctx: Context | undefined;
      let workers: Workers | undefined;
      try {
        ctx = await createContext(config, { scanQueue: true });
        await assertMasterKeyFits(ctx.store.db, ctx.cipher);
        ctx.hashes.start(config.hashRefreshMs, ctx.logger);
        workers = startWorkers(ctx, { scanConcurrency: opts.concurrency });
      } catch (error) {
        if (ctx) await closeContext(ctx).catch(() => {});
        fail(error);
      }
      const running = ctx;
      running.logger.info(
        { store: running.store.description, scanning: running.scanQueue ? 'nats' : 'table' },
        'custos worker is running',
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        running.logger.info({ signal }, 'shutting down');
        // Bounded: scans in flight get a few seconds to finish and ack; anything
        // unacknowledged is redelivered by JetStream (or re-leased from the table).
        setTimeout(() => {
          running.logger.warn({ signal }, 'graceful shutdown took over 10 s; exiting now');
          process.exit(0);
        }, 10_000).unref();
        await workers?.stop();
        await closeContext(running).catch(() => {});
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
