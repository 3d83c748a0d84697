// Tenants stay apart: every /api/v1 route in the running app's OpenAPI document (so a route added later is
// covered without touching this file) is called by account B with account A's real ids and must answer
// 404; list and query routes never show B anything of A's; afterwards A's resources are all still there.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/dialects.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createDomain } from '../../src/domains/domain-service.ts';
import { addDomain, waitFor } from '../outbound/helpers.ts';
import { apiClient, sampleOf, seedMessage, type Api } from './helpers.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Known fixtures by the collection segment in front of a path parameter; anything else is found by listing. */
type Ids = Record<string, string>;

for (const dialect of DIALECTS) {
  describe(`tenant isolation on every /api/v1 route (${dialect})`, () => {
    let s: TestServer;
    let a: Api;
    let b: Api;
    let doc: any;
    const ids: Ids = {};
    /** Strings that identify A's data: none may appear in anything B reads. */
    const markers = new Set<string>();

    before(async () => {
      s = await startTestServer({ dialect, env: { MAILBEACON_WEBHOOK_ALLOW_PRIVATE: 'true', MAILBEACON_API_RATE_LIMIT: '0' } });
      const accA = await s.account('tenant-a@example.test');
      const accB = await s.account('tenant-b@example.test');
      a = apiClient(s.baseUrl, accA.apiKey);
      b = apiClient(s.baseUrl, accB.apiKey);
      const ctx = s.server.ctx;

      // A's data, made through the API where a route exists, else straight into the store.
      const key = await a('POST', '/api/v1/api-keys', { name: 'a-second-key' });
      assert.equal(key.status, 201);
      ids['api-keys'] = key.json.id;
      const cred = await a('POST', '/api/v1/smtp-credentials');
      assert.equal(cred.status, 201);
      ids['smtp-credentials'] = cred.json.id;
      markers.add(cred.json.username);
      // A validated dashboard domain (as after DNS verification) with a custom tracking hostname.
      const domA = await addDomain(ctx.store, accA.accountId, 'tenant-a-secret.example.test');
      ids.domains = domA.id;
      markers.add(domA.name);
      const tdoc = (await (await fetch(`${s.baseUrl}/api/openapi.json`)).json()) as any;
      if (tdoc.paths['/api/v1/domains/{id}/tracking-domain']?.put) {
        const td = await a('PUT', `/api/v1/domains/${domA.id}/tracking-domain`, { hostname: 'track.tenant-a-secret.example.test' });
        assert.equal(td.status, 200, td.text);
      }
      const hook = await a('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/tenant-a-hook', events: ['open'] });
      assert.equal(hook.status, 201, hook.text);
      ids.webhooks = hook.json.id;
      markers.add('tenant-a-hook');
      const t = await a('POST', `/api/v1/webhooks/${ids.webhooks}/test`);
      assert.equal(t.status, 202);
      ids.deliveries = t.json.deliveryId;
      const msg = await seedMessage(ctx.store, accA.accountId, { domainId: domA.id, subject: 'tenant-a-subject', recipients: ['tenant-a-rcpt@example.net'] });
      ids.messages = msg.messageId;
      ids.copies = msg.copyIds[0];
      ids.recipients = msg.copyIds[0];
      markers.add('tenant-a-subject').add('tenant-a-rcpt@example.net');
      doc = (await (await fetch(`${s.baseUrl}/api/openapi.json`)).json());
      if (doc.paths['/api/v1/messages']?.post) {
        // Mail sent through the API, delivered to the outbox by the worker: ids for the message and outbox routes.
        const sent = await a('POST', '/api/v1/messages', { from: 'news@tenant-a-secret.example.test', to: ['tenant-a-rcpt2@example.net'], subject: 'tenant-a-sent', text: 'hello' });
        assert.equal(sent.status, 202, sent.text);
        markers.add(sent.json.id).add('tenant-a-sent').add('tenant-a-rcpt2@example.net');
        if (doc.paths['/api/v1/outbox']?.get) await waitFor(async () => (await a('GET', '/api/v1/outbox')).json?.data?.length, 10_000, 'delivery to the outbox');
      }
      for (const v of Object.values(ids)) markers.add(v);
      markers.add(accA.accountId);

      // B has data of its own, so its lists are not trivially empty.
      await createDomain(ctx, accB.accountId, 'tenant-b.example.test', 'dashboard');
      await seedMessage(ctx.store, accB.accountId, { subject: 'tenant-b-subject', recipients: ['tenant-b-rcpt@example.net'] });
      assert.equal((await b('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/tenant-b-hook', events: ['open'] })).status, 201);
    });
    after(async () => {
      await s?.stop();
    });

    const routes = () => {
      const out: { path: string; method: string; op: any }[] = [];
      for (const [path, ops] of Object.entries<any>(doc.paths)) {
        if (!path.startsWith('/api/v1/')) continue;
        for (const m of METHODS) if (ops[m]) out.push({ path, method: m.toUpperCase(), op: ops[m] });
      }
      return out;
    };

    /** A's id for the parameter after `collection`: a fixture, or the first item A sees when listing it. */
    const idFor = async (prefix: string, collection: string): Promise<string | undefined> => {
      if (ids[collection]) return ids[collection];
      const list = await a('GET', prefix);
      const items = Array.isArray(list.json) ? list.json : list.json?.data ?? list.json?.items ?? list.json?.[collection];
      const id = Array.isArray(items) ? items[0]?.id : undefined;
      if (typeof id === 'string') {
        ids[collection] = id;
        markers.add(id);
      }
      return typeof id === 'string' ? id : undefined;
    };

    test('the OpenAPI document lists the routes this suite must cover', () => {
      const paths = routes().map((r) => `${r.method} ${r.path}`);
      for (const p of ['GET /api/v1/webhooks/{id}', 'DELETE /api/v1/api-keys/{id}', 'GET /api/v1/messages/{id}/timeline', 'GET /api/v1/events']) assert.ok(paths.includes(p), p);
    });

    test('B gets 404 for every route that names one of A\'s resources, and A\'s resources survive', async () => {
      const withParams = routes().filter((r) => r.path.includes('{'));
      assert.ok(withParams.length >= 8, `only ${withParams.length} routes with ids`);
      const checked: string[] = [];
      for (const r of withParams) {
        const segs = r.path.split('/');
        let path = '';
        for (let i = 0; i < segs.length; i++) {
          const m = /^\{(.+)\}$/.exec(segs[i]);
          if (!m) {
            path += (i ? '/' : '') + segs[i];
            continue;
          }
          const collection = m[1] === 'deliveryId' ? 'deliveries' : segs[i - 1];
          const id = await idFor(path, collection);
          assert.ok(id, `no id of account A for {${m[1]}} in ${r.path}: give this suite a fixture for "${collection}"`);
          path += `/${encodeURIComponent(id)}`;
        }
        // A reaches it (the id is real) on reads; B gets 404 whatever the method.
        if (r.method === 'GET') {
          const own = await a('GET', path);
          assert.equal(own.status, 200, `A: GET ${path} → ${own.status} ${own.text}`);
        }
        const schema = r.op.requestBody?.content?.['application/json']?.schema;
        const body = schema ? sampleOf(schema) : ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined;
        const res = await b(r.method, path, body);
        assert.equal(res.status, 404, `B: ${r.method} ${path} → ${res.status} ${res.text}`);
        assert.equal(typeof res.json?.error?.code, 'string', `${r.method} ${path}: JSON error shape`);
        for (const mk of markers) assert.ok(!res.text.includes(mk) || path.includes(mk), `${r.method} ${path} leaks ${mk}`);
        checked.push(`${r.method} ${r.path}`);
      }
      // Nothing of A's was changed or removed by B's attempts.
      assert.equal((await a('GET', `/api/v1/webhooks/${ids.webhooks}`)).status, 200);
      const keys = await a('GET', '/api/v1/api-keys');
      assert.equal(keys.json.data.find((k: any) => k.id === ids['api-keys'])?.revokedAt, null);
      const creds = await a('GET', '/api/v1/smtp-credentials');
      assert.equal(creds.json.data.find((c: any) => c.id === ids['smtp-credentials'])?.revokedAt, null);
      assert.ok(await s.server.ctx.store.domains.get((await a('GET', '/api/v1/account')).json.id, ids.domains));
      assert.ok(checked.length === withParams.length);
    });

    test('B\'s lists and queries never show A\'s data, even when B asks for A\'s ids', async () => {
      const lists = routes().filter((r) => r.method === 'GET' && !r.path.includes('{'));
      assert.ok(lists.length >= 4);
      const idParams = /^(domain|domainId|message|messageId|copy|copyId|webhook|webhookId|account|accountId|recipient)$/;
      for (const r of lists) {
        const plain = await b('GET', r.path);
        assert.ok(plain.status < 500, `${r.path} → ${plain.status}`);
        for (const mk of markers) assert.ok(!plain.text.includes(mk), `B: GET ${r.path} shows A's ${mk}`);
        for (const p of r.op.parameters ?? []) {
          if (p.in !== 'query' || !idParams.test(p.name)) continue;
          const values: Record<string, string> = {
            domain: ids.domains, domainId: ids.domains, message: ids.messages, messageId: ids.messages, copy: ids.copies, copyId: ids.copies,
            webhook: ids.webhooks, webhookId: ids.webhooks, recipient: 'tenant-a-rcpt@example.net',
          };
          const v = values[p.name] ?? ids.messages;
          const res = await b('GET', `${r.path}?${p.name}=${encodeURIComponent(v)}`);
          assert.ok([200, 404, 422].includes(res.status), `B: GET ${r.path}?${p.name}=A's → ${res.status}`);
          for (const mk of markers) assert.ok(!res.text.includes(mk) || mk === v, `B: GET ${r.path}?${p.name}=A's shows A's ${mk}`);
          if (res.status === 200) {
            const items = res.json?.data;
            if (Array.isArray(items)) assert.equal(items.length, 0, `B: GET ${r.path}?${p.name}=A's returned rows`);
          }
        }
      }
      // Counters too: A's opens are in A's stats only.
      const sa = await a('GET', '/api/v1/stats');
      const sb = await b('GET', '/api/v1/stats');
      assert.equal(sa.status, 200);
      assert.ok(JSON.stringify(sa.json).match(/"opens":1\b/), JSON.stringify(sa.json.totals ?? sa.json));
      assert.ok(!JSON.stringify(sb.json).includes('tenant-a'));
      assert.deepEqual(sb.json.totals?.opens, 1, 'B sees exactly its own one open');
    });
  });
}
