// Two nodes on one PostgreSQL run the dispatcher at once: every event reaches the receiver exactly once
// (nothing crashed, so at-least-once has no reason to repeat), and no delivery was attempted twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/test-server.ts';
import { createContext } from '../../src/server/create-context.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.ts';
import { insertEvents } from '../helpers/events.ts';
import { startReceiver, waitFor } from './receiver.ts';

test('two dispatchers on one PostgreSQL deliver each event once', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ dialect: 'postgres', env: { MAILBEACON_WEBHOOK_ALLOW_PRIVATE: 'true', MAILBEACON_WEBHOOK_POLL_INTERVAL: '20', MAILBEACON_WEBHOOK_CONCURRENCY: '4' } });
  // Every 7th event fails its first attempt (the immediate retry then succeeds), so retries race too.
  const failedOnce = new Set<string>();
  const rx = await startReceiver((r) => {
    const id = r.headers['x-mailbeacon-id'] as string;
    if (Number(id.slice(4)) % 7 === 0 && !failedOnce.has(id)) {
      failedOnce.add(id);
      return 503;
    }
    return 200;
  });
  const ctx2 = await createContext(s.server.ctx.config, { log: createLogger('silent'), migrate: false });
  const second = new WebhookDispatcher(ctx2);
  await second.start();
  try {
    const acc = await s.account();
    const res = await fetch(`${s.baseUrl}/api/v1/webhooks`, { method: 'POST', headers: { authorization: `Bearer ${acc.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: rx.url, events: ['open', 'click'] }) });
    assert.equal(res.status, 201);
    const n = 60;
    for (let i = 0; i < n; i += 10) {
      await insertEvents(s.server.ctx.store, Array.from({ length: 10 }, (_, j) => ({ accountId: acc.accountId, type: (i + j) % 2 ? 'open' : 'click', recipient: `r${i + j}@example.org` })));
    }
    await waitFor(() => new Set(rx.received.map((r) => r.headers['x-mailbeacon-id'])).size === n, 'every event delivered', 40_000);
    await waitFor(async () => (await s.server.ctx.store.webhooks.countByStatus()).succeeded === n, 'every success recorded', 10_000);
    const attempts = await s.server.ctx.store.db.kysely.selectFrom('webhookAttempts').select(['deliveryId', 'attempt', 'nodeId']).execute();
    const keys = attempts.map((a) => `${a.deliveryId}#${a.attempt}`);
    assert.equal(new Set(keys).size, keys.length, 'no attempt number recorded twice for a delivery');
    assert.equal(rx.received.length, attempts.length, 'every request the receiver saw is one recorded attempt');
    const nodes = new Set(attempts.map((a) => a.nodeId));
    assert.ok(nodes.size >= 1);
    const byStatus = await s.server.ctx.store.webhooks.countByStatus();
    assert.equal(byStatus.succeeded, n);
    assert.equal(rx.received.length, n + failedOnce.size, 'each event once, plus one retry per failed first attempt');
    assert.ok(failedOnce.size >= 8);
  } finally {
    await second.stop();
    await ctx2.store.close();
    await rx.close();
    await s.stop();
  }
});
