import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { isoToLocalInput } from '../web/src/lib/time.ts';
import {
  type Served,
  type WatchedPage,
  accessibilityProblems,
  browserUnavailable,
  cspViolations,
  launchBrowser,
  serveHarness,
  sessionRouteAvailable,
  signInThroughPage,
  watchedPage,
} from './helpers/browser.js';
import { type Harness, TEST_STORES, startHarness, stopHarness } from './helpers/harness.js';
import { openPackage, seedViolator } from './helpers/legal.js';
import { seedContent } from './helpers/notice-action.js';
import { ensureWebBuild } from './helpers/web-build.js';

const DAY = 86_400_000;

interface StaffUser {
  username: string;
  password: string;
  totpSecret: string;
  role: string;
}

/** The sign-in backend's own test helpers, loaded once it has landed. */
interface UserHelpers {
  addUser(h: Harness, role: string): Promise<StaffUser>;
  totpCode(secret: string): Promise<string>;
}

/** Statuses the pages meet on purpose: not signed in yet, a wrong password, a code still owed. */
const expected = (status: number, url: string) => status === 401 && new URL(url).pathname === '/v1/session';

/** No console error, page error, unexpected status, outbound request or CSP violation so far. */
async function assertClean(w: WatchedPage, where: string): Promise<void> {
  assert.deepEqual(w.problems, [], `${where}: problems in the page`);
  assert.deepEqual(await cspViolations(w.page), [], `${where}: CSP violations`);
}

async function assertAccessible(page: Page, where: string): Promise<void> {
  assert.deepEqual(await accessibilityProblems(page), [], `${where}: axe-core (WCAG 2.1 A/AA), serious or critical`);
}

describe('the web pages in a browser: staff sign-in, report → decision → outcome, order → two approvals → package', () => {
  let h: Harness | undefined;
  let served: Served | undefined;
  let browser: Browser | undefined;
  let users: UserHelpers | undefined;
  let skip: string | false = false;

  before(async () => {
    skip = TEST_STORES.length === 0 ? 'no store selected' : browserUnavailable();
    if (skip) return;
    ensureWebBuild();
    h = await startHarness(TEST_STORES[0] ?? 'sqlite');
    served = await serveHarness(h);
    if (!(await sessionRouteAvailable(served.base))) {
      skip = 'POST /v1/session answers 404: staff sign-in has not landed yet, and these flows sign in through it';
      return;
    }
    try {
      users = (await import('./helpers/users.js')) as unknown as UserHelpers;
    } catch (error) {
      skip = `test/helpers/users.ts (users with password and TOTP) is not available: ${(error as Error).message}`;
      return;
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    if (h) await stopHarness(h);
  });

  it('a staff member signs in with password and one-time code, and signs out', async (t) => {
    if (skip) return t.skip(skip);
    const admin = await users!.addUser(h!, 'admin');
    const w = await watchedPage(browser!, served!.base, { expectStatus: expected });
    const { page } = w;
    try {
      await page.goto(`${served!.base}/console`);
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
      await assertAccessible(page, 'sign-in');

      await page.getByLabel('Username').fill(admin.username);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('The username or password is wrong.').waitFor();
      assert.equal(await page.getByLabel('One-time code').count(), 0, 'no code asked before the password is right');

      await page.getByLabel('Password').fill(admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const code = page.getByLabel('One-time code');
      await code.waitFor();
      assert.equal(
        await code.evaluate((el) => el === el.ownerDocument.activeElement),
        true,
        'the code field takes focus',
      );
      // A wrong code (the right one with its last digit changed) is refused, and nobody is signed in.
      const right = await users!.totpCode(admin.totpSecret);
      await code.fill(`${right.slice(0, -1)}${(Number(right.at(-1)) + 1) % 10}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('The username, password or code is wrong.').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'not signed in');
      await code.fill(right);
      await page.getByRole('button', { name: 'Sign in' }).click();

      await page.getByRole('heading', { name: 'Moderation queue' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/console/cases', 'an admin starts at the queue');
      const nav = page.getByRole('navigation', { name: 'Console sections' });
      for (const section of ['Queue', 'Authorities', 'Tokens', 'Audit log']) {
        await nav.getByRole('link', { name: section }).waitFor();
      }
      assert.equal(await nav.getByRole('link', { name: 'Orders' }).count(), 0, 'no legal pages for an admin');

      // The session survives a reload (the cookie), and signing out ends it.
      await page.reload();
      await page.getByRole('heading', { name: 'Moderation queue' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByText('You have signed out.').waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
      await assertClean(w, 'sign-in');
    } finally {
      await w.context.close();
    }
  });

  it('an admin creates a hash bank and adds hashes on its page; a write without the CSRF header is refused', async (t) => {
    if (skip) return t.skip(skip);
    const admin = await users!.addUser(h!, 'admin');
    const w = await watchedPage(browser!, served!.base, {
      // The bad line is sent on purpose, for its 422; the header-less write, for its 403.
      expectStatus: (status, url) =>
        expected(status, url) || ((status === 422 || status === 403) && url.includes('/v1/hash-banks')),
    });
    const { page } = w;
    try {
      await page.goto(`${served!.base}/console`);
      await signInThroughPage(page, admin, () => users!.totpCode(admin.totpSecret));
      const nav = page.getByRole('navigation', { name: 'Console sections' });
      await nav.getByRole('link', { name: 'Hash banks' }).click();
      await page.getByRole('heading', { name: 'Hash banks', exact: true }).waitFor();
      await page.getByLabel('Name', { exact: true }).fill('e2e-bank');
      await page.getByLabel('Category').selectOption('spam');
      await page.getByRole('button', { name: 'Create bank' }).click();
      await page.getByText('Hash bank “e2e-bank” created.').waitFor();
      await page.getByRole('cell', { name: /^e2e-bank/ }).waitFor();

      const good = 'ab'.repeat(32);
      const hashes = page.getByLabel('Hashes, one a line');
      await hashes.fill(`${good}\nnot-a-hash`);
      await page.getByRole('button', { name: 'Add hashes' }).click();
      await page.getByText("Line 2: Not hexadecimal: 'not-a-hash'.").waitFor();
      assert.equal(await hashes.getAttribute('aria-invalid'), 'true');
      await assertAccessible(page, 'hash banks');
      await hashes.fill(good);
      await page.getByRole('button', { name: 'Add hashes' }).click();
      await page.getByText('1 hash added to “e2e-bank”.').waitFor();

      // The page's own session cookie goes along, but without the x-csrf-token header the write is refused.
      const refused = await page.evaluate(async () => {
        const res = await fetch('/v1/hash-banks', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'csrf-less', category: 'spam' }),
        });
        const body = (await res.json()) as { error?: { code?: string } };
        return { status: res.status, code: body.error?.code };
      });
      assert.deepEqual(refused, { status: 403, code: 'csrf_failed' });
      const banks = await h!.call('GET', '/v1/hash-banks', { token: h!.tokens.admin });
      assert.deepEqual(
        banks.data.banks.map((b: { name: string; hashes: number }) => [b.name, b.hashes]),
        [['e2e-bank', 1]],
      );

      await nav.getByRole('link', { name: 'Policy history' }).click();
      await page.getByRole('heading', { name: 'Policy history' }).waitFor();
      await assertAccessible(page, 'policy history');
      await assertClean(w, 'hash banks');
    } finally {
      await w.context.close();
    }
  });

  it('a public report is decided by a moderator with the keyboard, and the reporter sees the outcome', async (t) => {
    if (skip) return t.skip(skip);
    const { content } = await seedContent(h!, { text: 'Hello, see you at the station at eight.' });
    const reporter = await watchedPage(browser!, served!.base);
    const moderatorPage = await watchedPage(browser!, served!.base, { expectStatus: expected });
    try {
      // The reporter, without an account.
      const r = reporter.page;
      await r.goto(`${served!.base}/report`);
      await r.getByRole('heading', { name: 'Report content or an account' }).waitFor();
      await assertAccessible(r, 'report form');
      await r.getByRole('button', { name: 'Send the report' }).click();
      await r.getByText('Some answers are missing').waitFor();
      await r.getByLabel('Message id').fill(content.id);
      await r.getByRole('radio', { name: /^Spam\b/ }).check();
      await r.getByLabel('Anything we should know? (optional)').fill('The same advert, ten times a day.');
      await r.getByRole('button', { name: 'Send the report' }).click();
      await r.getByRole('heading', { name: 'Thank you: your report is in' }).waitFor();
      const accessKey = (await r.locator('.secret-value').textContent())?.trim();
      assert.ok(accessKey && accessKey.length >= 16, 'the access key is shown');
      await assertAccessible(r, 'report confirmation');
      await r.getByRole('link', { name: 'See the outcome of this report' }).click();
      await r.getByRole('heading', { name: 'Waiting for a moderator' }).waitFor();

      // The moderator: no code needed for this role; j moves, Enter opens, 2 is the spam template.
      const moderator = await users!.addUser(h!, 'moderator');
      const m = moderatorPage.page;
      await m.goto(`${served!.base}/console`);
      await signInThroughPage(m, moderator);
      await m.getByRole('heading', { name: 'Moderation queue' }).waitFor();
      await m.getByRole('link', { name: 'Spam' }).waitFor();
      await assertAccessible(m, 'queue');
      await m.keyboard.press('?');
      await m.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
      await m.keyboard.press('Escape');
      await m.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'hidden' });
      await m.keyboard.press('j');
      await m.waitForFunction("document.activeElement?.classList.contains('case-link')");
      await m.keyboard.press('Enter');
      await m.getByRole('heading', { name: `Spam · content ${content.id}` }).waitFor();
      await m.getByText('Hello, see you at the station at eight.').waitFor();
      await m.getByText('The same advert, ten times a day.').waitFor();
      await assertAccessible(m, 'case');
      await m.keyboard.press('2');
      await m.getByText('Template applied: Spam: remove').waitFor();
      assert.equal(await m.getByRole('checkbox', { name: /^Remove content/ }).isChecked(), true);
      await m.getByRole('button', { name: 'Decide', exact: true }).click();
      await m.getByText(/decided: Remove content/).waitFor();
      assert.equal(new URL(m.url()).pathname, '/console/cases');

      // Back to the reporter.
      await r.reload();
      await r.getByRole('heading', { name: 'Decided' }).waitFor();
      await r.getByText('Action was taken').waitFor();
      await assertClean(reporter, 'reporter');
      await assertClean(moderatorPage, 'moderator');
    } finally {
      await reporter.context.close();
      await moderatorPage.context.close();
    }
  });

  it('the queue keeps 500 cases in a window, follows j and k, and decides a selection in bulk', async (t) => {
    if (skip) return t.skip(skip);
    const accounts = Array.from({ length: 25 }, (_, i) => ({ id: `bulk-acc-${i}`, country: 'DE' }));
    assert.equal(
      (await h!.call('POST', '/v1/ingest/accounts', { token: h!.tokens.platform, body: { accounts } })).statusCode,
      200,
    );
    const items = Array.from({ length: 500 }, (_, i) => ({
      id: `bulk-msg-${i}`,
      accountId: `bulk-acc-${i % 25}`,
      kind: 'text',
      text: `Ordinary message ${i}`,
      createdAt: new Date(Date.now() - i * 60_000).toISOString(),
    }));
    assert.equal(
      (await h!.call('POST', '/v1/ingest/content', { token: h!.tokens.platform, body: { items } })).statusCode,
      200,
    );
    for (const item of items) {
      const res = await h!.call('POST', '/v1/reports', {
        token: h!.tokens.platform,
        body: { subject: { contentId: item.id }, category: 'spam' },
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    const moderator = await users!.addUser(h!, 'moderator');
    const w = await watchedPage(browser!, served!.base, { expectStatus: expected });
    const m = w.page;
    try {
      await m.goto(`${served!.base}/console`);
      await signInThroughPage(m, moderator);
      await m.getByText('500 cases.').waitFor();
      const rendered = await m.locator('.vrow').count();
      assert.ok(rendered > 5 && rendered < 50, `${rendered} rows in the DOM for 500 cases`);

      for (let i = 0; i < 30; i++) await m.keyboard.press('j');
      const active = m.locator('.vrow.active');
      assert.equal(await active.getAttribute('aria-posinset'), '30');
      const [row, box] = [await active.boundingBox(), await m.locator('.vlist').boundingBox()];
      assert.ok(
        row && box && row.y >= box.y - 1 && row.y + row.height <= box.y + box.height + 1,
        'the active row is in view',
      );
      for (let i = 0; i < 3; i++) await m.keyboard.press('k');
      assert.equal(await m.locator('.vrow.active').getAttribute('aria-posinset'), '27');

      await m.locator('.vlist').evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      await m.locator('.vrow[aria-posinset="500"]').waitFor();
      assert.ok((await m.locator('.vrow').count()) < 50, 'still a window at the end of the list');

      // x selects the active case; b opens the bulk form.
      await m.keyboard.press('x');
      await m.keyboard.press('j');
      await m.keyboard.press('x');
      await m.keyboard.press('j');
      await m.keyboard.press('x');
      await m.getByText('500 cases, 3 selected.').waitFor();
      await m.keyboard.press('b');
      await m.getByRole('heading', { name: 'Decide 3 cases alike' }).waitFor();
      await m.getByRole('button', { name: 'No violation: dismiss' }).click();
      await m.getByRole('button', { name: 'Decide 3 cases' }).click();
      await m.getByText('3 decided.').waitFor();
      const open = await h!.call('GET', '/v1/cases?limit=200', { token: h!.tokens.moderator });
      assert.equal(open.statusCode, 200);
      const closed = await h!.call('GET', '/v1/cases?status=closed&limit=200', { token: h!.tokens.moderator });
      assert.equal(
        closed.data.cases.filter((c: { id: string; subject: { id: string } }) => c.subject.id.startsWith('bulk-msg-'))
          .length,
        3,
      );
      await assertClean(w, 'queue of 500');
    } finally {
      await w.context.close();
    }
  });

  it('an authority files an order in the portal, two legal members approve it, the authority downloads the package', async (t) => {
    if (skip) return t.skip(skip);
    const violator = await seedViolator(h!, { category: 'illegal_drugs' });
    const [authority, legal1, legal2] = [
      await users!.addUser(h!, 'authority'),
      await users!.addUser(h!, 'legal'),
      await users!.addUser(h!, 'legal'),
    ];
    const portal = await watchedPage(browser!, served!.base, {
      // The empty form is sent on purpose, for its 422.
      expectStatus: (status, url) =>
        expected(status, url) || (status === 422 && new URL(url).pathname === '/v1/legal-requests'),
    });
    const reviewers = [
      await watchedPage(browser!, served!.base, { expectStatus: expected }),
      await watchedPage(browser!, served!.base, { expectStatus: expected }),
    ];
    try {
      const p = portal.page;
      await p.goto(`${served!.base}/portal`);
      await signInThroughPage(p, authority, () => users!.totpCode(authority.totpSecret));
      await p.getByRole('heading', { name: 'Our orders' }).waitFor();
      await p.getByRole('navigation').getByRole('link', { name: 'File an order' }).click();
      await p.getByRole('heading', { name: 'File an order' }).waitFor();
      await assertAccessible(p, 'filing form');

      // Sent empty first: the API's 422 shows next to the fields.
      await p.getByRole('button', { name: 'File the order' }).click();
      await p.locator('#f-caseReference-error').waitFor();
      await p.locator('#f-targets-0-accountId-error').waitFor();
      assert.equal(await p.getByLabel('Your file number').getAttribute('aria-invalid'), 'true');

      const reference = `BKA-${Date.now()}`;
      const now = Date.now();
      await p.getByLabel('Your file number').fill(reference);
      await p.getByLabel('Issuing authority').fill('Test Police');
      await p.getByLabel('Country').fill('DE');
      await p.getByLabel('Legal basis').fill('§ 100g StPO');
      await p.getByLabel('Reference', { exact: true }).fill('AG Berlin 1 Gs 1/26');
      await p.getByLabel('Issued by').fill('Amtsgericht Berlin');
      await p.getByLabel('Issued at').fill(isoToLocalInput(new Date(now - DAY).toISOString()));
      await p.getByLabel(/The order as a PDF/).setInputFiles({
        name: 'order.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4\n% a court order\n%%EOF\n'),
      });
      await p.getByText('order.pdf, 1 KB, ready to send.').waitFor();
      await p.getByLabel('Category').selectOption('illegal_drugs');
      await p.getByLabel('Description').fill('Sale of narcotics through channels');
      await p.getByLabel('Provisions').fill('§ 29 BtMG');
      await p.getByLabel('Target 1: account id').fill(violator.accountId);
      await p.getByLabel('Period from').fill(isoToLocalInput(new Date(now - 90 * DAY).toISOString()));
      await p.getByLabel('Period to').fill(isoToLocalInput(new Date(now - 60_000).toISOString()));
      await p.getByRole('button', { name: 'File the order' }).click();
      await p.getByRole('heading', { name: `Order ${reference}` }).waitFor();
      await p.getByText('Order filed: In review.').waitFor();
      await assertAccessible(p, 'portal order');

      // Two different members of the legal team approve.
      for (const [i, member] of [legal1, legal2].entries()) {
        const l = reviewers[i]!.page;
        await l.goto(`${served!.base}/console`);
        await signInThroughPage(l, member!, () => users!.totpCode(member!.totpSecret));
        await l.getByRole('heading', { name: 'Legal orders' }).waitFor();
        await l.getByRole('link', { name: reference }).click();
        await l.getByRole('heading', { name: `Order ${reference}` }).waitFor();
        await l.getByText('Target has a related confirmed violation').first().waitFor();
        await l.getByRole('link', { name: /Open the court order/ }).waitFor();
        if (i === 0) await assertAccessible(l, 'legal order page');
        await l.getByRole('radio', { name: 'Approve' }).check();
        await l.getByRole('button', { name: 'Submit review' }).click();
        await l.getByText('Your approval is recorded.').waitFor();
      }
      await reviewers[1]!.page
        .getByText(/Disclosed/)
        .first()
        .waitFor();

      await p.reload();
      const [download] = await Promise.all([
        p.waitForEvent('download'),
        p.getByRole('button', { name: 'Download the package' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `custos-package-${new URL(p.url()).pathname.split('/').at(-1)}.jwe`);
      const jwe = fs.readFileSync((await download.path()) as string, 'utf8');
      assert.equal(jwe.split('.').length, 5, 'a compact JWE');
      const opened = await openPackage(h!, jwe);
      assert.equal(opened.payload.targets[0].accountId, violator.accountId);
      assert.equal(opened.payload.targets[0].ipAddresses.length, violator.sessions.length);
      await assertClean(portal, 'portal');
      for (const r of reviewers) await assertClean(r, 'legal');
    } finally {
      await portal.context.close();
      for (const r of reviewers) await r.context.close();
    }
  });
});
