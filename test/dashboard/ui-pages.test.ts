// Every page of the dashboard opens in a real browser, keyboard-reachable, without script errors, on a
// wide and a narrow screen.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { launchBrowser, type TestBrowser } from './browser.ts';

const PAGES: [string, string][] = [
  ['#/domains', 'Domains'],
  ['#/analytics', 'Analytics'],
  ['#/messages', 'Messages'],
  ['#/outbox', 'Outbox'],
  ['#/keys', 'API keys & SMTP credentials'],
  ['#/webhooks', 'Webhooks'],
  ['#/account', 'Account'],
];

describe('dashboard in a browser: every page', () => {
  let s: TestServer;
  let b: TestBrowser;
  before(async () => {
    s = await startTestServer();
    b = await launchBrowser();
  });
  after(async () => {
    await b?.close();
    await s?.stop();
  });

  test('each page renders its heading, without script errors, on wide and narrow screens', async () => {
    const { page } = b;
    await s.account('pages@example.test');
    await page.goto(`${s.baseUrl}/`);
    await page.getByLabel('Email').fill('pages@example.test');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Domains', exact: true }).waitFor();
    for (const width of [1200, 360]) {
      await page.setViewportSize({ width, height: 800 });
      for (const [hash, heading] of PAGES) {
        await page.goto(`${s.baseUrl}/${hash}`);
        await page.getByRole('heading', { name: heading, exact: true }).waitFor();
        // The heading takes focus after navigation (keyboard and screen-reader users start there).
        assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', `${hash}: focus on the heading`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${hash} at ${width}px overflows by ${overflow}px`);
        await b.screenshot(`page-${hash.slice(2)}-${width}`);
      }
    }
    // Every control on the domains page has an accessible name (label or text).
    await page.goto(`${s.baseUrl}/#/domains`);
    await page.getByRole('heading', { name: 'Domains', exact: true }).waitFor();
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button, textarea')].filter((el) => {
        const e = el as HTMLInputElement;
        return !(e.labels?.length || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent?.trim()));
      }).length,
    );
    assert.equal(unlabelled, 0);
    assert.deepEqual(b.problems, []);
  });
});
