import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `custos` executable of this checkout. */
export const CUSTOS_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/custos.js');

/**
 * The environment of this process without any CUSTOS_* variable (a developer's
 * CUSTOS_DATABASE_URL must not leak into a child under test) and without the
 * test runner's own markers, plus `extra`.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('CUSTOS_') || k.startsWith('NODE_TEST') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Runs `node bin/custos.js …args` to completion (killed after `timeoutMs`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CUSTOS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A long-running `custos` child (a server), with its output collected as it comes. */
export interface CliServer {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects if the child exits first, or kills it and rejects on timeout. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves with the exit code (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): CliServer {
  const child = spawn(process.execPath, [CUSTOS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitWaiters: Array<(e: { code: number | null; signal: NodeJS.Signals | null }) => void> = [];
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  child.on('close', (code, signal) => {
    exited = { code, signal };
    for (const w of exitWaiters.splice(0)) w(exited);
  });
  const onExit = () =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      if (exited) resolve(exited);
      else exitWaiters.push(resolve);
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = () => {
          const m = out.match(pattern);
          if (m) return resolve(m);
          if (exited) return reject(new Error(`custos exited (${exited.code ?? exited.signal}) first: ${err || out}`));
          if (Date.now() > deadline) {
            // A child that never said what was awaited is useless, and its open pipes would keep
            // the test process alive after the test failed: kill it.
            child.kill('SIGKILL');
            return reject(new Error(`timed out waiting for ${pattern}: ${err || out}`));
          }
          setTimeout(poll, 50);
        };
        poll();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (exited) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await onExit();
      clearTimeout(timer);
      return result;
    },
  };
}

/** Polls `url` until it answers 200 (or throws after `timeoutMs`). */
export async function waitUntilUp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
      last = res.status;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up: ${String(last)}`);
}

/** What a POST to a child Custos answered; status 0 when the connection failed (the process died). */
export interface PostAnswer {
  status: number;
  data: any;
  /** Why the request failed, when it did (the socket error's code, or the message). */
  error?: string;
}

/** POSTs JSON to a Custos child process (a bearer token when given) and reads the answer as JSON, else text. */
export async function postJson(
  url: string,
  token: string | null,
  body: unknown,
  timeoutMs: number,
): Promise<PostAnswer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
    return { status: res.status, data };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    return { status: 0, data: undefined, error: e.cause?.code ?? e.message };
  }
}
