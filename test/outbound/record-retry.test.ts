// A delivery whose result cannot be recorded (the store is briefly unreachable) is recorded once the store
// answers again, not left 'delivering' until its lease (default 600 s) runs out. With the outbox relay the
// record IS the delivery, so without the retry the message would sit undelivered for ten minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/test-server.ts';
import { addDomain, waitFor } from './helpers.ts';

test('a failed result record is retried until the store takes it; the copy is delivered once', async () => {
  const ts = await startTestServer({ roles: ['http', 'worker'], env: { MAILBEACON_RELAY: 'outbox', MAILBEACON_DELIVERY_THREAD: 'false' } });
  try {
    const acc = await ts.account();
    await addDomain(ts.server.ctx.store, acc.accountId, 'retry.example.test', { openTracking: 0, clickTracking: 0 });
    // The store refuses the first two result records, as a PostgreSQL restart or a full disk would.
    const repo = ts.server.ctx.store.messages;
    const real = repo.completeBatch.bind(repo);
    let refused = 0;
    repo.completeBatch = async (results, nodeId) => {
      if (refused < 2) {
        refused++;
        throw new Error('store unreachable (injected)');
      }
      return real(results, nodeId);
    };
    const r = await fetch(`${ts.baseUrl}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acc.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'news@retry.example.test', to: ['reader@example.net'], subject: 'retry', text: 'hello' }),
    });
    assert.equal(r.status, 202, await r.clone().text());
    const { id } = (await r.json()) as { id: string };
    const copy = await waitFor(async () => {
      const rows = await ts.server.ctx.store.db.kysely.selectFrom('messageCopies').selectAll().where('messageId', '=', id).execute();
      return rows[0]?.status === 'delivered' ? rows[0] : undefined;
    }, 10_000, 'the copy delivered');
    assert.equal(refused, 2, 'the first two records were refused');
    assert.equal(copy.attempts, 1, 'recorded once, as one attempt');
    const outbox = await ts.server.ctx.store.db.kysely.selectFrom('outbox').select('id').where('copyId', '=', copy.id).execute();
    assert.equal(outbox.length, 1, 'one outbox entry');
  } finally {
    await ts.stop();
  }
});
