// In a real browser: log in, keyboard navigation, API keys and SMTP credentials, password change, log out,
// and a narrow screen. No console errors anywhere.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { launchBrowser, type TestBrowser } from './browser.ts';

describe('dashboard in a browser: account pages', () => {
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

  test('log in with the keyboard, create and revoke an API key, change the password, log out', async () => {
    const { page } = b;
    await s.account('ui@example.test');
    await page.goto(`${s.baseUrl}/#/keys`);
    await page.getByLabel('Email').waitFor();
    // Wrong password first: an error, announced.
    await page.getByLabel('Email').fill('ui@example.test');
    await page.getByLabel('Password').fill('wrong password!');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    // The refused login is the one expected failed request (Chrome logs it as a console error).
    assert.deepEqual(b.problems.filter((p) => !/status of 401/.test(p)), []);
    b.problems.length = 0;
    await page.getByLabel('Password').fill('correct horse battery');
    await page.keyboard.press('Enter');
    // Back to the page we asked for.
    await page.getByRole('heading', { name: 'API keys & SMTP credentials' }).waitFor();
    assert.match(page.url(), /#\/keys$/);
    const cookies = await b.context.cookies();
    const session = cookies.find((c) => c.name === 'mb_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');

    await page.getByLabel('New key name').fill('from the browser');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const shown = await page.locator('.copy-value').first().textContent();
    assert.match(shown!, /^mb_/);
    const r = await fetch(`${s.baseUrl}/api/v1/account`, { headers: { authorization: `Bearer ${shown}` } });
    assert.equal(r.status, 200, 'the key shown in the page works');
    await page.getByRole('button', { name: 'Revoke API key from the browser' }).click();
    await page.getByRole('row', { name: /from the browser/ }).getByText('revoked').waitFor();
    assert.equal((await fetch(`${s.baseUrl}/api/v1/account`, { headers: { authorization: `Bearer ${shown}` } })).status, 401);

    await page.getByRole('button', { name: 'Create SMTP credential' }).click();
    await page.getByText('New SMTP credential').waitFor();
    await b.screenshot('keys');

    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByLabel('Current password').fill('correct horse battery');
    await page.getByLabel('New password', { exact: true }).fill('a new secret phrase');
    await page.getByLabel('New password again').fill('a new secret phrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.goto(`${s.baseUrl}/#/account`);
    await page.getByLabel('Email').waitFor();
    await page.getByLabel('Email').fill('ui@example.test');
    await page.getByLabel('Password').fill('a new secret phrase');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Account' }).waitFor();

    // Narrow screen: nothing wider than the viewport.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${s.baseUrl}/#/keys`);
    await page.getByRole('heading', { name: 'API keys & SMTP credentials' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page is ${overflow}px wider than a 360px screen`);
    await b.screenshot('keys-narrow');
    await page.setViewportSize({ width: 1200, height: 900 });
    assert.deepEqual(b.problems, []);
  });
});
