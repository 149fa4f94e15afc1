import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import type { Harness } from './harness.js';

/** Debian's Chromium (`.ci/run` installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Why browser tests cannot run here (say it in the skip message), or false when they can. */
export function browserUnavailable(): string | false {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed';
  }
  return false;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface Served {
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/** A second app on the harness's store, listening on a free port for the browser. */
export async function serveHarness(h: Harness): Promise<Served> {
  const app = await buildApp(h.ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { app, base: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** What went wrong in the page: console errors, uncaught errors, CSP violations, outbound requests, 5xx. */
  problems: string[];
}

export interface WatchOptions {
  /** Statuses ≥ 400 that are expected (a 401 from GET /v1/session before signing in, a 404 for a wrong key, …). */
  expectStatus?: (status: number, url: string) => boolean;
  /** The window's size; a laptop's (1280×900) unless told, e.g. a phone's (390×844). */
  viewport?: { width: number; height: number };
}

/**
 * A fresh browser context (its own cookies) and page, watched: any request leaving
 * for another origin is blocked and recorded (a CDN or a leak), as are console
 * errors, uncaught exceptions, CSP violations and unexpected error statuses.
 */
export async function watchedPage(browser: Browser, base: string, options: WatchOptions = {}): Promise<WatchedPage> {
  const problems: string[] = [];
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  await context.route(
    (url) => !url.href.startsWith(base),
    (route) => {
      problems.push(`outbound request ${route.request().url()}`);
      return route.abort();
    },
  );
  // Runs before the page's scripts, through the debugging protocol: the page's CSP does not apply to it.
  await context.addInitScript(
    "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
  );
  const page = await context.newPage();
  page.on('console', (m) => {
    // A failed fetch the page handles (401, 404, 409, 422) is logged by Chromium as an error line; the
    // response watcher below judges those.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    const status = r.status();
    if (status >= 400 && !(options.expectStatus?.(status, r.url()) ?? false)) problems.push(`${status} ${r.url()}`);
  });
  return { context, page, problems };
}

/**
 * How far the page is wider than its window, in CSS pixels (0 when nothing overflows
 * sideways), and the widest elements that stick out, to name in a failure.
 */
export async function horizontalOverflow(page: Page): Promise<{ by: number; culprits: string[] }> {
  return page.evaluate(`(() => {
    const width = window.innerWidth;
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .map((el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' ' + Math.round(el.getBoundingClientRect().right))
      .slice(0, 5);
    return { by: Math.max(0, document.scrollingElement.scrollWidth - width), culprits };
  })()`) as Promise<{ by: number; culprits: string[] }>;
}

/** CSP violations the page saw so far. */
export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate('window.__csp ?? []') as Promise<string[]>;
}

let axeSource: string | undefined;

/**
 * Runs axe-core on the page (WCAG 2 A and AA rules) and returns the serious and
 * critical violations, one line each. axe is evaluated through the debugging
 * protocol, so the page's CSP (no inline scripts) stays on.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  axeSource ??= fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const result = (await page.evaluate(`axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  })`)) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
}

/** Whether the server offers staff sign-in (POST /v1/session answers something other than 404). */
export async function sessionRouteAvailable(base: string): Promise<boolean> {
  const res = await fetch(`${base}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'probe', password: 'probe' }),
  });
  return res.status !== 404;
}

/** Types the username and password, and the one-time code when the page asks for it. */
export async function signInThroughPage(
  page: Page,
  user: { username: string; password: string },
  code?: () => Promise<string>,
): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (code) {
    const field = page.getByLabel('One-time code');
    await field.waitFor();
    await field.fill(await code());
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}
