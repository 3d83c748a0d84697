import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

describe('HTTP foundation', () => {
  let s: TestServer;
  before(async () => { s = await startTestServer(); });
  after(async () => { await s.stop(); });

  test('healthz, readyz, metrics', async () => {
    assert.equal((await fetch(`${s.baseUrl}/healthz`)).status, 200);
    const ready = await fetch(`${s.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ok: true, store: 'reachable' });
    const m = await (await fetch(`${s.baseUrl}/metrics`)).text();
    assert.match(m, /mailbeacon_http_requests_total/);
    assert.match(m, /process_cpu_user_seconds_total/);
  });

  test('the API key authenticates /api/v1; a wrong or missing key gets 401 in the JSON error shape', async () => {
    const acc = await s.account();
    const ok = await fetch(`${s.baseUrl}/api/v1/account`, { headers: { authorization: `Bearer ${acc.apiKey}` } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).id, acc.accountId);
    for (const headers of [{ authorization: `Bearer ${acc.apiKey}x` }, { authorization: "Basic abc" }, {}] as Record<string, string>[]) {
      const r = await fetch(`${s.baseUrl}/api/v1/account`, { headers });
      assert.equal(r.status, 401);
      const body = await r.json();
      assert.equal(body.error.code, 'unauthorized');
      assert.equal(typeof body.error.message, 'string');
    }
  });

  test('OpenAPI document and docs page', async () => {
    const doc = await (await fetch(`${s.baseUrl}/api/openapi.json`)).json();
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/api/v1/account']);
    assert.equal((await fetch(`${s.baseUrl}/api/docs`, { redirect: 'manual' })).status < 400, true);
  });

  test('validation errors are 422 with per-field errors', async () => {
    const acc = await s.account();
    const r = await fetch(`${s.baseUrl}/api/v1/account`, { method: 'PATCH', headers: { authorization: `Bearer ${acc.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ sendingMode: 'sometimes' }) });
    assert.equal(r.status, 422);
    const body = await r.json();
    assert.equal(body.error.code, 'invalid_request');
    assert.ok(body.error.fields.sendingMode);
  });

  test('API keys: create (shown once), list (never shown), revoke; other accounts get 404', async () => {
    const a = await s.account();
    const b = await s.account();
    const h = (k: string) => ({ authorization: `Bearer ${k}`, 'content-type': 'application/json' });
    const created = await (await fetch(`${s.baseUrl}/api/v1/api-keys`, { method: 'POST', headers: h(a.apiKey), body: '{"name":"ci"}' })).json();
    assert.match(created.apiKey, /^mb_/);
    const list = await (await fetch(`${s.baseUrl}/api/v1/api-keys`, { headers: h(a.apiKey) })).text();
    assert.ok(!list.includes(created.apiKey));
    assert.equal((await fetch(`${s.baseUrl}/api/v1/api-keys/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${b.apiKey}` } })).status, 404);
    assert.equal((await fetch(`${s.baseUrl}/api/v1/api-keys/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${a.apiKey}` } })).status, 204);
    assert.equal((await fetch(`${s.baseUrl}/api/v1/account`, { headers: h(created.apiKey) })).status, 401);
  });
});
