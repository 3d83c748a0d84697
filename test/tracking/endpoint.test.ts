// The pixel and click endpoint against a real server on both dialects: answers, host policy, token
// tampering, what an event holds, rollups, privacy truncation and store failure.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import Database from 'better-sqlite3';
import { DIALECTS } from '../helpers/dialects.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { TokenSigner, keyringFromSecret } from '../../src/tracking/tokens.ts';
import { PIXEL_GIF, trackingSettled } from '../../src/tracking/tracking-http.ts';
import { TEST_SECRET, request, seedCopies, seedDomain, signer } from './helpers.ts';

const HOST = 'track.test';
const THUNDERBIRD = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1';
const MPP = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';

function assertGif(r: { status: number; headers: Record<string, unknown>; body: Buffer }) {
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'image/gif');
  assert.equal(r.headers['cache-control'], 'no-store, no-cache, must-revalidate, private');
  assert.equal(PIXEL_GIF.length, 43);
  assert.deepEqual(r.body, PIXEL_GIF);
}

async function metric(s: TestServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  // On SQLite hits are answered once journaled and counted once ingested: wait for that.
  await trackingSettled(s.server.ctx);
  const m = s.server.ctx.metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const v = (await m.get()).values.filter((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v.reduce((a, x) => a + x.value, 0);
}

async function metricNow(s: TestServer, name: string): Promise<number> {
  const m = s.server.ctx.metrics.registry.getSingleMetric(name);
  return m ? (await m.get()).values.reduce((a, x) => a + x.value, 0) : 0;
}

async function until(ok: () => Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const dialect of DIALECTS) {
  describe(`tracking endpoint (${dialect})`, () => {
    let s: TestServer;
    let port: number;
    const events = async () => {
      await trackingSettled(s.server.ctx);
      return s.server.ctx.store.db.kysely.selectFrom('events').selectAll().orderBy('id').execute();
    };

    before(async () => {
      s = await startTestServer({ dialect, env: { MAILBEACON_PUBLIC_URL: `https://${HOST}`, MAILBEACON_EVENT_FLUSH_MS: '2', MAILBEACON_PREFETCH_SECONDS: '10', MAILBEACON_TRUSTED_PROXIES: '127.0.0.0/8' } });
      port = s.server.httpPort!;
    });
    after(async () => {
      await s.stop();
    });

    test('a pixel load is recorded with client, classification and first-open flag, then rolled up', async () => {
      const store = s.server.ctx.store;
      const { accountId, messageId, copyIds } = await seedCopies(store, 2);
      const t = signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      assertGif(await request(port, `/o/${t}.gif`, { host: `${HOST.toUpperCase()}:443`, headers: { 'user-agent': THUNDERBIRD } }));
      assertGif(await request(port, `/o/${t}.gif?x=1`, { headers: { 'user-agent': MPP } }));
      const evs = (await events()).filter((e) => e.copyId === copyIds[0]);
      assert.equal(evs.length, 2);
      assert.equal(evs[0].type, 'open');
      assert.equal(evs[0].accountId, accountId);
      assert.equal(evs[0].messageId, messageId);
      assert.equal(evs[0].recipient, 'r0@example.test');
      assert.equal(evs[0].clientName, 'Thunderbird');
      assert.equal(evs[0].clientVersion, '115.3.1');
      assert.equal(evs[0].os, 'Windows');
      assert.equal(evs[0].device, 'desktop');
      assert.equal(evs[0].classification, 'human');
      assert.equal(evs[0].reason, 'client');
      assert.equal(evs[0].isFirst, 1);
      assert.equal(evs[0].ip, '127.0.0.1');
      assert.equal(evs[1].classification, 'machine');
      assert.equal(evs[1].reason, 'apple_mpp');
      assert.equal(evs[1].isFirst, 0);
      assert.equal(JSON.parse(evs[1].data!).appleGenericUa, true);
      const roll = await store.db.kysely.selectFrom('rollupsHourly').selectAll().where('accountId', '=', accountId).execute();
      assert.equal(roll.length, 1);
      assert.equal(roll[0].domainId, '');
      assert.equal(roll[0].hour % 3_600_000, 0);
      assert.deepEqual([roll[0].opens, roll[0].uniqueOpens, roll[0].humanOpens, roll[0].machineOpens, roll[0].clicks, roll[0].uniqueClicks], [2, 1, 1, 1, 0, 0]);
      const bd = await store.db.kysely.selectFrom('rollupsBreakdown').selectAll().where('accountId', '=', accountId).execute();
      const get = (d: string, v: string) => bd.find((r) => r.dimension === d && r.value === v);
      assert.equal(get('client', 'Thunderbird')?.humanOpens, 1);
      assert.equal(get('client', 'Apple Mail')?.machineOpens, 1);
      assert.equal(get('reason', 'apple_mpp')?.opens, 1);
      assert.equal(get('device', 'desktop')?.opens, 2);
    });

    test('SQLite: the journal\'s ingest thread runs at SCHED_IDLE while it keeps up', { skip: dialect !== 'sqlite' || process.platform !== 'linux' }, async () => {
      await until(async () => await metricNow(s, 'mailbeacon_tracking_journal_worker_sched_idle') === 1);
    });

    test('SQLite: an ingest thread starved while holding up the store gets normal scheduling, and SCHED_IDLE back once caught up', { skip: dialect !== 'sqlite' || process.platform !== 'linux' }, async () => {
      // A tracking-only node: no other writer on this thread (better-sqlite3 blocks the thread that waits).
      const t = await startTestServer({ dialect, roles: ['tracking'], env: { MAILBEACON_PUBLIC_URL: `https://${HOST}` } });
      try {
        const idle = () => metricNow(t, 'mailbeacon_tracking_journal_worker_sched_idle');
        await until(async () => await idle() === 1);
        const { copyIds } = await seedCopies(t.server.ctx.store, 1);
        // Another writer holds the store's write lock: the ingest thread waits inside its transaction.
        const other = new Database(t.server.ctx.store.db.sqlitePath!);
        other.exec('BEGIN IMMEDIATE');
        try {
          assertGif(await request(t.server.httpPort!, `/o/${signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST)}.gif`));
          // Its transaction has been open longer than TX_RAISE_MS (500 ms): raised to normal scheduling.
          await until(async () => await idle() === 0, 4000);
        } finally {
          other.exec('ROLLBACK');
          other.close();
        }
        // The hit is ingested once the lock is free, and the thread goes back to SCHED_IDLE.
        await trackingSettled(t.server.ctx);
        const evs = await t.server.ctx.store.db.kysely.selectFrom('events').select('copyId').execute();
        assert.deepEqual(evs.map((e) => e.copyId), [copyIds[0]]);
        await until(async () => await idle() === 1);
      } finally {
        await t.stop();
      }
    });

    test('HEAD answers like GET and is a signal, not an open', async () => {
      const { accountId, copyIds } = await seedCopies(s.server.ctx.store, 1);
      const t = signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      const r = await request(port, `/o/${t}.gif`, { method: 'HEAD', headers: { 'user-agent': THUNDERBIRD } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], '43');
      assert.equal(r.body.length, 0);
      const evs = (await events()).filter((e) => e.copyId === copyIds[0]);
      assert.equal(evs.length, 1);
      assert.equal(evs[0].type, 'open_signal');
      assert.equal(evs[0].reason, 'head');
      assert.equal(evs[0].classification, 'machine');
      const roll = await s.server.ctx.store.db.kysely.selectFrom('rollupsHourly').selectAll().where('accountId', '=', accountId).execute();
      assert.equal(roll.length, 0);
    });

    test('tampering with any byte or character of a token gets the GIF and records nothing', async () => {
      const { copyIds } = await seedCopies(s.server.ctx.store, 1);
      const t = signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      const raw = Buffer.from(t, 'base64url');
      const before = (await events()).length;
      const invalidBefore = await metric(s, 'mailbeacon_tracking_requests_total', { route: 'pixel', result: 'invalid_token' });
      const variants: string[] = [];
      for (let i = 0; i < raw.length; i++) {
        const b = Buffer.from(raw);
        b[i] ^= 0x01;
        variants.push(b.toString('base64url'));
      }
      for (let i = 0; i < t.length; i++) variants.push(t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1));
      variants.push(t.slice(0, -1), `${t}A`, '', 'not-a-token');
      for (const v of variants) assertGif(await request(port, `/o/${v}.gif`));
      assert.equal((await events()).length, before);
      assert.equal(await metric(s, 'mailbeacon_tracking_requests_total', { route: 'pixel', result: 'invalid_token' }) - invalidBefore, variants.length);
    });

    test('a token made for another host, or under a retired key id, records nothing', async () => {
      const { copyIds } = await seedCopies(s.server.ctx.store, 1);
      const before = (await events()).length;
      const other = signer.sign({ kind: 'open', copyId: copyIds[0] }, 'other.test');
      assertGif(await request(port, `/o/${other}.gif`));
      const retired = new TokenSigner(keyringFromSecret(TEST_SECRET, [7])).sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      assertGif(await request(port, `/o/${retired}.gif`));
      // A genuine token arriving on a host the endpoint does not serve: image, nothing recorded; click 404.
      const good = signer.sign({ kind: 'open', copyId: copyIds[0] }, 'other.test');
      assertGif(await request(port, `/o/${good}.gif`, { host: 'other.test' }));
      const click = signer.sign({ kind: 'click', copyId: copyIds[0], linkIndex: 0, url: 'https://example.com/' }, 'other.test');
      assert.equal((await request(port, `/c/${click}`, { host: 'other.test' })).status, 404);
      assert.equal((await events()).length, before);
      assert.ok(await metric(s, 'mailbeacon_tracking_requests_total', { result: 'unknown_host' }) >= 2);
    });

    test('a valid token for a copy that does not exist records nothing', async () => {
      const before = (await events()).length;
      const t = signer.sign({ kind: 'open', copyId: 'cpy-does-not-exist' }, HOST);
      assertGif(await request(port, `/o/${t}.gif`));
      assert.equal((await events()).length, before);
      assert.equal(await metric(s, 'mailbeacon_tracking_requests_total', { route: 'pixel', result: 'unknown_copy' }), 1);
    });

    test('a click redirects to the signed URL, counts an implied open, and unique clicks', async () => {
      const store = s.server.ctx.store;
      const { accountId, copyIds } = await seedCopies(store, 1);
      const url = 'https://example.com/path?q=a%20b&x=1#frag';
      const c0 = signer.sign({ kind: 'click', copyId: copyIds[0], linkIndex: 0, url }, HOST);
      const r = await request(port, `/c/${c0}`, { headers: { 'user-agent': THUNDERBIRD } });
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, url);
      assert.equal((await request(port, `/c/${c0}`, { headers: { 'user-agent': THUNDERBIRD } })).status, 302);
      const evs = (await events()).filter((e) => e.copyId === copyIds[0]);
      assert.deepEqual(evs.map((e) => [e.type, e.isFirst]), [['open', 1], ['click', 1], ['click', 0]]);
      assert.equal(JSON.parse(evs[0].data!).implied, true);
      assert.equal(evs[1].url, url);
      assert.equal(evs[1].linkIndex, 0);
      // A later pixel load is not a first open any more.
      const t = signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      assertGif(await request(port, `/o/${t}.gif`, { headers: { 'user-agent': THUNDERBIRD } }));
      await trackingSettled(s.server.ctx);
      const roll = await store.db.kysely.selectFrom('rollupsHourly').selectAll().where('accountId', '=', accountId).executeTakeFirstOrThrow();
      assert.deepEqual([roll.opens, roll.uniqueOpens, roll.humanOpens, roll.clicks, roll.uniqueClicks], [2, 1, 2, 2, 1]);
    });

    test('invalid clicks get a plain 404 that never reflects the input, and only http(s) is ever redirected', async () => {
      const { copyIds } = await seedCopies(s.server.ctx.store, 1);
      const before = (await events()).length;
      const probe = '<script>alert(1)</script>';
      const r = await request(port, `/c/${encodeURIComponent(probe)}`);
      assert.equal(r.status, 404);
      assert.equal(r.headers.location, undefined);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.ok(!r.body.toString().includes('script'));
      for (const url of ['javascript:alert(1)', '//evil.test/', '\\\\evil.test', 'data:text/html,x', 'ftp://example.com/', 'https://example.com/\r\nSet-Cookie: a=b']) {
        const t = signer.sign({ kind: 'click', copyId: copyIds[0], linkIndex: 1, url }, HOST);
        const x = await request(port, `/c/${t}`);
        assert.equal(x.status, 404, url);
        assert.equal(x.headers.location, undefined);
      }
      // An open token is not a click token, and vice versa.
      const open = signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      assert.equal((await request(port, `/c/${open}`)).status, 404);
      assert.equal((await events()).length, before);
    });

    test('the client address comes from a trusted proxy\'s X-Forwarded-For, and the domain\'s IP truncation applies before storing', async () => {
      const store = s.server.ctx.store;
      const acc = await seedCopies(store, 0);
      const domainId = await seedDomain(store, acc.accountId, { ipTruncation: 1 });
      const { copyIds } = await seedCopies(store, 1, { accountId: acc.accountId, domainId });
      const t = signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      // The test client (127.0.0.1) is a trusted proxy here; X-Forwarded-Host never picks the tracking host.
      assertGif(await request(port, `/o/${t}.gif`, { headers: { 'x-forwarded-for': '203.0.113.5, 198.51.100.77', 'x-forwarded-host': 'other.test' } }));
      const [ev] = (await events()).filter((e) => e.copyId === copyIds[0]);
      assert.equal(ev.ip, '198.51.100.0');
      assert.equal(ev.domainId, domainId);
      const roll = await store.db.kysely.selectFrom('rollupsHourly').selectAll().where('domainId', '=', domainId).execute();
      assert.equal(roll[0].opens, 1);
    });

    test('when the store fails the pixel still answers; the hit is kept (journal) or counted as lost', async () => {
      const store = s.server.ctx.store;
      const { copyIds } = await seedCopies(store, 1);
      const t = signer.sign({ kind: 'open', copyId: copyIds[0] }, HOST);
      const c = signer.sign({ kind: 'click', copyId: copyIds[0], linkIndex: 0, url: 'https://example.com/x' }, HOST);
      const ddl = dialect === 'sqlite' ? (await sql<{ sql: string }>`select sql from sqlite_master where name = 'tracking_firsts'`.execute(store.db.kysely)).rows[0].sql : '';
      const lostBefore = await metric(s, 'mailbeacon_tracking_events_lost_total');
      await sql`drop table tracking_firsts`.execute(store.db.kysely);
      assertGif(await request(port, `/o/${t}.gif`));
      const r = await request(port, `/c/${c}`);
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, 'https://example.com/x');
      if (dialect === 'postgres') {
        // Written straight to the store: the failed transaction loses both, and says so.
        assert.equal(await metric(s, 'mailbeacon_tracking_events_lost_total') - lostBefore, 2);
        return;
      }
      // SQLite: both hits are in the event journal; ingesting them fails (and is retried) until the store works.
      await until(async () => await metricNow(s, 'mailbeacon_tracking_journal_ingest_errors_total') > 0);
      assert.ok(await metricNow(s, 'mailbeacon_tracking_journal_lag_events') >= 2, 'the hits wait in the journal');
      await sql.raw(ddl).execute(store.db.kysely);
      const evs = (await events()).filter((e) => e.copyId === copyIds[0]);
      assert.deepEqual(evs.map((e) => [e.type, e.isFirst]), [['open', 1], ['click', 1]]);
      assert.equal(await metric(s, 'mailbeacon_tracking_events_lost_total'), lostBefore, 'nothing lost');
      assert.equal(await metric(s, 'mailbeacon_tracking_journal_lag_events'), 0);
    });
  });
}
