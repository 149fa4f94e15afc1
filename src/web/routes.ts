import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build:web` writes the single-page app (web/vite.config.ts). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** The URL prefix of the built files; Vite's `base` (web/vite.config.ts) must match. */
export const ASSETS_PREFIX = '/console/assets/';

/**
 * Vite emits external module scripts and style sheets only, so nothing inline is
 * allowed. React sets `style` through the CSSOM (the list's row offsets), which
 * `style-src 'self'` does not block. Images are our own (case previews).
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Client routes of the app: each answers index.html and the app draws the page. */
const CLIENT_ROUTES = ['/', '/console', '/console/*', '/portal', '/portal/*', '/report', '/report/*'];

/** A year: the file names carry a hash of their content, so a changed file is a new URL. */
const ASSET_MAX_AGE_MS = 365 * 86_400_000;

interface IndexFile {
  mtimeMs: number;
  body: Buffer;
  etag: string;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Custos</title>
<h1>The web app is not built</h1><p>Run <code>npm run build:web</code> and start Custos again.</p></html>`;

/**
 * The console, the authority portal, the public report form and the home page:
 * one Vite build served from `web/dist`. Hashed assets are cached for a year;
 * index.html is revalidated on every load, so a new build is picked up at once.
 */
export const webRoutes =
  (dist: string = WEB_DIST): FastifyPluginAsync =>
  async (app) => {
    const indexPath = path.join(dist, 'index.html');
    const assetsRoot = path.join(dist, 'assets');
    let cached: IndexFile | null = null;

    app.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', WEB_CSP);
    });

    if (fs.existsSync(assetsRoot)) {
      await app.register(fastifyStatic, {
        root: assetsRoot,
        prefix: ASSETS_PREFIX,
        decorateReply: false,
        index: false,
        list: false,
        dotfiles: 'deny',
        // web/vite.config.ts writes .br and .gz beside each script and style sheet.
        preCompressed: true,
        cacheControl: true,
        maxAge: ASSET_MAX_AGE_MS,
        immutable: true,
        schemaHide: true,
      });
    } else {
      app.log.warn({ dist }, 'web app not built: run npm run build:web');
    }

    const readIndex = async (): Promise<IndexFile | null> => {
      const stat = await fs.promises.stat(indexPath).catch(() => null);
      if (!stat) return null;
      if (cached && cached.mtimeMs === stat.mtimeMs) return cached;
      const body = await fs.promises.readFile(indexPath);
      cached = {
        mtimeMs: stat.mtimeMs,
        body,
        etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      };
      return cached;
    };

    const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
      const index = await readIndex();
      if (!index) return reply.code(503).type('text/html; charset=utf-8').header('retry-after', '30').send(NOT_BUILT);
      reply.header('cache-control', 'no-cache').header('etag', index.etag);
      if (request.headers['if-none-match'] === index.etag) return reply.code(304).send();
      return reply.type('text/html; charset=utf-8').send(index.body);
    };

    for (const url of CLIENT_ROUTES) app.get(url, { schema: { hide: true } }, sendIndex);
  };
