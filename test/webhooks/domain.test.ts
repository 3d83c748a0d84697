// Webhook domain logic with plain values: signing, secret sealing, the retry schedule, SSRF address rules,
// fan-out matching and the cursor's gap rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { newWebhookSecret, openSecret, sealSecret, signPayload, verifySignature } from '../../src/webhooks/signing.ts';
import { classifyResult, MAX_ATTEMPTS, nextAttemptAt, RETRY_DELAYS_MS } from '../../src/webhooks/schedule.ts';
import { isSpecialUseAddress, parseWebhookUrl, resolveDestination } from '../../src/webhooks/ssrf.ts';
import { contiguousPrefix, matches, planDeliveries } from '../../src/webhooks/fanout.ts';
import type { EventRow } from '../../src/events/public-event.ts';
import type { WebhooksTable } from '../../src/store/schema.ts';
import { AppError } from '../../src/domain/errors.ts';

test('signature = hex HMAC-SHA256 of `${timestamp}.${body}`; verification is strict', () => {
  const secret = newWebhookSecret();
  const body = '{"id":"evt_1","type":"open"}';
  const sig = signPayload(secret, 1700000000, body);
  assert.equal(sig, createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex'));
  assert.match(sig, /^[0-9a-f]{64}$/);
  assert.equal(verifySignature(secret, '1700000000', body, sig, 1700000010), true);
  assert.equal(verifySignature(secret, '1700000000', body + ' ', sig, 1700000010), false);
  assert.equal(verifySignature(secret, '1700000001', body, sig, 1700000010), false);
  assert.equal(verifySignature(secret, '1700000000', body, sig, 1700009999), false, 'stale');
  assert.equal(verifySignature(secret, '1700000000', body, sig.slice(2), 1700000010), false);
});

test('webhook secrets are stored sealed (AES-GCM) and open only with the same master secret', () => {
  const master = randomBytes(32);
  const secret = newWebhookSecret();
  const sealed = sealSecret(master, secret);
  assert.ok(!sealed.includes(secret.slice(6)));
  assert.notEqual(sealSecret(master, secret), sealed, 'random IV');
  assert.equal(openSecret(master, sealed), secret);
  assert.throws(() => openSecret(randomBytes(32), sealed));
  const parts = sealed.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  assert.throws(() => openSecret(master, parts.join('.')));
});

test('retry schedule: immediately, 30 s, 2 min, 10 min, 1 h, 4 h, 12 h, then dead-lettered', () => {
  assert.deepEqual([...RETRY_DELAYS_MS], [0, 30e3, 120e3, 600e3, 3600e3, 4 * 3600e3, 12 * 3600e3]);
  assert.equal(MAX_ATTEMPTS, 8);
  const now = 1_000_000;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((f) => nextAttemptAt(f, now)! - now), [...RETRY_DELAYS_MS]);
  assert.equal(nextAttemptAt(8, now), undefined);
  assert.deepEqual(classifyResult(200, 0, now), { outcome: 'success' });
  assert.deepEqual(classifyResult(299, 5, now), { outcome: 'success' });
  assert.deepEqual(classifyResult(410, 0, now), { outcome: 'gone' });
  assert.deepEqual(classifyResult(500, 0, now), { outcome: 'retry', nextAt: now });
  assert.deepEqual(classifyResult(301, 1, now), { outcome: 'retry', nextAt: now + 30e3 }, 'redirects are failures');
  assert.deepEqual(classifyResult(undefined, 6, now), { outcome: 'retry', nextAt: now + 12 * 3600e3 }, 'no answer retries');
  assert.deepEqual(classifyResult(404, 7, now), { outcome: 'dead' });
});

test('special-use addresses are refused, public ones allowed', () => {
  for (const ip of ['127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '192.0.2.5', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1',
    '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2001:db8::1', 'not-an-ip']) {
    assert.equal(isSpecialUseAddress(ip), true, ip);
  }
  for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001::200e']) {
    assert.equal(isSpecialUseAddress(ip), false, ip);
  }
});

test('webhook URLs: http(s) only, no credentials; resolution refuses any private answer unless allowed', async () => {
  assert.throws(() => parseWebhookUrl('ftp://example.com/x'), AppError);
  assert.throws(() => parseWebhookUrl('http://user:pw@example.com/'), AppError);
  assert.throws(() => parseWebhookUrl('not a url'), AppError);
  const resolve = async (h: string) => (h === 'mixed.test' ? [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.1', family: 4 }] : h === 'pub.test' ? [{ address: '93.184.216.34', family: 4 }] : []);
  assert.deepEqual(await resolveDestination(new URL('https://pub.test/h'), resolve, false), { address: '93.184.216.34', family: 4 });
  await assert.rejects(resolveDestination(new URL('https://mixed.test/h'), resolve, false), (e: AppError) => e.code === 'destination_refused');
  await assert.rejects(resolveDestination(new URL('http://[::1]:8080/h'), resolve, false), (e: AppError) => e.code === 'destination_refused');
  await assert.rejects(resolveDestination(new URL('http://nowhere.test/h'), resolve, false), (e: AppError) => e.code === 'unresolvable_host');
  assert.equal((await resolveDestination(new URL('http://127.0.0.1:9/h'), resolve, true)).address, '127.0.0.1');
});

const ev = (id: number, over: Partial<EventRow> = {}): EventRow => ({
  id, accountId: 'acc_a', domainId: 'dom_1', messageId: null, copyId: null, type: 'open', createdAt: 0, recipient: null, linkIndex: null, url: null, ip: null,
  userAgent: null, clientName: null, clientVersion: null, os: null, device: null, classification: null, reason: null, isFirst: 0, data: null, ...over,
});
const wh = (over: Partial<WebhooksTable> = {}): WebhooksTable => ({
  id: 'wh_1', accountId: 'acc_a', url: 'http://x', events: '["open","click"]', domainId: null, secretEnc: '', enabled: 1, disabledReason: null, fromEventId: 0, createdAt: 0, updatedAt: 0, ...over,
});

test('fan-out matches type, account, optional domain, and only events newer than the webhook', () => {
  assert.equal(matches(wh(), ev(1)), true);
  assert.equal(matches(wh(), ev(1, { type: 'delivered' })), false);
  assert.equal(matches(wh(), ev(1, { accountId: 'acc_b' })), false);
  assert.equal(matches(wh({ domainId: 'dom_1' }), ev(1)), true);
  assert.equal(matches(wh({ domainId: 'dom_2' }), ev(1)), false);
  assert.equal(matches(wh({ fromEventId: 5 }), ev(5)), false);
  assert.equal(matches(wh({ fromEventId: 5 }), ev(6)), true);
  assert.equal(matches(wh({ enabled: 0 }), ev(6)), false);
  const ds = planDeliveries([ev(1), ev(2, { type: 'click' }), ev(3, { type: 'bounced' })], [wh(), wh({ id: 'wh_2', events: '["click"]' })], 42);
  assert.deepEqual(ds.map((d) => [d.webhookId, d.eventId, d.status, d.nextAttemptAt]), [['wh_1', 'evt_1', 'pending', 42], ['wh_1', 'evt_2', 'pending', 42], ['wh_2', 'evt_2', 'pending', 42]]);
  assert.deepEqual(Object.keys(JSON.parse(ds[0].payload)), ['id', 'type', 'createdAt', 'data']);
});

test('the cursor stops before a gap in ids until it is older than the grace period', () => {
  const gaps = new Map<number, number>();
  assert.deepEqual(contiguousPrefix([ev(11), ev(12), ev(14)], 10, gaps, 1000, 5000).map((e) => e.id), [11, 12]);
  assert.deepEqual(contiguousPrefix([ev(14), ev(15)], 12, gaps, 3000, 5000).map((e) => e.id), [], 'still waiting for 13');
  assert.deepEqual(contiguousPrefix([ev(13), ev(14), ev(15)], 12, gaps, 3000, 5000).map((e) => e.id), [13, 14, 15], 'the late commit arrived');
  const g2 = new Map<number, number>();
  contiguousPrefix([ev(3)], 1, g2, 0, 5000);
  assert.deepEqual(contiguousPrefix([ev(3), ev(4)], 1, g2, 6000, 5000).map((e) => e.id), [3, 4], 'a rolled-back id is skipped after the grace');
});
