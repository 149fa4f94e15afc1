import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Harness, TEST_PG_URL } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'custos.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a `custos` child process needs to see the harness's store: the
 * same data dir (SQLite file, master key) and, for PostgreSQL, the same database and
 * schema. The CLI has no schema option; node-pg reads PGOPTIONS like libpq does, so
 * `-c search_path=<schema>` puts the child in the suite's schema.
 */
export function cliEnv(h: Harness): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CUSTOS_') && k !== 'PGOPTIONS') env[k] = v;
  }
  env.CUSTOS_DATA_DIR = h.config.dataDir;
  env.CUSTOS_LOG_LEVEL = 'warn';
  if (h.dialect === 'postgres') {
    env.CUSTOS_DATABASE_URL = TEST_PG_URL;
    env.PGOPTIONS = `-c search_path=${h.location}`;
  }
  return env;
}

/**
 * Runs `node bin/custos.js ...args` against the harness's store and collects its output.
 * A run takes a few seconds (tsx compiles the sources); the generous timeout is for
 * loaded CI machines, and a killed run shows as `code: null`.
 */
export function runCli(h: Harness, args: string[], timeoutMs = 180_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: cliEnv(h),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
