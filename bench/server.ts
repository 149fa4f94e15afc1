import { type ChildProcess, execFile, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nowMs } from './stats.js';

/**
 * The real server for the HTTP benchmarks (report intake, content scanning):
 * `node bin/custos.js serve` in a child process of its own, configured only by
 * the environment given, with a platform token made by `custos token create`.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'bin', 'custos.js');
const run = promisify(execFile);

const started = nowMs();
/** A progress line on stderr, with the seconds since the suite started. */
export function log(message: string): void {
  process.stderr.write(`  [${((nowMs() - started) / 1000).toFixed(1)} s] ${message}\n`);
}

/** Child processes still running, ended on Ctrl-C by `killChildrenNow`. */
const children = new Set<ChildProcess>();

export function killChildrenNow(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Registers a child process of a benchmark so that Ctrl-C ends it too. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * The server's whole environment: the caller's, minus every CUSTOS_* variable
 * (nothing of the caller's configuration leaks in), plus a fresh data folder,
 * `CUSTOS_LOG_LEVEL=warn` and, for PostgreSQL, the database URL. `custos` is the
 * CUSTOS_* part alone, to open the same store afterwards with `toConfig`.
 */
export function serverEnv(
  dataDir: string,
  databaseUrl: string | undefined,
): { env: Record<string, string>; custos: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CUSTOS_') && v !== undefined) env[k] = v;
  const custos: Record<string, string> = {
    CUSTOS_DATA_DIR: dataDir,
    CUSTOS_LOG_LEVEL: 'warn',
    ...(databaseUrl ? { CUSTOS_DATABASE_URL: databaseUrl } : {}),
  };
  return { env: { ...env, ...custos }, custos };
}

/** A platform token, made with `custos token create` against the server's store. */
export async function createPlatformToken(env: Record<string, string>): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'token', 'create', '--role', 'platform', '--name', 'bench', '--json'],
    { cwd: ROOT, env },
  );
  return (JSON.parse(stdout) as { token: string }).token;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface Server {
  child: ChildProcess;
  /** The last output of the server, shown when it fails. */
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `custos serve` on the port and waits until /readyz answers 200 (60 s at most). */
export async function startServer(
  env: Record<string, string>,
  port: number,
  cpuProfDir?: string,
  extraArgs: readonly string[] = [],
): Promise<Server> {
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`] : [];
  const child = spawn(process.execPath, [...profile, CLI, 'serve', '--port', String(port), ...extraArgs], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  const server: Server = { child, output: () => output, exited };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become ready in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM (a graceful stop, so a CPU profile gets written), SIGKILL after 20 s. */
export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`the server did not stop within 20 s of SIGTERM; killing it:\n${server.output()}`);
    server.child.kill('SIGKILL');
  }, 20_000);
  const code = await server.exited;
  clearTimeout(timer);
  if (code !== 0) log(`the server exited with ${code}:\n${server.output()}`);
}

/** POST of a JSON body with the token; anything but 200 is an error. */
export async function post(origin: string, token: string, route: string, body: unknown): Promise<void> {
  const res = await fetch(`${origin}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${route} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}
