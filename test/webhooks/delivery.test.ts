// Webhooks end to end: a real server, a real HTTP receiver on loopback, events inserted through the store,
// and a clock the test advances to walk the retry schedule.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { insertEvents } from '../helpers/events.ts';
import { startReceiver, waitFor, sleep, type Receiver } from './receiver.ts';
import { extractVerifySnippet } from './snippet.ts';
import { DIALECTS } from '../helpers/dialects.ts';
import { RETRY_DELAYS_MS } from '../../src/webhooks/schedule.ts';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

for (const dialect of DIALECTS) {
  describe(`webhook delivery (${dialect})`, () => {
    const clock = { t: T0, now() { return this.t; } };
    let s: TestServer;
    let rx: Receiver;
    let acc: { accountId: string; apiKey: string };
    let verify: (secret: string, headers: Record<string, string | string[] | undefined>, body: string, nowSeconds?: number) => boolean;

    const api = async (method: string, path: string, body?: unknown, key = acc.apiKey) => {
      const r = await fetch(`${s.baseUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    };
    const deliveries = async (webhookId: string) => (await api('GET', `/webhooks/${webhookId}/deliveries`)).body.data;
    // The receiver sees a request before the dispatcher records its outcome; move the clock only after that.
    const recorded = (webhookId: string, n: number) => waitFor(async () => (await deliveries(webhookId))[0]?.attemptLog.length >= n, `attempt ${n} recorded`);

    before(async () => {
      s = await startTestServer({ dialect, clock, env: { MAILBEACON_WEBHOOK_ALLOW_PRIVATE: 'true', MAILBEACON_WEBHOOK_POLL_INTERVAL: '30', MAILBEACON_WEBHOOK_TIMEOUT: '3' } });
      acc = await s.account();
      rx = await startReceiver();
      verify = await extractVerifySnippet();
    });
    after(async () => {
      await rx.close();
      await s.stop();
    });

    test('an event reaches the receiver signed; the documented snippet verifies it; other types and accounts are not sent', async () => {
      rx.received.length = 0;
      rx.respond = () => 200;
      const created = await api('POST', '/webhooks', { url: rx.url, events: ['open', 'click'] });
      assert.equal(created.status, 201);
      assert.match(created.body.secret, /^whsec_/);
      const other = await s.account();
      await insertEvents(s.server.ctx.store, [
        { accountId: acc.accountId, type: 'delivered', recipient: 'a@example.test' },
        { accountId: other.accountId, type: 'open', recipient: 'other@example.test' },
        { accountId: acc.accountId, type: 'open', recipient: 'a@example.test', classification: 'human', clientName: 'Thunderbird', clientVersion: '115', data: '{"proxy":false}' },
      ], clock.now());
      const r = await waitFor(() => rx.received[0], 'the open delivery');
      await sleep(150);
      assert.equal(rx.received.length, 1, 'only the subscribed type of this account');
      const body = JSON.parse(r.body);
      assert.deepEqual(Object.keys(body), ['id', 'type', 'createdAt', 'data']);
      assert.equal(body.type, 'open');
      assert.equal(body.createdAt, new Date(clock.now()).toISOString());
      assert.equal(body.data.recipient, 'a@example.test');
      assert.deepEqual(body.data.client, { name: 'Thunderbird', version: '115' });
      assert.deepEqual(body.data.data, { proxy: false });
      assert.equal(r.headers['x-mailbeacon-id'], body.id);
      assert.equal(r.headers['x-mailbeacon-timestamp'], String(Math.floor(clock.now() / 1000)));
      assert.equal(r.headers['content-type'], 'application/json');
      const nowSec = Math.floor(clock.now() / 1000);
      assert.equal(verify(created.body.secret, r.headers, r.body, nowSec), true);
      assert.equal(verify(created.body.secret, r.headers, r.body.replace('a@example', 'b@example'), nowSec), false, 'a changed body fails');
      assert.equal(verify(`${created.body.secret}x`, r.headers, r.body, nowSec), false, 'another secret fails');
      assert.equal(verify(created.body.secret, r.headers, r.body, nowSec + 3600), false, 'an old timestamp fails');
      const log = await waitFor(async () => (await deliveries(created.body.id)).find((d: any) => d.status === 'succeeded'), 'succeeded in the log');
      assert.equal(log.attempts, 1);
      assert.equal(log.attemptLog[0].statusCode, 200);
      assert.equal(log.attemptLog[0].outcome, 'success');
      // The list never shows the secret.
      assert.ok(!JSON.stringify((await api('GET', '/webhooks')).body).includes(created.body.secret));
      await api('DELETE', `/webhooks/${created.body.id}`);
    });

    test('a receiver failing 3 times gets retries on the schedule (now, +30 s, +2 min) and then succeeds', async () => {
      rx.received.length = 0;
      rx.respond = (_r, n) => (n <= 3 ? 503 : 200);
      const w = (await api('POST', '/webhooks', { url: rx.url, events: ['click'] })).body;
      const start = clock.now();
      await insertEvents(s.server.ctx.store, [{ accountId: acc.accountId, type: 'click', url: 'https://example.test/x', linkIndex: 0 }], start);
      // Attempt 1 fails, the retry right after it fails too.
      await waitFor(() => rx.received.length >= 2, 'first attempt and immediate retry');
      await recorded(w.id, 2);
      await sleep(200);
      assert.equal(rx.received.length, 2, 'nothing before 30 s');
      clock.t = start + RETRY_DELAYS_MS[1] - 1000;
      await sleep(200);
      assert.equal(rx.received.length, 2, 'still nothing at 29 s');
      clock.t = start + RETRY_DELAYS_MS[1];
      await waitFor(() => rx.received.length >= 3, 'the 30 s retry');
      await recorded(w.id, 3);
      const third = clock.t;
      clock.t = third + RETRY_DELAYS_MS[2] - 1000;
      await sleep(200);
      assert.equal(rx.received.length, 3, 'nothing before 2 min');
      clock.t = third + RETRY_DELAYS_MS[2];
      await waitFor(() => rx.received.length >= 4, 'the 2 min retry');
      const ids = new Set(rx.received.map((r) => r.headers['x-mailbeacon-id']));
      assert.equal(ids.size, 1, 'every retry carries the same event id');
      assert.equal(new Set(rx.received.map((r) => r.body)).size, 1, 'and the same body');
      const d = await waitFor(async () => (await deliveries(w.id)).find((x: any) => x.status === 'succeeded'), 'success recorded');
      assert.equal(d.attempts, 4);
      assert.deepEqual(d.attemptLog.map((a: any) => a.outcome), ['retry', 'retry', 'retry', 'success']);
      assert.deepEqual(d.attemptLog.map((a: any) => Date.parse(a.at) - start), [0, 0, 30_000, 150_000]);
      assert.deepEqual(d.attemptLog.map((a: any) => a.statusCode), [503, 503, 503, 200]);
      await api('DELETE', `/webhooks/${w.id}`);
    });

    test('a receiver that always fails is dead-lettered after the last retry; replay sends it again', async () => {
      rx.received.length = 0;
      rx.respond = () => 500;
      const w = (await api('POST', '/webhooks', { url: rx.url, events: ['bounced'] })).body;
      await insertEvents(s.server.ctx.store, [{ accountId: acc.accountId, type: 'bounced', reason: '550 no such user' }], clock.now());
      for (let i = 0; i <= RETRY_DELAYS_MS.length; i++) {
        await waitFor(() => rx.received.length >= i + 1, `attempt ${i + 1}`);
        await recorded(w.id, i + 1);
        if (i < RETRY_DELAYS_MS.length) clock.t += RETRY_DELAYS_MS[i];
      }
      const dead = await waitFor(async () => (await deliveries(w.id)).find((x: any) => x.status === 'dead'), 'dead-lettered');
      assert.equal(dead.attempts, RETRY_DELAYS_MS.length + 1);
      assert.equal(dead.attemptLog.at(-1).outcome, 'dead');
      clock.t += 86_400_000;
      await sleep(200);
      assert.equal(rx.received.length, RETRY_DELAYS_MS.length + 1, 'no attempt after dead-lettering');
      // Replay: the receiver is fixed now.
      rx.respond = () => 204;
      const other = await s.account();
      assert.equal((await api('POST', `/webhooks/${w.id}/deliveries/${dead.id}/replay`, undefined, other.apiKey)).status, 404, 'another account gets 404');
      const rep = await api('POST', `/webhooks/${w.id}/deliveries/${dead.id}/replay`);
      assert.equal(rep.status, 202);
      assert.equal(rep.body.replayOf, dead.id);
      await waitFor(() => rx.received.length === RETRY_DELAYS_MS.length + 2, 'the replay');
      const last = rx.received.at(-1)!;
      assert.equal(last.headers['x-mailbeacon-id'], dead.eventId, 'a replay keeps the event id (receivers dedupe on it)');
      assert.equal(last.body, rx.received[0].body);
      const done = await waitFor(async () => (await deliveries(w.id)).find((x: any) => x.id === rep.body.deliveryId && x.status === 'succeeded'), 'replay succeeded');
      assert.equal(done.replayOf, dead.id);
      await api('DELETE', `/webhooks/${w.id}`);
    });

    test('410 Gone disables the webhook: no retry, no new deliveries until it is enabled again', async () => {
      rx.received.length = 0;
      rx.respond = () => 410;
      const w = (await api('POST', '/webhooks', { url: rx.url, events: ['delivered'] })).body;
      await insertEvents(s.server.ctx.store, [{ accountId: acc.accountId, type: 'delivered' }], clock.now());
      await waitFor(async () => (await api('GET', `/webhooks/${w.id}`)).body.enabled === false, 'disabled');
      const got = (await api('GET', `/webhooks/${w.id}`)).body;
      assert.match(got.disabledReason, /410/);
      assert.equal(rx.received.length, 1, 'no retry after 410');
      const [d] = await deliveries(w.id);
      assert.equal(d.status, 'gone');
      rx.respond = () => 200;
      await insertEvents(s.server.ctx.store, [{ accountId: acc.accountId, type: 'delivered', recipient: 'later@example.test' }], clock.now());
      await sleep(200);
      assert.equal(rx.received.length, 1, 'nothing sent while disabled');
      const test2 = await api('POST', `/webhooks/${w.id}/test`);
      assert.equal(test2.status, 202);
      assert.equal((await api('PATCH', `/webhooks/${w.id}`, { enabled: true })).body.enabled, true);
      await waitFor(() => rx.received.length >= 2, 'the test event after enabling');
      await sleep(150);
      assert.equal(rx.received.length, 2);
      assert.equal(JSON.parse(rx.received[1].body).type, 'test', 'events from while it was disabled were not queued');
      await api('DELETE', `/webhooks/${w.id}`);
    });

    test('a secret that no longer decrypts is a recorded failed attempt, not a stuck delivery', async () => {
      rx.received.length = 0;
      const w = (await api('POST', '/webhooks', { url: rx.url, events: ['open'] })).body;
      await s.server.ctx.store.db.kysely.updateTable('webhooks').set({ secretEnc: 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA' }).where('id', '=', w.id).execute();
      await api('POST', `/webhooks/${w.id}/test`);
      const d = await waitFor(async () => (await deliveries(w.id))[0]?.attemptLog[0], 'the failed attempt');
      assert.match(d.error, /decrypt/);
      assert.equal(d.outcome, 'retry');
      assert.equal(rx.received.length, 0, 'nothing unsigned is sent');
      await api('DELETE', `/webhooks/${w.id}`);
    });

    test('the test event arrives signed with type "test"', async () => {
      rx.received.length = 0;
      rx.respond = () => 200;
      const w = (await api('POST', '/webhooks', { url: rx.url, events: ['open'] })).body;
      const t = await api('POST', `/webhooks/${w.id}/test`);
      assert.equal(t.status, 202);
      const r = await waitFor(() => rx.received[0], 'test event');
      const body = JSON.parse(r.body);
      assert.equal(body.type, 'test');
      assert.equal(body.id, t.body.eventId);
      assert.equal(body.data.webhookId, w.id);
      assert.equal(verify(w.secret, r.headers, r.body, Math.floor(clock.now() / 1000)), true);
      await api('DELETE', `/webhooks/${w.id}`);
    });
  });
}
