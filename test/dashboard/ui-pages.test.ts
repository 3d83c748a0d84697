// Every page of the dashboard opens in a real browser, keyboard-reachable, without script errors, on a
// wide and a narrow screen; and the webhooks page against a real receiver on loopback.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
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
    s = await startTestServer({ env: { MAILBEACON_WEBHOOK_ALLOW_PRIVATE: 'true' } });
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
        await page.waitForFunction(() => document.activeElement?.tagName === 'H1', null, { timeout: 8000 }).catch(() => undefined);
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

  test('webhooks: create (secret shown once), send a test event that arrives signed, delivery log, replay, disable', async () => {
    const { page } = b;
    const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    try {
      await page.goto(`${s.baseUrl}/#/webhooks`);
      await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
      await page.getByLabel('URL').fill(url);
      await page.getByLabel('bounced').check();
      await page.getByRole('button', { name: 'Create webhook' }).click();
      const secret = (await page.locator('.copy-value').first().textContent())!;
      assert.ok(secret.length >= 16);
      const row = page.getByRole('row', { name: new RegExp(url.replace(/[.:/]/g, '\\$&')) });
      assert.match((await row.textContent())!, /open, click, bounced|bounced/);
      await page.getByRole('button', { name: `Send a test event to ${url}` }).click();
      await page.getByText(`Test event queued for ${url}.`).waitFor();
      const end = Date.now() + 15_000;
      while (!got.length && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.length, 1, 'the receiver got the test event');
      const sig = createHmac('sha256', secret).update(`${got[0].headers['x-mailbeacon-timestamp']}.${got[0].body}`).digest('hex');
      assert.equal(got[0].headers['x-mailbeacon-signature'], sig, 'signed with the secret the page showed');
      // The delivery log shows it; replay sends it again.
      let succeeded = false;
      while (!succeeded && Date.now() < end) {
        await page.getByRole('button', { name: `Show deliveries of ${url}` }).click();
        await page.getByRole('heading', { name: /Deliveries to/ }).waitFor();
        succeeded = (await page.locator('table').last().textContent())!.includes('succeeded');
        if (!succeeded) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(succeeded, 'the delivery log shows the delivery as succeeded');
      await page.getByRole('button', { name: /^Replay delivery/ }).first().click();
      await page.getByText('Replay queued.').waitFor();
      while (got.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.length, 2, 'the replay arrived');
      assert.equal(got[1].headers['x-mailbeacon-id'], got[0].headers['x-mailbeacon-id'], 'same event id on replay');
      await b.screenshot('webhooks');
      await page.getByRole('button', { name: 'Disable' }).click();
      await page.getByRole('row', { name: new RegExp(url.replace(/[.:/]/g, '\\$&')) }).locator('.badge', { hasText: 'disabled' }).waitFor();
      assert.deepEqual(b.problems, []);
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });
});
