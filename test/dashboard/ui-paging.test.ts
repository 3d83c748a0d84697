// In a real browser: the Messages and Outbox lists show 50 rows a page and "Load more" appends the next page
// (the shared pagedTable in dom.js), then disappears when there is no further page.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { freePort } from '../helpers/spawn-cli.ts';
import { createDomain } from '../../src/domains/domain-service.ts';
import { launchBrowser, type TestBrowser } from './browser.ts';

const COUNT = 55;

describe('dashboard in a browser: Load more on the Messages and Outbox lists', () => {
  let s: TestServer;
  let b: TestBrowser;
  before(async () => {
    const port = await freePort();
    s = await startTestServer({ env: { MAILBEACON_HTTP_PORT: String(port), MAILBEACON_PUBLIC_URL: `http://127.0.0.1:${port}`, MAILBEACON_RELAY: 'outbox' } });
    b = await launchBrowser();
    const acc = await s.account('paging-ui@example.test');
    const d = await createDomain(s.server.ctx, acc.accountId, 'pages.example.test', 'dashboard');
    await s.server.ctx.store.domains.update(acc.accountId, d.id, { status: 'validated', verifiedAt: Date.now() });
    for (let i = 0; i < COUNT; i++) {
      const r = await fetch(`${s.baseUrl}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acc.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'news@pages.example.test', to: [`reader${i}@example.net`], subject: `Page test ${i}`, text: 'hello' }),
      });
      assert.equal(r.status, 202, await r.text());
    }
    const end = Date.now() + 20_000;
    for (;;) {
      const rows = await s.server.ctx.store.db.kysely.selectFrom('outbox').select('id').execute();
      if (rows.length >= COUNT) break;
      if (Date.now() > end) throw new Error(`only ${rows.length} of ${COUNT} copies reached the outbox`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await b?.close();
    await s?.stop();
  });

  test('50 rows, then Load more adds the remaining 5 and the button goes away', async () => {
    const { page } = b;
    await page.goto(`${s.baseUrl}/#/outbox`);
    await page.getByLabel('Email').fill('paging-ui@example.test');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    for (const [hash, heading] of [['#/outbox', 'Outbox'], ['#/messages', 'Messages']] as const) {
      await page.goto(`${s.baseUrl}/${hash}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      const rows = page.locator('main table tbody tr');
      const more = page.getByRole('button', { name: 'Load more' });
      await more.waitFor();
      assert.equal(await rows.count(), 50, `${heading}: first page`);
      await more.click();
      await more.waitFor({ state: 'detached' });
      assert.equal(await rows.count(), COUNT, `${heading}: after Load more`);
      const subjects = await page.locator('main table tbody').getByRole('link').allTextContents();
      assert.equal(new Set(subjects).size, COUNT, `${heading}: every message once`);
    }
    assert.deepEqual(b.problems, []);
  });
});
