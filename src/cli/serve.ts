import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { serve } from '../main.js';
import { configOrExit, fail } from './run-command.js';

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('a port number (0-65535)');
  return n;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('Start the API, the web pages and the embedded workers')
    .option('--demo', 'seed a small demo platform and write DIR/demo-tokens.json and DIR/demo-users.json')
    .option('--data-dir <dir>', 'data folder (default: CUSTOS_DATA_DIR or ./data)')
    .option('--port <n>', 'port to listen on (default: CUSTOS_PORT or 8080)', port)
    .option('--host <host>', 'address to listen on (default: CUSTOS_HOST or 127.0.0.1)')
    .option('--workers <n>', 'in-process workers: 0 for API only', '1')
    .action(async (opts: { demo?: boolean; dataDir?: string; port?: number; host?: string; workers: string }) => {
      const config = configOrExit({
        ...(opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {}),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.host ? { host: opts.host } : {}),
      });
      try {
        const server = await serve(config, { demo: opts.demo, workers: opts.workers !== '0' });
        if (opts.demo) {
          process.stdout.write(
            `Custos demo at ${server.url}  (tokens: ${path.join(config.dataDir, 'demo-tokens.json')}, API docs: ${server.url}/docs)\n`,
          );
          process.stdout.write(
            `Sign in at ${server.url}/console and ${server.url}/portal  (users, passwords and TOTP secrets: ${path.join(config.dataDir, 'demo-users.json')})\n`,
          );
        }
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          server.ctx.logger.info({ signal }, 'shutting down');
          // Bounded shutdown: everything acknowledged is already committed (and outboxes
          // resume on the next start), so a stop that hangs on a busy store is cut short.
          setTimeout(() => {
            server.ctx.logger.warn({ signal }, 'graceful shutdown took over 5 s; exiting now');
            process.exit(0);
          }, 5000).unref();
          await server.stop();
          process.exit(0);
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      } catch (error) {
        fail(error);
      }
    });
}
