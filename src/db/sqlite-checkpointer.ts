import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the request path. With SQLite's automatic checkpoint the
 * commit that crosses the threshold copies the WAL into the database and waits
 * for the disk, on the event loop: about a fifth of a report's time went there.
 * The SQLite documentation allows the alternative used here: the serving
 * connection checkpoints only as a safety net (a large threshold), and a thread
 * with a connection of its own runs PASSIVE checkpoints — which never block
 * writers or readers — every `intervalMs`. If the thread dies, the safety net
 * still bounds the WAL. (https://sqlite.org/wal.html, "Application-initiated
 * checkpoints" and "Automatic checkpoint".)
 */
export interface Checkpointer {
  stop(): Promise<void>;
}

// Plain JavaScript so the thread needs no TypeScript loader.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
let stopped = false;
function tick() {
  if (stopped) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage({ error: String(error && error.message || error) }); }
  timer = setTimeout(tick, workerData.intervalMs);
}
let timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { stopped = true; clearTimeout(timer); try { db.close(); } catch {} parentPort.close(); }
});
`;

export function startCheckpointer(
  file: string,
  options: { intervalMs?: number; busyTimeoutMs?: number; onError?: (message: string) => void } = {},
): Checkpointer {
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      intervalMs: options.intervalMs ?? 250,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    },
  });
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m.error) options.onError?.(m.error);
  });
  worker.on('error', (error) => options.onError?.(error.message));
  return {
    async stop() {
      // Held (ref) while stopping, or a process with nothing else to do would exit mid-await.
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
      });
      await Promise.race([exited, timeout]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
