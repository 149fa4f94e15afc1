#!/usr/bin/env node
// Builds the web app into web/dist. With `--if-stale` it builds only when there is no
// build yet or a source file (web/src, index.html, the Vite config) is newer than it
// (npm start, the tests). Without Vite installed (a production install without dev
// dependencies) it says so and leaves the server to serve what exists.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.dirname(fileURLToPath(import.meta.url));
const built = path.join(web, 'dist', '.vite', 'manifest.json');

/** The newest modification time among the app's sources. */
function newestSource() {
  let newest = 0;
  const visit = (p) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(p)) visit(path.join(p, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const p of ['src', 'index.html', 'vite.config.ts']) visit(path.join(web, p));
  return newest;
}

const ifStale = process.argv.includes('--if-stale');
const fresh = () => fs.existsSync(built) && fs.statSync(built).mtimeMs >= newestSource();
if (ifStale && fresh()) process.exit(0);

let vite;
try {
  vite = await import('vite');
} catch {
  console.warn('custos: Vite is not installed, so the web app was not built (npm install, then npm run build:web).');
  process.exit(0);
}

// Two test files may ask at once: one builds, the other waits and then finds the build fresh.
const lock = path.join(
  os.tmpdir(),
  `custos-web-build-${crypto.createHash('sha256').update(web).digest('hex').slice(0, 12)}.lock`,
);
for (let waited = 0; ; waited += 200) {
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
    break;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    // A lock older than two minutes belongs to a build that died.
    let age = 0;
    try {
      age = Date.now() - fs.statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (waited > 120_000 || age > 120_000) fs.rmSync(lock, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
try {
  if (!(ifStale && fresh())) {
    await vite.build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' });
    console.log('custos: web app built into web/dist');
  }
} finally {
  fs.rmSync(lock, { force: true });
}
