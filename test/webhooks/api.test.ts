// The webhooks API: validation, the secret shown once, updates, tenant isolation (another account's ids are
// 404 on every route), and SSRF refusal at creation with the default settings.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createDomain } from '../../src/domains/domain-service.ts';

describe('webhooks API', () => {
  let s: TestServer;
  let a: { accountId: string; apiKey: string };
  let b: { accountId: string; apiKey: string };
  const call = async (method: string, path: string, body?: unknown, key = a.apiKey) => {
    const r = await fetch(`${s.baseUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body !== undefined ? JSON.stringify(body) : undefined });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };

  // Default settings: MAILBEACON_WEBHOOK_ALLOW_PRIVATE is false.
  before(async () => {
    s = await startTestServer({ roles: ['http'] });
    a = await s.account();
    b = await s.account();
  });
  after(async () => { await s.stop(); });

  test('private, loopback, link-local and special-use destinations are refused at creation and on update', async () => {
    for (const url of ['http://127.0.0.1:8080/h', 'http://localhost/h', 'http://[::1]/h', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/h', 'http://192.168.1.1/h',
      'http://[fe80::1]/h', 'http://[::ffff:127.0.0.1]/h', 'http://0.0.0.0/h', 'http://2130706433/h', 'http://0x7f.1/h']) {
      const r = await call('POST', '/webhooks', { url, events: ['open'] });
      assert.equal(r.status, 422, url);
      assert.equal(r.body.error.code, 'destination_refused', url);
      assert.ok(r.body.error.fields.url);
    }
    for (const url of ['ftp://93.184.216.34/x', 'http://user:pw@93.184.216.34/', 'nope']) {
      assert.equal((await call('POST', '/webhooks', { url, events: ['open'] })).status, 422, url);
    }
    // A public literal address needs no DNS and is accepted.
    const ok = await call('POST', '/webhooks', { url: 'https://93.184.216.34/hooks', events: ['open'] });
    assert.equal(ok.status, 201);
    const upd = await call('PATCH', `/webhooks/${ok.body.id}`, { url: 'http://127.0.0.1/x' });
    assert.equal(upd.status, 422);
    assert.equal((await call('GET', `/webhooks/${ok.body.id}`)).body.url, 'https://93.184.216.34/hooks');
    await call('DELETE', `/webhooks/${ok.body.id}`);
  });

  test('create validates events; the secret is returned once; update and delete work', async () => {
    assert.equal((await call('POST', '/webhooks', { url: 'https://93.184.216.34/', events: [] })).status, 422);
    assert.equal((await call('POST', '/webhooks', { url: 'https://93.184.216.34/', events: ['opened'] })).status, 422);
    assert.equal((await call('POST', '/webhooks', { events: ['open'] })).status, 422);
    assert.equal((await call('POST', '/webhooks', { url: 'https://93.184.216.34/', events: ['open'], domain: 'nope.example' })).body.error.code, 'unknown_domain');
    const dom = await createDomain(s.server.ctx, a.accountId, 'hooks.example', 'manual_dns');
    const c = await call('POST', '/webhooks', { url: 'https://93.184.216.34/a', events: ['open', 'click'], domain: 'hooks.example' });
    assert.equal(c.status, 201);
    assert.match(c.body.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual({ ...c.body, secret: undefined, id: undefined, createdAt: undefined, updatedAt: undefined }, { url: 'https://93.184.216.34/a', events: ['open', 'click'], domainId: dom.id, enabled: true, disabledReason: null, secret: undefined, id: undefined, createdAt: undefined, updatedAt: undefined });
    const got = await call('GET', `/webhooks/${c.body.id}`);
    assert.equal(got.body.secret, undefined);
    const row = await s.server.ctx.store.webhooks.getById(c.body.id);
    assert.ok(row && !row.secretEnc.includes(c.body.secret) && !row.secretEnc.includes(c.body.secret.slice(6)), 'stored encrypted, not as-is');
    const p = await call('PATCH', `/webhooks/${c.body.id}`, { events: ['bounced'], domain: null, enabled: false });
    assert.deepEqual([p.body.events, p.body.domainId, p.body.enabled, p.body.disabledReason], [['bounced'], null, false, 'disabled by the user']);
    assert.equal((await call('GET', '/webhooks')).body.data.length, 1);
    assert.equal((await call('DELETE', `/webhooks/${c.body.id}`)).status, 204);
    assert.equal((await call('GET', `/webhooks/${c.body.id}`)).status, 404);
  });

  test("another account's webhook and delivery ids are 404 on every route", async () => {
    const w = (await call('POST', '/webhooks', { url: 'https://93.184.216.34/a', events: ['open'] })).body;
    const t = (await call('POST', `/webhooks/${w.id}/test`)).body;
    assert.match(t.deliveryId, /^whd_/);
    const routes: [string, string, unknown?][] = [
      ['GET', `/webhooks/${w.id}`], ['PATCH', `/webhooks/${w.id}`, { enabled: false }], ['DELETE', `/webhooks/${w.id}`], ['POST', `/webhooks/${w.id}/test`],
      ['GET', `/webhooks/${w.id}/deliveries`], ['GET', `/webhooks/${w.id}/deliveries/${t.deliveryId}`], ['POST', `/webhooks/${w.id}/deliveries/${t.deliveryId}/replay`],
    ];
    for (const [m, p, body] of routes) assert.equal((await call(m, p, body, b.apiKey)).status, 404, `${m} ${p}`);
    assert.deepEqual((await call('GET', '/webhooks', undefined, b.apiKey)).body.data, []);
    // a's own calls still work, and the delivery is visible with its payload.
    const d = await call('GET', `/webhooks/${w.id}/deliveries/${t.deliveryId}`);
    assert.equal(d.status, 200);
    assert.equal(d.body.payload.type, 'test');
    assert.equal(d.body.status, 'pending', 'no worker role here: it waits');
    assert.equal((await call('GET', `/webhooks/${w.id}/deliveries?cursor=bad`)).status, 422);
  });

  test('the delivery log pages newest first', async () => {
    const w = (await call('POST', '/webhooks', { url: 'https://93.184.216.34/b', events: ['open'] })).body;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await call('POST', `/webhooks/${w.id}/test`)).body.deliveryId);
    const p1 = await call('GET', `/webhooks/${w.id}/deliveries?limit=3`);
    assert.equal(p1.body.hasMore, true);
    const p2 = await call('GET', `/webhooks/${w.id}/deliveries?limit=3&cursor=${p1.body.nextCursor}`);
    assert.equal(p2.body.hasMore, false);
    // Ids sort by creation time (to the millisecond): every delivery exactly once across the pages.
    assert.deepEqual([...p1.body.data, ...p2.body.data].map((d: any) => d.id).sort(), [...ids].sort());
    assert.ok(p1.body.data.every((d: any) => p2.body.data.every((e: any) => d.id > e.id)), 'page 1 is newer than page 2');
  });
});
