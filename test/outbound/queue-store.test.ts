// The durable queue on both dialects: accept in one transaction, claim with a lease (no double claim,
// expired leases reclaimed), record results with events, rollups, attempts and outbox rows.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestStore } from '../helpers/dialects.ts';
import { createAccount } from '../../src/accounts/account-service.ts';
import { newId } from '../../src/domain/ids.ts';
import { HOUR_MS, type AcceptedMessage, type DeliveryResult } from '../../src/store/messages-repo.ts';
import type { MessageCopiesTable } from '../../src/store/schema.ts';

function accepted(accountId: string, now: number, recipients: string[], subject = 'Hello'): AcceptedMessage {
  const id = newId('msg_', now);
  return {
    message: { id, accountId, domainId: null, messageIdHeader: `<${id}@example.test>`, fromAddress: 'a@example.test', mailFrom: 'a@example.test', subject, source: 'api', size: 10, trackOpens: null, trackClicks: null, raw: Buffer.from('Subject: x\r\n\r\nhi\r\n'), createdAt: now },
    copies: recipients.map((r) => ({ id: newId('cpy_', now), messageId: id, accountId, domainId: null, recipient: r, status: 'queued', attempts: 0, nextAttemptAt: now, lockedBy: null, lockedUntil: null, lastError: null, trackingBase: null, deliveredAt: null, createdAt: now })),
  };
}

function result(copy: MessageCopiesTable, status: DeliveryResult['status'], at: number, nodeId: string): DeliveryResult {
  return {
    copy, status, at, nextAttemptAt: status === 'deferred' ? at + 60_000 : copy.nextAttemptAt, lastError: status === 'delivered' ? null : '451 try later', trackingBase: null, data: { code: status === 'delivered' ? 250 : 451 },
    attempt: { copyId: copy.id, messageId: copy.messageId, accountId: copy.accountId, attempt: copy.attempts + 1, startedAt: at, durationMs: 3, result: status, smtpCode: 250, response: 'ok', relay: 'outbox', nodeId },
    outbox: status === 'delivered' ? { id: newId('obx_', at), accountId: copy.accountId, messageId: copy.messageId, copyId: copy.id, mailFrom: 'a@example.test', recipient: copy.recipient, subject: 'Hello', size: 3, raw: Buffer.from('abc'), createdAt: at } : undefined,
  };
}

for (const dialect of DIALECTS) {
  describe(`outbound queue store on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof createTestStore>>;
    let accountId: string;
    before(async () => {
      store = await createTestStore(dialect);
      accountId = (await createAccount(store, { email: `q-${dialect}@example.test`, password: 'password 123' })).accountId;
    });
    after(async () => { await store.cleanup(); });

    test('accept, claim once, lease expiry, record results with events, rollups and outbox', async () => {
      const t0 = 1_800_000_000_000;
      await store.messages.acceptBatch([accepted(accountId, t0, ['x@example.net', 'y@example.net']), accepted(accountId, t0 + 1, ['z@example.net'], 'Other')]);
      const ev = await store.db.kysely.selectFrom('events').selectAll().where('accountId', '=', accountId).where('type', '=', 'accepted').execute();
      assert.equal(ev.length, 3, 'one accepted event per copy');

      // Not due yet before t0.
      assert.deepEqual(await store.messages.claimDue('node-a', t0 - 1, 10, 1000), []);
      const a = await store.messages.claimDue('node-a', t0 + 5, 2, 1000);
      assert.equal(a.length, 2);
      const b = await store.messages.claimDue('node-b', t0 + 5, 10, 100_000);
      assert.equal(b.length, 1, 'node b gets only what a did not claim');
      assert.ok(!a.some((c) => c.id === b[0].id));
      assert.deepEqual(await store.messages.claimDue('node-b', t0 + 10, 10, 1000), []);
      // a dies; after its lease b may take a's copies again.
      const again = await store.messages.claimDue('node-b', t0 + 5 + 1001, 10, 1000);
      assert.deepEqual(again.map((c) => c.id).sort(), a.map((c) => c.id).sort());

      // a's late result is ignored (it lost the lease); b's results count.
      await store.messages.completeBatch([result(a[0], 'delivered', t0 + 2000, 'node-a')], 'node-a');
      const at = t0 + 3000;
      await store.messages.completeBatch([result(again[0], 'delivered', at, 'node-b'), result(again[1], 'deferred', at, 'node-b'), result(b[0], 'delivered', at, 'node-b')], 'node-b');
      const copies = await store.messages.copiesOf(accountId, [a[0].messageId, b[0].messageId]);
      const byId = new Map(copies.map((c) => [c.id, c]));
      assert.equal(byId.get(again[0].id)!.status, 'delivered');
      assert.equal(byId.get(again[0].id)!.attempts, 1);
      assert.equal(byId.get(again[0].id)!.deliveredAt, at);
      assert.equal(byId.get(again[1].id)!.status, 'deferred');
      assert.equal(byId.get(again[1].id)!.nextAttemptAt, at + 60_000);
      assert.equal(byId.get(again[1].id)!.lockedBy, null);
      const roll = await store.db.kysely.selectFrom('rollupsHourly').selectAll().where('accountId', '=', accountId).execute();
      assert.deepEqual(roll.map((r) => [r.domainId, r.hour, r.delivered]), [['', Math.floor(at / HOUR_MS) * HOUR_MS, 2]]);
      const types = (await store.db.kysely.selectFrom('events').select('type').where('accountId', '=', accountId).where('type', '!=', 'accepted').execute()).map((e) => e.type).sort();
      assert.deepEqual(types, ['deferred', 'delivered', 'delivered']);
      const attempts = await store.messages.attemptsOf(accountId, again[0].messageId);
      assert.ok(attempts.every((x) => x.nodeId === 'node-b'));
      const ob = await store.messages.listOutbox(accountId, { limit: 10 });
      assert.equal(ob.length, 2);
      const raw = await store.messages.outboxEntry(accountId, ob[0].id);
      assert.equal(Buffer.from(raw!.raw).toString(), 'abc');
      // The deferred copy is due again only at its next attempt time.
      assert.deepEqual(await store.messages.claimDue('node-b', at + 59_000, 10, 1000), []);
      assert.equal((await store.messages.claimDue('node-b', at + 60_000, 10, 1000)).length, 1);
    });

    test('listing filters by recipient, subject, status and pages by cursor; other accounts see nothing', async () => {
      const other = (await createAccount(store, { email: `q2-${dialect}@example.test`, password: 'password 123' })).accountId;
      const t = 1_800_000_100_000;
      const batch = [0, 1, 2, 3, 4].map((i) => accepted(accountId, t + i, [`r${i}@example.net`], i % 2 ? 'Weekly News' : 'Receipt 100%'));
      await store.messages.acceptBatch(batch);
      const p1 = await store.messages.list(accountId, { since: t, limit: 2 });
      assert.deepEqual(p1.map((m) => m.id), [batch[4].message.id, batch[3].message.id]);
      const p2 = await store.messages.list(accountId, { since: t, limit: 10, cursor: p1[1].id });
      assert.deepEqual(p2.map((m) => m.id), [batch[2].message.id, batch[1].message.id, batch[0].message.id]);
      assert.equal((await store.messages.list(accountId, { since: t, subject: 'weekly', limit: 10 })).length, 2);
      assert.equal((await store.messages.list(accountId, { since: t, subject: '100%', limit: 10 })).length, 3);
      assert.deepEqual((await store.messages.list(accountId, { recipient: 'R3@example.net', limit: 10 })).map((m) => m.id), [batch[3].message.id]);
      assert.equal((await store.messages.list(accountId, { since: t, status: 'queued', limit: 10 })).length, 5);
      assert.equal((await store.messages.list(accountId, { since: t, status: 'bounced', limit: 10 })).length, 0);
      assert.equal((await store.messages.list(other, { limit: 10 })).length, 0);
      assert.equal(await store.messages.get(other, batch[0].message.id), undefined);
    });
  });
}
