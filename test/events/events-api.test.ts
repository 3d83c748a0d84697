// GET /api/v1/events and /events/export against a real server on both stores: filters, the domain given by
// id or by name, tenant isolation, and cursor paging that stays stable while events keep arriving.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { DIALECTS } from '../helpers/dialects.ts';
import { insertEvents } from '../helpers/events.ts';
import { createDomain } from '../../src/domains/domain-service.ts';

const T = Date.UTC(2026, 10, 20, 10);

for (const dialect of DIALECTS) {
  describe(`events API (${dialect})`, () => {
    let s: TestServer;
    let a: { accountId: string; apiKey: string };
    let b: { accountId: string; apiKey: string };
    let domId: string;
    const get = async (path: string, key = a.apiKey) => {
      const r = await fetch(`${s.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: r.status, body: r.headers.get('content-type')?.startsWith('application/json') ? await r.json() : await r.text(), headers: r.headers };
    };

    before(async () => {
      s = await startTestServer({ dialect, roles: ['http'] });
      a = await s.account();
      b = await s.account();
      domId = (await createDomain(s.server.ctx, a.accountId, 'example.com', 'manual_dns')).id;
      const st = s.server.ctx.store;
      await insertEvents(st, [
        { accountId: a.accountId, type: 'delivered', domainId: domId, messageId: 'msg_1', recipient: 'ann@example.org', createdAt: T },
        { accountId: a.accountId, type: 'open', domainId: domId, messageId: 'msg_1', recipient: 'ann@example.org', classification: 'human', createdAt: T + 1000, clientName: 'Thunderbird', isFirst: 1 },
        { accountId: a.accountId, type: 'open', domainId: domId, messageId: 'msg_1', recipient: 'ann@example.org', classification: 'machine', reason: 'apple_mpp', createdAt: T + 2000 },
        { accountId: a.accountId, type: 'open_signal', domainId: domId, messageId: 'msg_1', recipient: 'ann@example.org', createdAt: T + 2500 },
        { accountId: a.accountId, type: 'click', domainId: null, messageId: 'msg_2', recipient: 'bob@example.org', classification: 'human', url: 'https://x.test/a,b', linkIndex: 0, createdAt: T + 3000 },
        { accountId: a.accountId, type: 'bounced', domainId: domId, messageId: 'msg_3', recipient: 'cy@example.org', reason: '550 5.1.1', createdAt: T + 4000 },
        { accountId: b.accountId, type: 'open', domainId: null, messageId: 'msg_9', recipient: 'ann@example.org', classification: 'human', createdAt: T + 1500 },
      ]);
    });
    after(async () => { await s.stop(); });

    test('every filter, alone and combined; another account never shows', async () => {
      const ids = async (q: string) => {
        const r = await get(`/events?${q}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.data.map((e: any) => `${e.type}:${e.recipient}`);
      };
      assert.equal((await ids('')).length, 5, 'all of account a, without internal open_signal rows');
      assert.deepEqual(await ids('type=open'), ['open:ann@example.org', 'open:ann@example.org']);
      assert.deepEqual(await ids('type=click,bounced'), ['click:bob@example.org', 'bounced:cy@example.org']);
      assert.deepEqual(await ids(`domain=${domId}&type=click`), []);
      assert.equal((await ids('domain=example.com')).length, 4, 'domain by name');
      assert.equal((await ids(`domain=${domId}`)).length, 4, 'domain by id');
      assert.deepEqual(await ids('messageId=msg_2'), ['click:bob@example.org']);
      assert.deepEqual(await ids('recipient=CY@example.org'), ['bounced:cy@example.org']);
      assert.deepEqual(await ids(`since=${new Date(T + 1000).toISOString()}&until=${T + 3000}`), ['open:ann@example.org', 'open:ann@example.org']);
      assert.deepEqual(await ids('human=true'), ['open:ann@example.org', 'click:bob@example.org']);
      assert.deepEqual(await ids('human=false'), ['open:ann@example.org']);
      const one = (await get('/events?type=open&human=true')).body.data[0];
      assert.equal(one.id.startsWith('evt_'), true);
      assert.equal(one.createdAt, new Date(T + 1000).toISOString());
      assert.deepEqual(one.client, { name: 'Thunderbird', version: null });
      assert.equal(one.isFirst, true);
      // Account b sees only its own; a's domain is unknown to b.
      assert.deepEqual((await get('/events', b.apiKey)).body.data.map((e: any) => e.messageId), ['msg_9']);
      const foreign = await get(`/events?domain=${domId}`, b.apiKey);
      assert.equal(foreign.status, 422);
      assert.equal(foreign.body.error.code, 'unknown_domain');
      assert.equal((await get('/events?type=opened')).status, 422);
      assert.equal((await get('/events?limit=1001')).status, 422);
      assert.equal((await get('/events?cursor=bogus')).status, 422);
    });

    test('cursor paging is stable while new events are inserted concurrently', async () => {
      const c = await s.account();
      const st = s.server.ctx.store;
      await insertEvents(st, Array.from({ length: 50 }, (_, i) => ({ accountId: c.accountId, type: 'open', recipient: `r${i}@example.org`, createdAt: T + i })));
      const seen: string[] = [];
      let cursor = '';
      let inserted = 0;
      let pages = 0;
      while (true) {
        const r = await get(`/events?limit=7${cursor ? `&cursor=${cursor}` : ''}`, c.apiKey);
        assert.equal(r.status, 200);
        seen.push(...r.body.data.map((e: any) => e.id));
        pages++;
        // Others keep writing while we page: new rows land after everything already paged.
        if (inserted < 30) {
          await Promise.all([
            insertEvents(st, Array.from({ length: 5 }, (_, i) => ({ accountId: c.accountId, type: 'click', recipient: `n${inserted + i}@example.org`, createdAt: T + 100 }))),
            insertEvents(st, [{ accountId: a.accountId, type: 'open', createdAt: T }]),
          ]);
          inserted += 5;
        }
        cursor = r.body.nextCursor;
        if (!r.body.hasMore) break;
      }
      assert.equal(new Set(seen).size, seen.length, 'no event twice');
      assert.equal(seen.length, 80, 'every event once, including those inserted while paging');
      const nums = seen.map((id) => Number(id.slice(4)));
      assert.deepEqual(nums, [...nums].sort((x, y) => x - y), 'in id order');
      assert.ok(pages >= 12);
      // Polling the last cursor returns nothing new, then the next event.
      const idle = await get(`/events?cursor=${cursor}`, c.apiKey);
      assert.deepEqual(idle.body.data, []);
      assert.equal(idle.body.nextCursor, cursor, 'the cursor stays usable for polling');
      await insertEvents(st, [{ accountId: c.accountId, type: 'delivered', createdAt: T }]);
      assert.equal((await get(`/events?cursor=${cursor}`, c.apiKey)).body.data.length, 1);
    });

    test('export streams CSV and NDJSON with the same filters', async () => {
      const nd = await get('/events/export?type=open,click&format=ndjson');
      assert.equal(nd.status, 200);
      assert.match(nd.headers.get('content-type')!, /application\/x-ndjson/);
      const lines = (nd.body as string).trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((e) => e.type), ['open', 'open', 'click', ...Array(lines.length - 3).fill('open')]);
      assert.ok(lines.every((e) => e.accountId === a.accountId));
      const csv = await get('/events/export?type=click&format=csv');
      assert.match(csv.headers.get('content-disposition')!, /attachment; filename="events-.*\.csv"/);
      const rows = (csv.body as string).split('\r\n').filter(Boolean);
      assert.equal(rows.length, 2);
      assert.match(rows[0], /^id,type,createdAt,domainId/);
      assert.match(rows[1], /^evt_\d+,click,.*,"https:\/\/x\.test\/a,b",/);
      assert.equal((await get('/events/export?format=xml')).status, 422);
      assert.equal((await get('/events/export?format=csv', b.apiKey)).body.split('\r\n').filter(Boolean).length, 2, 'b exports only its own');
    });
  });
}
