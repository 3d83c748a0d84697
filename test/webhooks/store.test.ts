// The delivery queue in the store, on both dialects: fan-out moves the cursor and creates deliveries in one
// transaction; concurrent claims (two stores on one database) never hand out the same delivery; a lease that
// ran out makes the delivery claimable again, and a node that lost its lease cannot record over it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestStore } from '../helpers/dialects.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createAccount } from '../../src/accounts/account-service.ts';
import { insertEvents } from '../helpers/events.ts';
import { newDelivery, planDeliveries } from '../../src/webhooks/fanout.ts';

for (const dialect of DIALECTS) {
  describe(`webhook queue (${dialect})`, () => {
    let st: Awaited<ReturnType<typeof createTestStore>>;
    let other: Store;
    let accountId: string;
    const now = 1_800_000_000_000;

    before(async () => {
      st = await createTestStore(dialect);
      other = dialect === 'postgres' ? await openStore(st.url) : st;
      accountId = (await createAccount(st, { email: `q-${dialect}@example.test`, password: 'correct horse battery' })).accountId;
    });
    after(async () => {
      if (other !== st) await other.close();
      await st.cleanup();
    });

    const hook = (id: string, events = '["open"]', fromEventId = 0) => st.webhooks.insert({ id, accountId, url: 'http://x.test/', events, domainId: null, secretEnc: 'v1.x.y.z', enabled: 1, disabledReason: null, fromEventId, createdAt: now, updatedAt: now });

    test('fan-out: deliveries and the cursor move together; nothing twice, nothing skipped', async () => {
      await hook('wh_a', '["open","click"]');
      await insertEvents(st, [{ accountId, type: 'open' }, { accountId, type: 'delivered' }, { accountId, type: 'click' }]);
      const plan = (events: any[], webhooks: any[], cursor: number) => ({ deliveries: planDeliveries(events, webhooks, now), lastId: events.length ? events[events.length - 1].id : cursor });
      // Two nodes race for the cursor.
      const [r1, r2] = await Promise.all([st.webhooks.fanOut(2, plan), other.webhooks.fanOut(2, plan)]);
      const r3 = await st.webhooks.fanOut(2, plan);
      const total = [r1, r2, r3].reduce((n, r) => n + (r?.deliveries ?? 0), 0);
      assert.equal(total, 2, 'open and click, once each');
      const rows = await st.webhooks.listDeliveries(accountId, 'wh_a', { limit: 10 });
      assert.deepEqual(rows.map((d) => d.type).sort(), ['click', 'open']);
      assert.equal(await st.webhooks.cursor(), (await st.eventsRead.maxId()));
      // A failing plan rolls the whole step back.
      await insertEvents(st, [{ accountId, type: 'open' }]);
      const before = await st.webhooks.cursor();
      await assert.rejects(st.webhooks.fanOut(10, (events, webhooks) => ({ deliveries: [...planDeliveries(events, webhooks, now), { ...planDeliveries(events, webhooks, now)[0], webhookId: 'wh_missing' }], lastId: events[0].id })));
      assert.equal(await st.webhooks.cursor(), before);
      assert.equal((await st.webhooks.listDeliveries(accountId, 'wh_a', { limit: 10 })).length, 2);
    });

    test('concurrent claims never return the same delivery; expired leases come back; a lost lease cannot record', async () => {
      await hook('wh_b');
      const w = { id: 'wh_b', accountId };
      const ds = Array.from({ length: 40 }, (_, i) => newDelivery(w, `evt_q${i}`, 'open', '{}', now - 1000));
      await st.webhooks.insertDeliveries(ds);
      const claims = await Promise.all([
        st.webhooks.claimDue('node-1', now, now + 15_000, 15), other.webhooks.claimDue('node-2', now, now + 15_000, 15),
        st.webhooks.claimDue('node-3', now, now + 15_000, 15), other.webhooks.claimDue('node-4', now, now + 15_000, 15),
      ]);
      const ids = claims.flat().map((d) => d.id).filter((id) => id.startsWith('whd_') && ds.some((x) => x.id === id));
      assert.equal(new Set(ids).size, ids.length, 'no delivery claimed twice');
      const all = claims.flat().filter((d) => d.webhookId === 'wh_b' || d.webhookId === 'wh_a');
      assert.ok(all.length >= 40, `all due deliveries claimed (${all.length})`);
      assert.deepEqual(await st.webhooks.claimDue('node-5', now + 1000, now + 16_000, 100), [], 'leased rows are not handed out again');
      // A node that got rows died: after its lease, node-5 may take them.
      const dead = claims.findIndex((c) => c.length > 0);
      const deadNode = `node-${dead + 1}`;
      const mine = claims[dead];
      const later = await st.webhooks.claimDue('node-5', now + 15_001, now + 30_000, 100);
      assert.ok(mine.every((d) => later.some((l) => l.id === d.id)));
      // The dead node comes back and tries to record: refused, node-5's lease stands.
      const rec = await st.webhooks.finishAttempt(deadNode, mine[0].id, { status: 'succeeded', attempts: 1 }, { deliveryId: mine[0].id, attempt: 1, nodeId: deadNode, startedAt: now, durationMs: 1, statusCode: 200, error: null, outcome: 'success' });
      assert.equal(rec, false);
      assert.equal((await st.webhooks.getDeliveryById(mine[0].id))!.lockedBy, 'node-5');
      assert.equal(await st.webhooks.finishAttempt('node-5', mine[0].id, { status: 'succeeded', attempts: 1 }, { deliveryId: mine[0].id, attempt: 1, nodeId: 'node-5', startedAt: now, durationMs: 1, statusCode: 200, error: null, outcome: 'success' }), true);
      assert.equal((await st.webhooks.attemptsOf([mine[0].id])).length, 1);
      // Deliveries of a disabled webhook are not claimed.
      await st.webhooks.disable('wh_b', 'test', now);
      await st.webhooks.insertDeliveries([newDelivery(w, 'evt_z', 'open', '{}', now)]);
      assert.ok((await st.webhooks.claimDue('node-6', now + 60_000, now + 70_000, 100)).every((d) => d.webhookId !== 'wh_b'));
    });
  });
}
