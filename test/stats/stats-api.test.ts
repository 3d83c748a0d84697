// GET /api/v1/stats and /stats/breakdown on both stores: the numbers are the inserted rollups, bucketed,
// filtered by domain and account, with the documented rates.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { DIALECTS } from '../helpers/dialects.ts';
import { insertRollup } from '../helpers/events.ts';
import { createDomain } from '../../src/domains/domain-service.ts';

const H = 3_600_000;
const D0 = Date.UTC(2026, 10, 10);

for (const dialect of DIALECTS) {
  describe(`stats API (${dialect})`, () => {
    let s: TestServer;
    let a: { accountId: string; apiKey: string };
    let b: { accountId: string; apiKey: string };
    let dom: string;
    const get = async (path: string, key = a.apiKey) => {
      const r = await fetch(`${s.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: r.status, body: await r.json() };
    };

    before(async () => {
      s = await startTestServer({ dialect, roles: ['http'], clock: { now: () => D0 + 3 * 24 * H } });
      a = await s.account();
      b = await s.account();
      dom = (await createDomain(s.server.ctx, a.accountId, 'stats.example', 'manual_dns')).id;
      const st = s.server.ctx.store;
      await insertRollup(st, { accountId: a.accountId, domainId: dom, hour: D0 + 9 * H, delivered: 100, opens: 70, uniqueOpens: 40, humanOpens: 50, machineOpens: 20, clicks: 12, uniqueClicks: 8 });
      await insertRollup(st, { accountId: a.accountId, domainId: dom, hour: D0 + 15 * H, delivered: 20, opens: 10, uniqueOpens: 5, humanOpens: 10, machineOpens: 0, clicks: 2, uniqueClicks: 2 });
      await insertRollup(st, { accountId: a.accountId, domainId: '', hour: D0 + 9 * H, delivered: 30, opens: 3, uniqueOpens: 3, humanOpens: 1, machineOpens: 2, clicks: 0, uniqueClicks: 0 });
      await insertRollup(st, { accountId: a.accountId, domainId: dom, hour: D0 + 24 * H + 2 * H, delivered: 50, opens: 0, uniqueOpens: 0, humanOpens: 0, machineOpens: 0, clicks: 0, uniqueClicks: 0 });
      await insertRollup(st, { accountId: b.accountId, domainId: '', hour: D0 + 9 * H, delivered: 999, opens: 999, uniqueOpens: 999, humanOpens: 999, machineOpens: 0, clicks: 9, uniqueClicks: 9 });
      const bd = (accountId: string, domainId: string, hour: number, dimension: string, value: string, opens: number, humanOpens: number, machineOpens: number, clicks: number) =>
        st.db.kysely.insertInto('rollupsBreakdown').values({ accountId, domainId, hour, dimension, value, opens, humanOpens, machineOpens, clicks }).execute();
      await bd(a.accountId, dom, D0 + 9 * H, 'client', 'Apple Mail', 30, 5, 25, 1);
      await bd(a.accountId, dom, D0 + 10 * H, 'client', 'Apple Mail', 10, 5, 5, 0);
      await bd(a.accountId, dom, D0 + 9 * H, 'client', 'Gmail', 35, 35, 0, 10);
      await bd(a.accountId, '', D0 + 9 * H, 'client', 'Outlook', 3, 1, 2, 0);
      await bd(a.accountId, dom, D0 + 9 * H, 'reason', 'apple_mpp', 25, 0, 25, 0);
      await bd(b.accountId, '', D0 + 9 * H, 'client', 'Gmail', 500, 500, 0, 0);
    });
    after(async () => { await s.stop(); });

    test('daily series and totals match the rollups; rates as documented', async () => {
      const r = await get(`/stats?from=${new Date(D0).toISOString()}&to=${D0 + 2 * 24 * H}&interval=day`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.series, [
        { t: new Date(D0).toISOString(), delivered: 150, opens: 83, uniqueOpens: 48, humanOpens: 61, machineOpens: 22, clicks: 14, uniqueClicks: 10 },
        { t: new Date(D0 + 24 * H).toISOString(), delivered: 50, opens: 0, uniqueOpens: 0, humanOpens: 0, machineOpens: 0, clicks: 0, uniqueClicks: 0 },
      ]);
      assert.deepEqual(r.body.totals, { delivered: 200, opens: 83, uniqueOpens: 48, humanOpens: 61, machineOpens: 22, clicks: 14, uniqueClicks: 10, openRate: 0.24, humanOpenRate: 0.7349, clickRate: 0.05 });
    });

    test('hourly series by domain name or id, with empty hours as zeros', async () => {
      for (const d of ['stats.example', dom]) {
        const r = await get(`/stats?domain=${d}&from=${D0 + 8 * H}&to=${D0 + 16 * H}&interval=hour`);
        assert.equal(r.status, 200);
        assert.equal(r.body.series.length, 8);
        assert.deepEqual(r.body.series.map((p: any) => p.delivered), [0, 100, 0, 0, 0, 0, 0, 20]);
        assert.equal(r.body.totals.openRate, 0.375);
      }
      assert.equal((await get(`/stats?domain=${dom}`, b.apiKey)).status, 422, "another account's domain");
      assert.equal((await get('/stats?interval=minute')).status, 422);
    });

    test('nothing delivered: rates are 0; the default window ends now', async () => {
      const r = await get(`/stats?from=${D0 - 10 * 24 * H}&to=${D0 - 5 * 24 * H}`);
      assert.equal(r.body.totals.openRate, 0);
      assert.equal(r.body.totals.clickRate, 0);
      const def = await get('/stats');
      assert.equal(def.body.series.length, 30, 'the 30 days before now (now is midnight)');
      assert.equal(def.body.totals.delivered, 200);
      assert.equal((await get('/stats', b.apiKey)).body.totals.delivered, 999);
    });

    test('breakdown by client and reason, per domain and account', async () => {
      const r = await get(`/stats/breakdown?by=client&from=${D0}&to=${D0 + 24 * H}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data, [
        { value: 'Apple Mail', opens: 40, humanOpens: 10, machineOpens: 30, clicks: 1 },
        { value: 'Gmail', opens: 35, humanOpens: 35, machineOpens: 0, clicks: 10 },
        { value: 'Outlook', opens: 3, humanOpens: 1, machineOpens: 2, clicks: 0 },
      ]);
      const byDom = await get(`/stats/breakdown?by=client&domain=stats.example&from=${D0}&to=${D0 + 10 * H}`);
      assert.deepEqual(byDom.body.data.map((x: any) => [x.value, x.opens]), [['Gmail', 35], ['Apple Mail', 30]]);
      assert.deepEqual((await get(`/stats/breakdown?by=reason&from=${D0}`)).body.data, [{ value: 'apple_mpp', opens: 25, humanOpens: 0, machineOpens: 25, clicks: 0 }]);
      assert.deepEqual((await get('/stats/breakdown?by=os')).body.data, []);
      assert.equal((await get('/stats/breakdown?by=browser')).status, 422);
      assert.equal((await get('/stats/breakdown')).status, 422);
    });
  });
}
