import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import react from '@vitejs/plugin-react';
import { type Plugin, defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Writes `.br` and `.gz` beside every script, style sheet and SVG, so the server
 * (src/web/routes.ts, @fastify/static `preCompressed`) sends them compressed
 * without compressing on each request.
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'custos-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle(_options, bundle) {
      for (const file of Object.keys(bundle)) {
        if (!/\.(js|css|svg|html)$/.test(file) || file === 'index.html') continue;
        const full = path.join(outDir, file);
        const body = fs.readFileSync(full);
        if (body.length < 1024) continue;
        fs.writeFileSync(`${full}.gz`, zlib.gzipSync(body, { level: 9 }));
        fs.writeFileSync(
          `${full}.br`,
          zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

// The app is served by Custos itself at /, /console, /portal and /report (src/web/routes.ts);
// its files live under /console/assets/.
export default defineConfig({
  root,
  base: '/console/',
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Every supported browser preloads modules itself; the polyfill would be dead code.
    modulePreload: { polyfill: false },
    // No inline data: URLs, so the CSP needs no `data:` source.
    assetsInlineLimit: 0,
    sourcemap: false,
    // dist/.vite/manifest.json: which chunks each area loads (test/web-serving.test.ts measures the first load).
    manifest: true,
  },
  server: {
    // `vite` for development: the API runs on `npm start` (port 8080).
    proxy: { '/v1': 'http://127.0.0.1:8080', '/transparency': 'http://127.0.0.1:8080' },
  },
});
