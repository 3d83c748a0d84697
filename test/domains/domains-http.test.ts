// The domains API end to end: a real server, a real dnsmasq. Sources, verification, the tracking gate,
// custom tracking domains, and account scoping (another account's ids answer 404).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { resolveSendingDomain } from '../../src/domains/sending-rules.ts';
import { trackingBaseFor } from '../../src/domains/tracking-base.ts';
import { verifyTrackingDomain } from '../../src/domains/verification.ts';
import http from 'node:http';
import { TokenSigner, keyringFromSecret, clickUrl } from '../../src/tracking/tokens.ts';
import { Dnsmasq } from './dnsmasq.ts';

const CP_KEY = 'control-panel-key-0123456789';

describe('domains API', () => {
  let s: TestServer;
  let dns: Dnsmasq;
  before(async () => {
    dns = await Dnsmasq.start({});
    s = await startTestServer({
      roles: ['http', 'tracking'],
      env: { MAILBEACON_DNS_SERVERS: dns.server, MAILBEACON_DNS_TIMEOUT: '500', MAILBEACON_PUBLIC_URL: 'http://track.mb.test:8080', MAILBEACON_CONTROL_PANEL_KEY: CP_KEY },
    });
  });
  after(async () => {
    await s.stop();
    await dns.stop();
  });

  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${s.baseUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };

  test('a dashboard domain: records, verify (missing, wrong, right), the gate before and after, losing validation', async () => {
    const a = await s.account();
    const created = await call(a.apiKey, 'POST', '/domains', { name: 'Shop.test' });
    assert.equal(created.status, 201);
    const d = created.body;
    assert.equal(d.name, 'shop.test');
    assert.equal(d.source, 'dashboard');
    assert.equal(d.status, 'pending');
    assert.deepEqual(d.dnsRecords.map((r: { purpose: string }) => r.purpose), ['verification', 'dkim', 'spf']);
    const [ver, dkim] = d.dnsRecords;
    assert.equal((await call(a.apiKey, 'POST', '/domains', { name: 'shop.test' })).body.error.code, 'domain_exists');
    assert.equal((await call(a.apiKey, 'POST', '/domains', { name: 'not a domain' })).status, 422);

    let gate = await call(a.apiKey, 'PATCH', `/domains/${d.id}/settings`, { openTracking: true });
    assert.equal(gate.status, 409);
    assert.equal(gate.body.error.code, 'domain_not_eligible');
    assert.match(gate.body.error.message, /^Open tracking needs a validated domain; shop\.test is not verified yet/);

    let v = await call(a.apiKey, 'POST', `/domains/${d.id}/verify`);
    assert.equal(v.status, 200);
    assert.equal(v.body.status, 'failed');
    assert.equal(v.body.checks[0].result, 'missing');

    await dns.set({ txt: { [ver.name]: ['mailbeacon-verification=wrong'], [dkim.name]: [dkim.value] } });
    v = await call(a.apiKey, 'POST', `/domains/${d.id}/verify`);
    assert.equal(v.body.status, 'failed');
    assert.match(v.body.statusReason, /verification TXT record _mailbeacon\.shop\.test has the wrong value/);

    await dns.set({ txt: { [ver.name]: [ver.value], [dkim.name]: [dkim.value] } });
    v = await call(a.apiKey, 'POST', `/domains/${d.id}/verify`);
    assert.equal(v.body.status, 'validated');
    gate = await call(a.apiKey, 'PATCH', `/domains/${d.id}/settings`, { openTracking: true, clickTracking: true, pixelPlacement: 'auto', retentionDays: 30 });
    assert.equal(gate.status, 200);
    assert.deepEqual(gate.body.tracking, { opens: true, clicks: true });
    assert.equal(gate.body.pixelPlacement, 'auto');
    assert.equal((await call(a.apiKey, 'PATCH', `/domains/${d.id}/settings`, { pixelPlacement: 'middle' })).status, 422);

    // Records removed: the next check takes validation away; the API says why tracking stopped.
    await dns.set({});
    await call(a.apiKey, 'POST', `/domains/${d.id}/verify`);
    const settings = await call(a.apiKey, 'GET', `/domains/${d.id}/settings`);
    assert.equal(settings.body.openTracking, true, 'the switch is kept');
    assert.equal(settings.body.tracking.opens, false, 'but new mail is not tracked');
    assert.match(settings.body.tracking.reason, /shop\.test failed validation: lost validation on .* is missing .*\. Fix its DNS records and verify again$/);
    const view = await call(a.apiKey, 'GET', `/domains/${d.id}`);
    assert.equal(view.body.status, 'failed');
    assert.equal(view.body.tracking.opens, false);
  });

  test('control_panel and manual_dns domains get 409 for open tracking, with the reason', async () => {
    const a = await s.account();
    const url = `${s.baseUrl}/api/v1/integrations/control-panel/domains`;
    const post = (key: string | undefined, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
    assert.equal((await post(undefined, { accountId: a.accountId, name: 'panel.test' })).status, 401);
    assert.equal((await post(a.apiKey, { accountId: a.accountId, name: 'panel.test' })).status, 401, 'an account API key is not the integration key');
    assert.equal((await post(CP_KEY, { accountId: 'acc_nope', name: 'panel.test' })).status, 404);
    const r = await post(CP_KEY, { accountId: a.accountId, name: 'panel.test' });
    assert.equal(r.status, 201);
    const cp = await r.json();
    assert.equal(cp.source, 'control_panel');
    assert.equal((await post(CP_KEY, { accountId: a.accountId, name: 'panel.test' })).status, 200, 'adding it again is idempotent');
    const gate = await call(a.apiKey, 'PATCH', `/domains/${cp.id}/settings`, { openTracking: true });
    assert.equal(gate.status, 409);
    assert.equal(gate.body.error.message, 'Open tracking needs a domain validated in the dashboard; panel.test was added through a hosting control panel (the panel vouches for it, but it was never verified here). Add it with POST /api/v1/domains and publish its DNS records');
    assert.equal((await call(a.apiKey, 'POST', `/domains/${cp.id}/verify`)).body.error.code, 'domain_not_verifiable');
    assert.equal((await call(a.apiKey, 'PATCH', `/domains/${cp.id}/settings`, { ipTruncation: true })).status, 200, 'privacy settings are always allowed');

    await call(a.apiKey, 'PATCH', '/account', { sendingMode: 'any' });
    const m = await resolveSendingDomain(s.server.ctx, a.accountId, 'anywhere.test');
    assert.equal(m.source, 'manual_dns');
    const g2 = await call(a.apiKey, 'PATCH', `/domains/${m.id}/settings`, { clickTracking: true });
    assert.equal(g2.status, 409);
    assert.match(g2.body.error.message, /^Click tracking needs a domain validated in the dashboard; anywhere\.test is only used as a sender in "any domain" mode/);
  });

  /** The status of a click on a valid token for `host`, sent with that Host header: 302 when served, 404 when not. */
  const clickStatus = (host: string) => {
    const signer = new TokenSigner(keyringFromSecret(s.server.ctx.secret, s.server.ctx.config.tokenKeyIds));
    const path = new URL(clickUrl('http://x', signer.sign({ kind: 'click', copyId: 'cpy_test', linkIndex: 0, url: 'https://example.com/landing' }, host))).pathname;
    return new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: s.server.httpPort, path, headers: { host } }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
    });
  };
  const waitFor = async (fn: () => Promise<boolean>) => {
    for (let i = 0; i < 40 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 100));
  };

  test('custom tracking domain: subdomain only, CNAME checked, used for new mail, delete keeps old tokens served', async () => {
    const a = await s.account();
    const d = (await call(a.apiKey, 'POST', '/domains', { name: 'brand.test' })).body;
    assert.equal((await call(a.apiKey, 'PUT', `/domains/${d.id}/tracking-domain`, { hostname: 't.brand.test' })).body.error.code, 'domain_not_eligible', 'only a validated domain');
    const [ver, dkim] = d.dnsRecords;
    await dns.set({ txt: { [ver.name]: [ver.value], [dkim.name]: [dkim.value] }, a: { 'track.mb.test': '127.0.0.1', 'elsewhere.test': '127.0.0.2' } });
    assert.equal((await call(a.apiKey, 'POST', `/domains/${d.id}/verify`)).body.status, 'validated');

    const other = await call(a.apiKey, 'PUT', `/domains/${d.id}/tracking-domain`, { hostname: 't.other.test' });
    assert.equal(other.status, 422);
    assert.equal(other.body.error.message, 't.other.test is not a subdomain of brand.test: a tracking domain must be under the sending domain, e.g. track.brand.test');
    assert.equal((await call(a.apiKey, 'PUT', `/domains/${d.id}/tracking-domain`, { hostname: 'brand.test' })).status, 422);

    const put = await call(a.apiKey, 'PUT', `/domains/${d.id}/tracking-domain`, { hostname: 'T.Brand.test' });
    assert.equal(put.status, 200);
    assert.equal(put.body.hostname, 't.brand.test');
    assert.equal(put.body.cnameTarget, 'track.mb.test');
    assert.equal(put.body.status, 'pending');

    let v = await call(a.apiKey, 'POST', `/domains/${d.id}/tracking-domain/verify`);
    assert.equal(v.body.status, 'failed');
    assert.match(v.body.statusReason, /^t\.brand\.test has no CNAME record/);
    await dns.set({ txt: { [ver.name]: [ver.value], [dkim.name]: [dkim.value] }, a: { 'track.mb.test': '127.0.0.1', 'elsewhere.test': '127.0.0.2' }, cname: { 't.brand.test': 'elsewhere.test' } });
    v = await call(a.apiKey, 'POST', `/domains/${d.id}/tracking-domain/verify`);
    assert.equal(v.body.statusReason, 't.brand.test is a CNAME to elsewhere.test, not to track.mb.test');
    assert.equal(await clickStatus('t.brand.test'), 404, 'not served before verification');
    await dns.set({ txt: { [ver.name]: [ver.value], [dkim.name]: [dkim.value] }, a: { 'track.mb.test': '127.0.0.1' }, cname: { 't.brand.test': 'track.mb.test' } });
    v = await call(a.apiKey, 'POST', `/domains/${d.id}/tracking-domain/verify`);
    assert.equal(v.body.status, 'verified');
    assert.equal(v.body.baseUrl, 'http://t.brand.test:8080');
    assert.equal(v.body.certificate.status, 'none', 'ACME is off here');
    assert.equal(await clickStatus('t.brand.test'), 302, 'the tracking routes answer for the verified hostname');

    const ctx = s.server.ctx;
    const row = (await ctx.store.domains.get(a.accountId, d.id))!;
    assert.equal(await trackingBaseFor(ctx, row), 'http://t.brand.test:8080');
    assert.equal((await call(a.apiKey, 'GET', `/domains/${d.id}`)).body.trackingDomain.status, 'verified');

    // Another account cannot take the hostname or see any of this.
    const b = await s.account();
    assert.deepEqual((await call(a.apiKey, 'GET', '/domains')).body.data.map((x: { name: string }) => x.name), ['brand.test']);
    assert.deepEqual((await call(b.apiKey, 'GET', '/domains')).body.data, [], 'lists are per account');
    const bd = (await call(b.apiKey, 'POST', '/domains', { name: 'brand.test' })).body;
    await ctx.store.domains.update(b.accountId, bd.id, { status: 'validated' });
    assert.equal((await call(b.apiKey, 'PUT', `/domains/${bd.id}/tracking-domain`, { hostname: 't.brand.test' })).body.error.code, 'hostname_taken');
    for (const [method, path] of [['GET', ''], ['POST', '/verify'], ['GET', '/settings'], ['PATCH', '/settings'], ['GET', '/tracking-domain'], ['PUT', '/tracking-domain'], ['POST', '/tracking-domain/verify'], ['DELETE', '/tracking-domain'], ['DELETE', '']]) {
      const body = method === 'PATCH' ? { ipTruncation: true } : method === 'PUT' ? { hostname: 'x.brand.test' } : undefined;
      const r = await call(b.apiKey, method, `/domains/${d.id}${path}`, body);
      assert.equal(r.status, 404, `${method} ${path}`);
    }

    // Delete: new mail goes back to the default host; the hostname keeps answering old tokens.
    assert.equal((await call(a.apiKey, 'DELETE', `/domains/${d.id}/tracking-domain`)).status, 204);
    assert.equal(await trackingBaseFor(ctx, row), 'http://track.mb.test:8080');
    assert.equal((await call(a.apiKey, 'GET', `/domains/${d.id}/tracking-domain`)).status, 404);
    assert.ok((await ctx.store.trackingDomains.servedHostnames()).includes('t.brand.test'));
    // Deleting the domain itself also keeps it served.
    assert.equal((await call(a.apiKey, 'DELETE', `/domains/${d.id}`)).status, 204);
    assert.equal((await call(a.apiKey, 'GET', `/domains/${d.id}`)).status, 404);
    assert.ok((await ctx.store.trackingDomains.servedHostnames()).includes('t.brand.test'));
    assert.equal(await clickStatus('t.brand.test'), 302, 'old tokens keep working after the domain is deleted');

    // The CNAME goes away: the re-check marks it dangling and it is no longer served.
    await dns.set({ a: { 'track.mb.test': '127.0.0.1' } });
    const td = (await ctx.store.trackingDomains.byHostname('t.brand.test'))!;
    assert.equal((await verifyTrackingDomain(ctx, td, { periodic: true })).status, 'dangling');
    await waitFor(async () => (await clickStatus('t.brand.test')) === 404);
    assert.equal(await clickStatus('t.brand.test'), 404, 'a dangling hostname is not served');
  });

  test('the OpenAPI document lists the domain routes', async () => {
    const doc = await (await fetch(`${s.baseUrl}/api/openapi.json`)).json();
    for (const p of ['/api/v1/domains', '/api/v1/domains/{id}/verify', '/api/v1/domains/{id}/settings', '/api/v1/domains/{id}/tracking-domain', '/api/v1/integrations/control-panel/domains']) assert.ok(doc.paths[p], p);
  });
});
