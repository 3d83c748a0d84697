// XSS payloads in the From address, the recipient address, the subject and an opener's user agent render as
// text in the dashboard (messages list and message page), in a real browser: no dialog, no injected element,
// no script error. (test/dashboard/ui-tracking.test.ts covers subject and user agent end to end through the
// send API; this one adds the addresses, which the API would refuse, so they go straight into the store.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { launchBrowser, type TestBrowser } from '../dashboard/browser.ts';
import { seedMessage } from './helpers.ts';

const SUBJECT = `Sale <img src=x onerror="alert('subject')"><script>alert('s')</script>`;
const FROM = `"<img src=x onerror=alert('from')>" <news@example.test>`;
const RCPT = `<svg/onload=alert('rcpt')>@example.net`;
const UA = `Mozilla/5.0 <img src=x onerror="alert('ua')"><script>alert('ua2')</script>`;

describe('XSS payloads render as text in the dashboard', () => {
  let s: TestServer;
  let b: TestBrowser;
  before(async () => {
    s = await startTestServer({ roles: ['http'] });
    b = await launchBrowser();
  });
  after(async () => {
    await b?.close();
    await s?.stop();
  });

  test('addresses, subject and user agent on the messages list and the message page', async () => {
    const acc = await s.account('xss@example.test');
    await seedMessage(s.server.ctx.store, acc.accountId, { subject: SUBJECT, from: FROM, recipients: [RCPT], userAgent: UA });
    const { page } = b;
    await page.goto(`${s.baseUrl}/`);
    await page.getByLabel('Email').fill('xss@example.test');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Domains', exact: true }).waitFor();

    const injected = () => page.evaluate(() => ({
      imgs: document.querySelectorAll('img[src="x"]').length,
      svgs: document.querySelectorAll('svg[onload]').length,
      scripts: [...document.scripts].filter((sc) => /alert/.test(sc.textContent ?? '')).length,
      handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).length,
    }));

    await page.goto(`${s.baseUrl}/#/messages`);
    await page.getByRole('link', { name: SUBJECT }).waitFor();
    const list = await page.locator('main').innerText();
    assert.ok(list.includes(SUBJECT), 'subject shown as text');
    assert.ok(list.includes(FROM) || list.includes(`<img src=x onerror=alert('from')>`), 'from shown as text');
    assert.ok(list.includes(RCPT), 'recipient shown as text');
    assert.deepEqual(await injected(), { imgs: 0, svgs: 0, scripts: 0, handlers: 0 });

    await page.getByRole('link', { name: SUBJECT }).click();
    await page.getByRole('heading', { name: SUBJECT }).waitFor();
    const detail = await page.locator('main').innerText();
    assert.ok(detail.includes(RCPT), 'recipient shown as text on the message page');
    assert.deepEqual(await injected(), { imgs: 0, svgs: 0, scripts: 0, handlers: 0 });
    await b.screenshot('security-xss-message');
    assert.deepEqual(b.dialogs, [], 'no script ran');
    assert.deepEqual(b.problems.filter((p) => !/status of 404/.test(p)), []);
  });
});
