// Webhook SSRF (a tenant cannot make the server call private, loopback or metadata addresses) and rate
// limits (dashboard login per address and email; /api/v1 per key and per address) answering 429 with the
// JSON error shape and Retry-After.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { apiClient } from './helpers.ts';
import { newId } from '../../src/domain/ids.ts';
import { sealSecret } from '../../src/webhooks/signing.ts';

describe('webhook SSRF is refused', () => {
  let s: TestServer;
  let receiver: http.Server;
  let hits = 0;
  let port = 0;
  before(async () => {
    receiver = http.createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as { port: number }).port;
    s = await startTestServer({ env: { MAILBEACON_WEBHOOK_ALLOW_PRIVATE: 'false', MAILBEACON_WEBHOOK_POLL_INTERVAL: '50' } });
  });
  after(async () => {
    await s?.stop();
    await new Promise((r) => receiver.close(r));
  });

  test('private, loopback, link-local and disguised addresses are refused at create and update', async () => {
    const acc = await s.account();
    const api = apiClient(s.baseUrl, acc.apiKey);
    const targets = [
      `http://127.0.0.1:${port}/hook`, `http://localhost:${port}/hook`, `http://[::1]:${port}/`, 'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/', 'http://192.168.1.1/', 'http://172.16.0.1/', 'http://100.64.0.1/', 'http://0.0.0.0/', `http://2130706433:${port}/`,
      `http://0x7f000001:${port}/`, `http://0177.0.0.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://[::ffff:7f00:1]:${port}/`,
      'http://[fe80::1]/', 'http://[fd00::1]/', `http://user:pass@example.com/`, 'file:///etc/passwd', 'gopher://127.0.0.1:25/', 'ftp://127.0.0.1/',
    ];
    for (const url of targets) {
      const r = await api('POST', '/api/v1/webhooks', { url, events: ['open'] });
      assert.equal(r.status, 422, `${url} → ${r.status} ${r.text}`);
      assert.equal(typeof r.json.error.code, 'string');
    }
    assert.equal((await api('GET', '/api/v1/webhooks')).json.data.length, 0);
    // An existing webhook cannot be pointed at a private address either (it is created directly in the
    // store, as if the address had been public when it was added).
    {
      const id = newId('wh_');
      const now = Date.now();
      await s.server.ctx.store.webhooks.insert({ id, accountId: acc.accountId, url: 'https://hooks.example.com/x', events: '["open","test"]', domainId: null, secretEnc: sealSecret(s.server.ctx.secret, 'whsec_x'), enabled: 1, disabledReason: null, fromEventId: 0, createdAt: now, updatedAt: now });
      const r = await api('PATCH', `/api/v1/webhooks/${id}`, { url: `http://127.0.0.1:${port}/hook` });
      assert.equal(r.status, 422, r.text);
      // Even if the row held a loopback URL (e.g. allowed earlier, or DNS changed), delivery refuses it.
      await s.server.ctx.store.db.kysely.updateTable('webhooks').set({ url: `http://127.0.0.1:${port}/hook` }).where('id', '=', id).execute();
      assert.equal((await api('POST', `/api/v1/webhooks/${id}/test`)).status, 202);
      await new Promise((r) => setTimeout(r, 600));
    }
    assert.equal(hits, 0, 'the private receiver was never called');
  });
});

describe('rate limits', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { MAILBEACON_API_RATE_LIMIT: '5', MAILBEACON_LOGIN_MAX_ATTEMPTS: '3' } });
  });
  after(async () => {
    await s?.stop();
  });

  test('the API answers 429 with the JSON error shape past the per-key limit; other keys are not affected', async () => {
    const a = await s.account();
    const b = await s.account();
    const api = apiClient(s.baseUrl, a.apiKey);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api('GET', '/api/v1/account')).status);
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    const r = await api('GET', '/api/v1/account');
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, 'rate_limited');
    assert.equal(typeof r.json.error.message, 'string');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal((await apiClient(s.baseUrl, b.apiKey)('GET', '/api/v1/account')).status, 200, 'another key has its own bucket');
    // Requests without a key share their client address's bucket.
    const anon: number[] = [];
    for (let i = 0; i < 7; i++) anon.push((await fetch(`${s.baseUrl}/api/v1/account`)).status);
    assert.deepEqual(anon.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.equal(anon[6], 429);
    const m = await s.server.ctx.metrics.registry.getSingleMetric('mailbeacon_api_rate_limited_total')!.get();
    assert.ok(m.values[0].value >= 3);
  });

  test('dashboard login answers 429 after too many failures', async () => {
    await s.account('ratelimit@example.test');
    const tries: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ratelimit@example.test', password: `wrong-${i}` }) });
      tries.push(r.status);
      if (r.status === 429) {
        const j = await r.json() as any;
        assert.equal(typeof j.error.code, 'string');
      }
    }
    assert.deepEqual(tries.slice(0, 3), [401, 401, 401]);
    assert.equal(tries[4], 429);
    // Even the right password is refused while limited.
    const ok = await fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ratelimit@example.test', password: 'correct horse battery' }) });
    assert.equal(ok.status, 429);
  });
});
