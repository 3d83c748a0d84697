// One attempt over real HTTP on loopback: the address is checked after resolution and the connection goes to
// that address (DNS rebinding), redirects are not followed, the timeout holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sendWebhook, type SendInput } from '../../src/webhooks/sender.ts';
import { verifySignature } from '../../src/webhooks/signing.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let rx: Receiver;
let other: Receiver;
before(async () => {
  rx = await startReceiver();
  other = await startReceiver();
});
after(async () => {
  await rx.close();
  await other.close();
});

const input = (url: string): SendInput => ({ url, secret: 'whsec_test', body: '{"id":"evt_1","type":"open","createdAt":"x","data":{}}', eventId: 'evt_1', deliveryId: 'whd_1', attempt: 1, timestamp: Math.floor(Date.now() / 1000) });

test('a host that resolves to a private address is refused at delivery time, nothing is sent', async () => {
  rx.received.length = 0;
  // The name looked public when the webhook was made; now it answers 127.0.0.1 (rebinding).
  const res = await sendWebhook(input(`http://hooks.rebind.test:${rx.port}/hook`), { timeoutMs: 2000, allowPrivate: false, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
  assert.equal(res.statusCode, undefined);
  assert.match(res.error!, /destination_refused/);
  assert.equal(rx.received.length, 0);
});

test('the connection goes to the resolved address that was checked, with the original Host header', async () => {
  rx.received.length = 0;
  rx.respond = () => 202;
  let lookups = 0;
  const res = await sendWebhook(input(`http://hooks.rebind.test:${rx.port}/hook?x=1`), { timeoutMs: 2000, allowPrivate: true, resolve: async () => { lookups++; return [{ address: '127.0.0.1', family: 4 }]; } });
  assert.equal(res.statusCode, 202);
  assert.equal(res.error, undefined);
  assert.equal(lookups, 1, 'resolved once');
  assert.equal(rx.received.length, 1);
  const r = rx.received[0];
  assert.equal(r.headers.host, `hooks.rebind.test:${rx.port}`);
  assert.equal(r.url, '/hook?x=1');
  assert.equal(r.method, 'POST');
  assert.equal(verifySignature('whsec_test', r.headers['x-mailbeacon-timestamp'] as string, r.body, r.headers['x-mailbeacon-signature'] as string, Math.floor(Date.now() / 1000)), true);
  assert.equal(r.headers['x-mailbeacon-delivery'], 'whd_1');
});

test('redirects are not followed: a 3xx is a failed attempt', async () => {
  rx.received.length = 0;
  other.received.length = 0;
  rx.respond = () => ({ status: 307, headers: { location: other.url } });
  const res = await sendWebhook(input(rx.url), { timeoutMs: 2000, allowPrivate: true });
  assert.equal(res.statusCode, 307);
  assert.match(res.error!, /HTTP 307/);
  assert.equal(other.received.length, 0);
});

test('a receiver that does not answer in time is a failed attempt after the timeout', async () => {
  rx.respond = () => 'hang';
  const t0 = Date.now();
  const res = await sendWebhook(input(rx.url), { timeoutMs: 300, allowPrivate: true });
  assert.equal(res.statusCode, undefined);
  assert.match(res.error!, /timed out/);
  assert.ok(Date.now() - t0 < 2000);
  rx.respond = () => 200;
});

test('connection refused is a failed attempt with the reason', async () => {
  const res = await sendWebhook(input('http://127.0.0.1:1/x'), { timeoutMs: 2000, allowPrivate: true });
  assert.match(res.error!, /ECONNREFUSED/);
});
