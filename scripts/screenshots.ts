/**
 * Saves a screenshot of each main page to docs/screenshots/ (issue 8), for the README.
 *
 *   node --import tsx scripts/screenshots.ts      (or: npm run screenshots)
 *
 * Builds the web pages when stale, starts `custos serve --demo` on a temporary
 * data folder and a free port, signs in as the demo users (TOTP codes from
 * demo-users.json, made by otplib) and saves 1280×800 PNGs in light mode.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import type { Role } from '../src/identity/roles.js';
import { TOTP_REQUIRED_ROLES } from '../src/identity/users.js';
import { CHROMIUM, CHROMIUM_ARGS, signInThroughPage } from '../test/helpers/browser.js';
import { cleanEnv, startCli, waitUntilUp } from '../test/helpers/cli-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'docs/screenshots');
const VIEWPORT = { width: 1280, height: 800 };

interface DemoUser {
  username: string;
  password: string;
  role: string;
  totpSecret: string;
}

/** Waits until the page shows `heading` and has nothing left loading. */
async function settle(page: Page, heading: string | RegExp): Promise<void> {
  await page.getByRole('heading', { name: heading, level: 1 }).first().waitFor();
  await page.waitForLoadState('networkidle');
  await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 15_000 });
}

async function shoot(page: Page, name: string): Promise<void> {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file });
  process.stdout.write(`saved ${path.relative(ROOT, file)}\n`);
}

/** A fresh light-mode context (its own cookies); signs `user` in at `area` when given. */
async function openAs(browser: Browser, base: string, area: string, user?: DemoUser): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light', reducedMotion: 'reduce' });
  const page = await context.newPage();
  await page.goto(`${base}${area}`);
  if (user) {
    const code = () => generate({ secret: user.totpSecret, epoch: Math.floor(Date.now() / 1000) });
    await signInThroughPage(page, user, TOTP_REQUIRED_ROLES.includes(user.role as Role) ? code : undefined);
  }
  return page;
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'web/build.mjs'), '--if-stale'], { stdio: 'inherit' });
  fs.mkdirSync(OUT, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-screenshots-'));
  const server = startCli(
    ['serve', '--demo', '--data-dir', dataDir, '--port', '0'],
    cleanEnv({ CUSTOS_LOG_LEVEL: 'warn' }),
  );
  let browser: Browser | undefined;
  try {
    const base = (await server.waitForStdout(/Custos demo at (http:\/\/[^\s]+)/, 60_000))[1]!;
    await waitUntilUp(`${base}/healthz`);
    const users = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-users.json'), 'utf8')) as Record<
      string,
      DemoUser
    >;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

    // A moderator: the queue and a case.
    const moderator = await openAs(browser, base, '/console', users.moderator);
    await moderator.goto(`${base}/console/cases`);
    await settle(moderator, 'Moderation queue');
    await shoot(moderator, 'moderation-queue');
    await moderator.locator('a[href^="/console/cases/"]').first().click();
    await settle(moderator, / · (content|account) /);
    await shoot(moderator, 'case');

    // Legal: the orders queue and an order with its checks.
    const legal = await openAs(browser, base, '/console', users.legal);
    await legal.goto(`${base}/console/legal`);
    await settle(legal, 'Legal orders');
    await shoot(legal, 'legal-orders');
    await legal.locator('a[href^="/console/legal/"]').first().click();
    await settle(legal, /^Order ./);
    await shoot(legal, 'order');

    // An authority: its orders and the filing form.
    const authority = await openAs(browser, base, '/portal', users.authority);
    await settle(authority, 'Our orders');
    await shoot(authority, 'portal-orders');
    await authority.goto(`${base}/portal/new`);
    await settle(authority, 'File an order');
    await shoot(authority, 'portal-file-order');

    // The public pages.
    const visitor = await openAs(browser, base, '/report');
    await settle(visitor, 'Report content or an account');
    await shoot(visitor, 'report-form');
    await visitor.goto(`${base}/transparency`);
    await settle(visitor, 'Transparency report');
    await shoot(visitor, 'transparency');

    // An admin: the authorities.
    const admin = await openAs(browser, base, '/console', users.admin);
    await admin.goto(`${base}/console/authorities`);
    await settle(admin, 'Authorities');
    await shoot(admin, 'admin-authorities');
    for (const [page, title] of [
      ['hash-banks', 'Hash banks'],
      ['webhooks', 'Webhooks'],
      ['policy-history', 'Policy history'],
      ['audit', 'Audit log'],
    ] as const) {
      await admin.goto(`${base}/console/${page}`);
      await settle(admin, title);
      await shoot(admin, `admin-${page}`);
    }
  } finally {
    await browser?.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `screenshots failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
