// In a real browser, end to end: send a message through the API, see it in the outbox with remote images
// blocked (no open recorded), open it "as recipient" (the pixel is fetched for real) and watch the open
// appear in analytics in another tab without a reload. Then XSS payloads in the subject and in an opener's
// user agent render as text everywhere.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { freePort } from '../helpers/spawn-cli.ts';
import { createDomain } from '../../src/domains/domain-service.ts';
import { launchBrowser, type TestBrowser } from './browser.ts';

const XSS_SUBJECT = `Hello <img src=x onerror="alert('subject')"><script>alert('s2')</script>`;
const XSS_UA = `Mozilla/5.0 <img src=x onerror="alert('ua')"> <script>alert('ua2')</script>`;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('dashboard in a browser: outbox, open as recipient, live analytics, XSS', () => {
  let s: TestServer;
  let b: TestBrowser;
  let apiKey: string;
  let accountId: string;
  let messageId: string;
  let port: number;
  before(async () => {
    port = await freePort();
    s = await startTestServer({ env: { MAILBEACON_HTTP_PORT: String(port), MAILBEACON_PUBLIC_URL: `http://127.0.0.1:${port}`, MAILBEACON_RELAY: 'outbox' } });
    b = await launchBrowser();
    const acc = await s.account('tracking-ui@example.test');
    apiKey = acc.apiKey;
    accountId = acc.accountId;
    const d = await createDomain(s.server.ctx, accountId, 'news.example.test', 'dashboard');
    await s.server.ctx.store.domains.update(accountId, d.id, { status: 'validated', verifiedAt: Date.now(), openTracking: 1, clickTracking: 1 });
  });
  after(async () => {
    await b?.close();
    await s?.stop();
  });

  const opens = async () => (await s.server.ctx.store.db.kysely.selectFrom('events').select('id').where('accountId', '=', accountId).where('type', '=', 'open').execute()).length;

  test('send → outbox preview (no open) → open as recipient → the open appears in analytics without a reload', async () => {
    const html = `<html><body><h1>Spring news</h1><p>Read <a href="https://example.com/article">the article</a>.</p>
      <img id="logo" src="http://127.0.0.1:${port}/assets/favicon.svg" alt="logo" width="32" height="32"></body></html>`;
    const r = await fetch(`${s.baseUrl}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'news@news.example.test', to: ['reader@example.net'], subject: XSS_SUBJECT, html, text: 'Spring news' }),
    });
    assert.equal(r.status, 202, await r.clone().text());
    messageId = (await r.json()).id;
    const entry = await until('the outbox copy', async () => {
      const list = await (await fetch(`${s.baseUrl}/api/v1/outbox`, { headers: { authorization: `Bearer ${apiKey}` } })).json();
      return list.data?.find((m: any) => m.messageId === messageId);
    });

    const { page } = b;
    const statsSpans: number[] = [];
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (u.pathname === '/api/v1/stats') statsSpans.push(Date.parse(u.searchParams.get('to')!) - Date.parse(u.searchParams.get('from')!));
    });
    await page.goto(`${s.baseUrl}/#/analytics`);
    await page.getByLabel('Email').fill('tracking-ui@example.test');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Analytics', exact: true }).waitFor();
    const opensTile = page.locator('[data-metric="Opens"]');
    await opensTile.waitFor();
    assert.equal(await opensTile.textContent(), '0');
    assert.equal(statsSpans[0], 24 * 3_600_000, 'the default range is the last 24 hours');
    await page.getByText('(connected)').waitFor();
    await page.evaluate(() => { (window as any).__noReload = true; });

    // A second tab: the outbox.
    const tab = await b.context.newPage();
    tab.on('console', (m) => { if (m.type() === 'error') b.problems.push(`tab console: ${m.text()}`); });
    tab.on('pageerror', (e) => b.problems.push(`tab pageerror: ${e.message}`));
    tab.on('dialog', (d) => { b.dialogs.push(d.message()); void d.dismiss(); });
    await tab.goto(`${s.baseUrl}/#/outbox`);
    await tab.getByRole('link', { name: XSS_SUBJECT }).click();
    await tab.getByRole('heading', { name: XSS_SUBJECT }).waitFor();
    const frameEl = tab.locator('iframe.preview-frame');
    await frameEl.waitFor();
    assert.equal(await frameEl.getAttribute('sandbox'), '', 'sandbox without allow-scripts / allow-same-origin');
    const frame = tab.frameLocator('iframe.preview-frame');
    await frame.getByRole('heading', { name: 'Spring news' }).waitFor();
    assert.equal(await frame.locator('#logo').getAttribute('src'), null, 'remote image blocked in the preview');
    assert.ok(await frame.locator('#logo').getAttribute('data-blocked-src'));
    assert.equal(await frame.locator('img[src*="/o/"]').count(), 0, 'no pixel in the preview');
    await new Promise((res) => setTimeout(res, 700));
    assert.equal(await opens(), 0, 'looking at the preview is not an open');
    await b.screenshot('outbox-preview');

    await tab.getByRole('button', { name: 'Open as recipient' }).click();
    await frame.locator('#logo[src]').waitFor();
    await until('the open to be stored', async () => (await opens()) > 0);
    // The first tab updates by itself (SSE → stats refresh).
    await page.waitForFunction(() => document.querySelector('[data-metric="Opens"]')?.textContent === '1', null, { timeout: 8000 });
    assert.equal(await page.evaluate(() => (window as any).__noReload), true, 'the analytics page was not reloaded');
    await page.locator('.live-feed li', { hasText: 'reader@example.net' }).first().waitFor();
    await b.screenshot('analytics-live-open');
    // The other ranges ask for what they say.
    for (const name of ['Last 7 days', 'Last 30 days']) {
      await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/stats'), page.getByRole('button', { name }).click()]);
      await page.getByRole('button', { name, pressed: true }).waitFor();
      await page.waitForFunction(() => document.querySelector('[data-metric="Opens"]')?.textContent === '1');
    }
    assert.ok(statsSpans.includes(7 * 86_400_000) && statsSpans.includes(30 * 86_400_000), `spans asked: ${statsSpans}`);
    await tab.screenshot({ path: 'test-artifacts/dashboard/outbox-as-recipient.png', fullPage: true });
    await tab.close();
    void entry;
  });

  test('XSS payloads in the subject and the user agent render as text', async () => {
    const { page } = b;
    // An opener with a hostile user agent, straight at the pixel URL from the delivered message.
    const list = await (await fetch(`${s.baseUrl}/api/v1/outbox?messageId=${messageId}`, { headers: { authorization: `Bearer ${apiKey}` } })).json();
    const raw = await (await fetch(`${s.baseUrl}/api/v1/outbox/${list.data[0].id}/raw`, { headers: { authorization: `Bearer ${apiKey}` } })).text();
    const pixel = /http:\/\/127\.0\.0\.1:\d+\/o\/[A-Za-z0-9_=\r\n-]+?\.gif/.exec(raw.replace(/=\r?\n/g, ''))?.[0];
    assert.ok(pixel, 'the delivered HTML carries the pixel');
    const before = await opens();
    const hit = await fetch(pixel, { headers: { 'user-agent': XSS_UA } });
    assert.equal(hit.status, 200);
    await until('the hostile open', async () => (await opens()) > before);

    await page.goto(`${s.baseUrl}/#/messages`);
    await page.getByLabel('Subject contains').fill('Hello <img');
    await page.getByRole('button', { name: 'Search' }).click();
    const found = page.getByRole('row', { name: /reader@example\.net/ });
    await found.waitFor();
    assert.match((await found.textContent())!, /delivered · [2-9] opens \(\d+ human\) · 0 clicks/, 'per-recipient status, opens and clicks in the list');
    await page.getByRole('link', { name: XSS_SUBJECT }).click();
    await page.getByRole('heading', { name: XSS_SUBJECT }).waitFor();
    const timeline = page.locator('ol.timeline');
    await timeline.getByText(XSS_UA, { exact: false }).first().waitFor();
    assert.ok((await timeline.textContent())!.includes(XSS_UA));
    const rcpt = page.getByRole('row', { name: /reader@example\.net/ });
    assert.match((await rcpt.textContent())!, /delivered/);
    // Nothing was injected: no element from the payloads, no dialog.
    for (const p of [page]) {
      assert.equal(await p.locator('main img[src="x"], main script').count(), 0);
    }
    await page.goto(`${s.baseUrl}/#/analytics`);
    await page.locator('[data-metric="Opens"]').waitFor();
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    await b.screenshot('message-timeline-xss');
    assert.deepEqual(b.dialogs, []);
    assert.deepEqual(b.problems, []);
  });
});
