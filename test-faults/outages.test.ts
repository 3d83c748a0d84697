// Fault suite 3 and 4: the smarthost down for a while, then answering with smtp-sink's fault modes (-r: 4xx
// on RCPT, -Q: 421 and disconnect at DATA), then healthy: every message is deferred, retried on the
// schedule and delivered exactly once. Then a private PostgreSQL stopped and started under load: SMTP
// answers 4xx (never 250) and the API 503 while it is down, and the node recovers by itself.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodemailer from 'nodemailer';
import { createTestDatabase, type TestDatabase } from '../test/helpers/dialects.ts';
import { freePort } from '../test/helpers/spawn-cli.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { addDomain } from '../test/outbound/helpers.ts';
import { HOST, SECRET, createAccount, sinkCounts, sleep, smtpSource, startNode, startPrivatePg, startSmtpSink, stopNode, tmpDir, until, type Node, type PrivatePg, type SmtpSink } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('smarthost outage and fault modes', () => {
  let db: TestDatabase;
  let store: Store;
  let node: Node;

  test('down, then 4xx at RCPT, then 421 at DATA, then healthy: deferred, retried, delivered once', async (t) => {
    db = await createTestDatabase('postgres');
    cleanups.push(() => db.cleanup());
    const sinkPort = await freePort();
    const base = { MAILBEACON_DATABASE_URL: db.url, MAILBEACON_DATA_DIR: tmpDir('mb-faults-'), MAILBEACON_SECRET: SECRET, MAILBEACON_LOG_LEVEL: 'warn' };
    const acc = await createAccount(base);
    store = await openStore(db.url, { migrate: false });
    cleanups.push(() => store.close());
    await addDomain(store, acc.accountId, 'faults.test', { lastCheckedAt: Date.now() });
    node = await startNode({
      ...base, MAILBEACON_PUBLIC_URL: `http://${HOST}`, MAILBEACON_RELAY: `smtp://127.0.0.1:${sinkPort}`, MAILBEACON_RETRY_SCHEDULE: '1',
      MAILBEACON_SMTP_TRUSTED_NETWORKS: '127.0.0.1/32', MAILBEACON_SMTP_TRUSTED_ACCOUNT: acc.accountId,
    });
    cleanups.push(() => stopNode(node));

    const N = 20;
    const load = await smtpSource(['-s', '2', '-m', String(N), '-f', 'news@faults.test', '-t', 'reader@example.net', `127.0.0.1:${node.smtp}`]).done;
    assert.equal(load.code, 0, load.out);
    const attempts = async (result: string) => (await store.db.kysely.selectFrom('deliveryAttempts').select('id').where('result', '=', result).execute()).length;

    // 1. Nothing listens: every copy is deferred, and retried.
    await until('deferrals while the smarthost is down', async () => (await attempts('deferred')) >= 2 * N, 60_000);
    const sinks: SmtpSink[] = [];
    const phase = async (mode: string[], what: string) => {
      const before = await attempts('deferred');
      const s = await startSmtpSink(tmpDir('mb-sink-'), sinkPort, mode);
      sinks.push(s);
      await until(`deferrals with smtp-sink ${what}`, async () => (await attempts('deferred')) >= before + N, 60_000);
      await s.stop();
    };
    // 2. and 3. smtp-sink's fault modes: a soft reject of RCPT, a 421 and disconnect at DATA.
    await phase(['-r', 'rcpt'], '-r rcpt');
    await phase(['-Q', 'data'], '-Q data');
    const delivered = (await store.db.kysely.selectFrom('messageCopies').select('id').where('status', '=', 'delivered').execute()).length;
    assert.equal(delivered, 0, 'nothing was delivered while the smarthost failed');
    // 4. Healthy again: everything delivered, once.
    const healthy = await startSmtpSink(tmpDir('mb-sink-'), sinkPort);
    cleanups.push(() => healthy.stop());
    await until('every copy delivered', async () => (await store.db.kysely.selectFrom('messageCopies').select('id').where('status', '!=', 'delivered').execute()).length === 0, 60_000);
    await sleep(500);
    const counts = new Map<string, number>();
    for (const s of [...sinks, healthy]) for (const [k, v] of sinkCounts(s.dir)) counts.set(k, (counts.get(k) ?? 0) + v);
    const accepted = await store.db.kysely.selectFrom('messages').select('messageIdHeader').execute();
    assert.equal(accepted.length, N);
    assert.deepEqual(accepted.filter((m) => counts.get(m.messageIdHeader) !== 1).map((m) => `${m.messageIdHeader}: ${counts.get(m.messageIdHeader) ?? 0}`), [], 'each message delivered exactly once');
    t.diagnostic(`${N} messages: ${await attempts('deferred')} deferred attempts, then ${await attempts('delivered')} delivered`);
    for (const s of sinks) fs.rmSync(s.dir, { recursive: true, force: true });
  });
});

describe('PostgreSQL restarted under load', () => {
  let pg: PrivatePg;
  let node: Node;

  test('SMTP 4xx and API 503 while the store is down; the node recovers by itself; nothing committed is lost', async (t) => {
    pg = await startPrivatePg();
    cleanups.push(() => pg.destroy());
    const base = { MAILBEACON_DATABASE_URL: pg.url, MAILBEACON_DATA_DIR: tmpDir('mb-faults-'), MAILBEACON_SECRET: SECRET, MAILBEACON_LOG_LEVEL: 'fatal' };
    const acc = await createAccount(base);
    const store = await openStore(pg.url, { migrate: false });
    await addDomain(store, acc.accountId, 'faults.test', { lastCheckedAt: Date.now() });
    await store.close();
    node = await startNode({ ...base, MAILBEACON_RELAY: 'outbox', MAILBEACON_SMTP_TRUSTED_NETWORKS: '127.0.0.1/32', MAILBEACON_SMTP_TRUSTED_ACCOUNT: acc.accountId });
    cleanups.push(() => stopNode(node));
    const api = (path: string) => fetch(`http://127.0.0.1:${node.http}${path}`, { headers: { authorization: `Bearer ${acc.apiKey}` } });
    const send = (i: number) => nodemailer.createTransport({ host: '127.0.0.1', port: node.smtp, ignoreTLS: true, connectionTimeout: 5000, socketTimeout: 10_000 })
      .sendMail({ from: 'news@faults.test', to: 'reader@example.net', subject: `pg ${i}`, text: 'x', messageId: `<pg-${i}@faults.test>` })
      .then((info) => ({ ok: true as const, code: 250, id: `<pg-${i}@faults.test>`, response: info.response }), (e) => ({ ok: false as const, code: e.responseCode as number | undefined, id: `<pg-${i}@faults.test>`, response: String(e.response ?? e.message) }));

    assert.equal((await api('/api/v1/account')).status, 200);
    // Load across the restart: one message every 50 ms.
    const results: Awaited<ReturnType<typeof send>>[] = [];
    let i = 0;
    let running = true;
    const loader = (async () => {
      while (running) {
        results.push(await send(i++));
        await sleep(50);
      }
    })();
    await sleep(1000);
    pg.stop();
    const downAt = results.length;
    await sleep(500);
    const during = await send(10_000);
    const apiDown = await api('/api/v1/account');
    const ready = await fetch(`http://127.0.0.1:${node.http}/readyz`);
    t.diagnostic(`while down: SMTP ${during.code} ${during.response.slice(0, 80)}; API ${apiDown.status}; readyz ${ready.status}`);
    assert.ok(!during.ok && during.code !== undefined && during.code >= 400 && during.code < 500, `SMTP answers 4xx while the store is down: ${during.code} ${during.response}`);
    assert.equal(apiDown.status, 503);
    assert.equal((await apiDown.json() as any).error.code, 'unavailable');
    assert.equal(ready.status, 503);
    await sleep(1500);
    pg.start();
    await until('the node to be ready again', async () => (await fetch(`http://127.0.0.1:${node.http}/readyz`)).status === 200, 60_000);
    await until('SMTP to accept again', async () => (await send(20_000)).ok, 60_000, 500);
    running = false;
    await loader;
    assert.equal((await api('/api/v1/account')).status, 200);
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    t.diagnostic(`load: ${accepted.length} accepted, ${refused.length} refused (codes ${[...new Set(refused.map((r) => r.code))].join(',')}) around the restart (stopped after ${downAt})`);
    assert.ok(refused.every((r) => r.code === undefined || (r.code >= 400 && r.code < 500)), 'refusals are temporary (4xx or a dropped connection), never 5xx');
    // Every 250 is in the store and gets delivered (to the outbox) once the store is back.
    const check = await openStore(pg.url, { migrate: false });
    try {
      await until('every accepted message delivered', async () => {
        const rows = await check.db.kysely.selectFrom('messages').innerJoin('messageCopies', 'messageCopies.messageId', 'messages.id')
          .select(['messages.messageIdHeader', 'messageCopies.status']).execute();
        const byId = new Map(rows.map((r) => [r.messageIdHeader, r.status]));
        return accepted.every((a) => byId.get(a.id) === 'delivered');
      }, 60_000, 500);
    } finally {
      await check.close();
    }
  });
});
