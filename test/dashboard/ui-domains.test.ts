// In a real browser, with a real DNS server (Debian's dnsmasq on loopback): add a domain (DNS records +
// Verify with per-record results), publish the records, Verify → validated, and the Open Tracking switch
// unlocks; Settings → Open Tracking on → the deliverability warning → Save → a reload shows it on. Ineligible
// domains (not validated, control panel, manual DNS) show a disabled switch with the reason; a save the API
// refuses (409 domain_not_eligible) shows the API's message. The custom tracking domain section. Another
// account's domain is not shown.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createDomain, dnsRecordsFor } from '../../src/domains/domain-service.ts';
import { Dnsmasq } from '../domains/dnsmasq.ts';
import { launchBrowser, type TestBrowser } from './browser.ts';

describe('dashboard in a browser: domains and the Open Tracking setting', () => {
  let s: TestServer;
  let b: TestBrowser;
  let accountId: string;
  let dns: Dnsmasq;
  before(async () => {
    dns = await Dnsmasq.start({});
    s = await startTestServer({ env: { MAILBEACON_DNS_SERVERS: dns.server } });
    b = await launchBrowser();
    accountId = (await s.account('domains-ui@example.test')).accountId;
    const { page } = b;
    await page.goto(`${s.baseUrl}/#/domains`);
    await page.getByLabel('Email').fill('domains-ui@example.test');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Domains', exact: true }).waitFor();
  });
  after(async () => {
    await b?.close();
    await s?.stop();
    await dns?.stop();
  });

  const api = (path: string) => s.server.ctx.store.domains.list(accountId).then((l) => l.find((d) => d.name === path));

  test('add a domain: the DNS records to copy, Verify shows each record', async () => {
    const { page } = b;
    await page.getByLabel('Domain name').fill('send.example.test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByText('send.example.test was added').waitFor();
    const records = page.getByRole('table', { name: 'DNS records to publish' });
    await records.getByText('_mailbeacon.send.example.test', { exact: true }).waitFor();
    assert.match((await records.textContent())!, /v=DKIM1; k=rsa; p=/);
    await page.getByRole('button', { name: 'Verify' }).click();
    const checks = page.locator('ul.checks li');
    await checks.first().waitFor();
    assert.ok((await checks.count()) >= 2, 'one line per record');
    assert.match((await checks.first().textContent())!, /Not OK|✗/);
    await b.screenshot('domain-added-verify');
    // The list shows source and status badges.
    await page.reload();
    const row = page.locator('table').first().getByRole('row', { name: /send\.example\.test/ });
    await row.waitFor();
    assert.match((await row.textContent())!, /dashboard/);
    assert.match((await row.textContent())!, /pending|failed/);
  });

  test('pending domain: Open Tracking is disabled and says why', async () => {
    const { page } = b;
    const d = (await api('send.example.test'))!;
    await page.goto(`${s.baseUrl}/#/domains/${d.id}`);
    const toggle = page.getByLabel('Open Tracking');
    await toggle.waitFor();
    assert.equal(await toggle.isDisabled(), true);
    const why = await page.locator('.ineligible').textContent();
    assert.match(why!, /validated|verified/);
    assert.equal(await toggle.getAttribute('aria-describedby'), await page.locator('.ineligible').getAttribute('id'));
  });

  test('publish the records, Verify → validated: Open Tracking unlocks; on → warning → Save → reload shows it on', async () => {
    const { page } = b;
    const d = (await api('send.example.test'))!;
    const txt: Record<string, string[]> = {};
    for (const r of dnsRecordsFor(d)) (txt[r.name] ??= []).push(r.value);
    await dns.set({ txt });
    await page.goto(`${s.baseUrl}/#/domains`);
    await page.getByRole('link', { name: 'send.example.test' }).click();
    const toggle = page.getByLabel('Open Tracking');
    await toggle.waitFor();
    assert.equal(await toggle.isDisabled(), true);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Status: validated').waitFor();
    assert.ok((await page.locator('ul.checks li.ok').count()) >= 2, 'the required records check out');
    // The switch unlocks without a reload.
    await page.waitForFunction(() => !(document.querySelector('input[name=openTracking]') as HTMLInputElement).disabled);
    await b.screenshot('domain-verified');
    assert.equal(await toggle.isDisabled(), false);
    assert.equal(await toggle.isChecked(), false);
    const warning = page.locator('#tracking-warning');
    assert.equal(await warning.isVisible(), false);
    // Keyboard: focus the switch and press Space.
    await toggle.focus();
    await page.keyboard.press('Space');
    assert.equal(await toggle.isChecked(), true);
    await warning.waitFor({ state: 'visible' });
    assert.match((await warning.textContent())!, /Tracking pixels can trigger spam filters and lower deliverability, and are often blocked by mail clients/);
    await page.getByLabel('Pixel placement').selectOption('auto');
    await b.screenshot('settings-warning');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved.').waitFor();
    const row = await s.server.ctx.store.domains.get(accountId, d.id);
    assert.equal(row!.openTracking, 1);
    assert.equal(row!.pixelPlacement, 'auto');
    await page.reload();
    await page.getByLabel('Open Tracking').waitFor();
    assert.equal(await page.getByLabel('Open Tracking').isChecked(), true);
    assert.equal(await page.getByLabel('Pixel placement').inputValue(), 'auto');
  });

  test('a save the API refuses shows its domain_not_eligible message', async () => {
    const { page } = b;
    const d = (await api('send.example.test'))!;
    await page.goto(`${s.baseUrl}/#/domains/${d.id}`);
    await page.getByLabel('Click tracking').waitFor();
    // The domain loses its validation while the page is open.
    await s.server.ctx.store.domains.update(accountId, d.id, { status: 'failed', statusReason: 'the verification TXT record is missing' });
    await page.getByLabel('Click tracking').check();
    await page.getByRole('button', { name: 'Save' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /Click tracking/ });
    await alert.waitFor();
    assert.match((await alert.textContent())!, /validated/);
    assert.equal((await s.server.ctx.store.domains.get(accountId, d.id))!.clickTracking, 0);
    b.problems.splice(0, b.problems.length, ...b.problems.filter((p) => !/status of 409/.test(p)));
    await s.server.ctx.store.domains.update(accountId, d.id, { status: 'validated', statusReason: null });
  });

  for (const source of ['control_panel', 'manual_dns'] as const) {
    test(`${source} domain: the switch is disabled with the reason`, async () => {
      const { page } = b;
      const d = await createDomain(s.server.ctx, accountId, `${source.replace('_', '-')}.example.test`, source);
      await s.server.ctx.store.domains.update(accountId, d.id, { status: 'validated' });
      await page.goto(`${s.baseUrl}/#/domains/${d.id}`);
      const toggle = page.getByLabel('Open Tracking');
      await toggle.waitFor();
      assert.equal(await toggle.isDisabled(), true);
      const why = (await page.locator('.ineligible').textContent())!;
      assert.match(why, source === 'control_panel' ? /control panel/ : /any domain|manual/);
      await b.screenshot(`settings-${source}`);
      await page.goto(`${s.baseUrl}/#/domains`);
      const row = page.getByRole('row', { name: new RegExp(d.name.replace(/\./g, '\\.')) });
      assert.match((await row.textContent())!, source === 'control_panel' ? /control panel/ : /manual DNS/);
    });
  }

  test('custom tracking domain: hostname, the CNAME to create, Verify, DNS and certificate status', async () => {
    const { page } = b;
    const d = (await api('send.example.test'))!;
    await page.goto(`${s.baseUrl}/#/domains/${d.id}`);
    await page.getByLabel('Hostname').fill('track.send.example.test');
    await page.getByRole('button', { name: 'Set tracking domain' }).click();
    await page.getByText('CNAME to create').waitFor();
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Custom tracking domain' }) });
    const text = (await section.textContent())!;
    assert.ok(text.includes('track.send.example.test'));
    assert.ok(text.includes(new URL(s.baseUrl).hostname) || text.includes('localhost'), 'the CNAME target is the default tracking host');
    assert.match(text, /Certificate/);
    await page.getByRole('button', { name: 'Verify CNAME' }).click();
    await section.getByText(/CNAME check:/).waitFor();
    assert.doesNotMatch((await section.textContent())!, /CNAME check: verified/);
    // Publish the CNAME (to the default tracking host) and check again.
    const target = new URL(s.server.ctx.config.publicUrl).hostname;
    const txt: Record<string, string[]> = {};
    for (const r of dnsRecordsFor(d)) (txt[r.name] ??= []).push(r.value);
    await dns.set({ txt, a: { [target]: '127.0.0.1' }, cname: { 'track.send.example.test': target } });
    await page.getByRole('button', { name: 'Verify CNAME' }).click();
    await section.getByText('CNAME check: verified').waitFor();
    assert.match((await section.textContent())!, /New mail uses/);
    await b.screenshot('tracking-domain');
  });

  test("another account's domain is not shown", async () => {
    const { page } = b;
    const other = await s.account('someone-else@example.test');
    const d = await createDomain(s.server.ctx, other.accountId, 'not-yours.example.test', 'dashboard');
    await page.goto(`${s.baseUrl}/#/domains/${d.id}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.ok(!(await page.textContent('main'))!.includes('not-yours.example.test'));
    await page.goto(`${s.baseUrl}/#/domains`);
    await page.getByRole('heading', { name: 'Domains', exact: true }).waitFor();
    assert.ok(!(await page.textContent('main'))!.includes('not-yours.example.test'));
    const problems = b.problems.filter((p) => !/status of 404/.test(p));
    assert.deepEqual(problems, []);
  });
});
