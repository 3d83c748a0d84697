// kill -9 in the middle of a delivery loses nothing: the real `mailbeacon serve` is killed while the receiver
// holds the request open, an event arrives while it is down, and after a restart both are delivered
// (the interrupted one again, after its lease runs out: at-least-once, same event id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnServe, freePort } from '../helpers/spawn-cli.ts';
import { openStore } from '../../src/store/store.ts';
import { createAccount } from '../../src/accounts/account-service.ts';
import { insertEvents } from '../helpers/events.ts';
import { startReceiver, waitFor } from './receiver.ts';

/** Resolves with the signal once the child is gone (also when it is gone already). */
function gone(child: ChildProcess): Promise<string | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((r) => child.once('exit', (code, signal) => r(signal ?? code)));
}

test('kill -9 during a delivery: after restart every event still arrives', { timeout: 90_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-crash-'));
  const rx = await startReceiver();
  const env = {
    MAILBEACON_DATABASE_URL: `sqlite:${path.join(dir, 'mb.db')}`,
    MAILBEACON_DATA_DIR: dir,
    MAILBEACON_HTTP_PORT: String(await freePort()),
    MAILBEACON_SMTP_PORT: String(await freePort()),
    MAILBEACON_ROLES: 'http,worker',
    MAILBEACON_SECRET: 'crash-test-secret-crash-test-secret-0123',
    MAILBEACON_LOG_LEVEL: 'warn',
    MAILBEACON_WEBHOOK_ALLOW_PRIVATE: 'true',
    MAILBEACON_WEBHOOK_TIMEOUT: '2',
    MAILBEACON_WEBHOOK_POLL_INTERVAL: '100',
  };
  const store = await openStore(env.MAILBEACON_DATABASE_URL);
  let srv = await spawnServe(env).catch((e) => { throw new Error(`first start: ${e.message}`); });
  try {
    const acc = await createAccount(store, { email: 'crash@example.test', password: 'correct horse battery' });
    const base = `http://127.0.0.1:${env.MAILBEACON_HTTP_PORT}/api/v1`;
    const auth = { authorization: `Bearer ${acc.apiKey}` };
    const w = await (await fetch(`${base}/webhooks`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ url: rx.url, events: ['open'] }) })).json();
    assert.ok(w.id, JSON.stringify(w));

    // The receiver holds the first request open and the server is killed while it waits.
    const child = srv.child;
    rx.respond = (_r, n) => (n === 1 ? 'hang' : 200);
    rx.onRequest = () => child.kill('SIGKILL');
    const [first] = await insertEvents(store, [{ accountId: acc.accountId, type: 'open', recipient: 'one@example.org' }]);
    await waitFor(() => rx.received.length >= 1, 'the first attempt', 20_000);
    assert.equal(await gone(child), 'SIGKILL');
    rx.onRequest = undefined;
    const [second] = await insertEvents(store, [{ accountId: acc.accountId, type: 'open', recipient: 'two@example.org' }]);

    srv = await spawnServe(env);
    const ids = () => rx.received.map((r) => r.headers['x-mailbeacon-id']);
    await waitFor(() => ids().includes(`evt_${second}`) && ids().filter((x) => x === `evt_${first}`).length >= 2, 'both events after the restart', 30_000);
    const again = rx.received.filter((r) => r.headers['x-mailbeacon-id'] === `evt_${first}`);
    assert.equal(again[0].body, again[1].body, 'the same body again: receivers dedupe on the id');
    const log = await waitFor(async () => {
      const d = (await (await fetch(`${base}/webhooks/${w.id}/deliveries`, { headers: auth })).json()).data;
      return d.length === 2 && d.every((x: any) => x.status === 'succeeded') && d;
    }, 'both recorded as succeeded', 10_000);
    assert.deepEqual(log.map((d: any) => d.eventId).sort(), [`evt_${first}`, `evt_${second}`].sort());
  } finally {
    srv.child.kill('SIGKILL');
    await gone(srv.child);
    await store.close();
    await rx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
