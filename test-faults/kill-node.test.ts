// Fault suite 1 and 2: `kill -9` one of two nodes (one PostgreSQL schema) during SMTP load from Postfix's
// smtp-source, with smtp-sink as the smarthost: every message that was committed (and so every one that
// got a 250) is delivered; duplicates are reported. Then kill -9 during pixel load: every 200 is an event.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createTestDatabase, type TestDatabase } from '../test/helpers/dialects.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { addDomain } from '../test/outbound/helpers.ts';
import { TokenSigner, keyringFromSecret } from '../src/tracking/tokens.ts';
import { HOST, SECRET, createAccount, kill9, sinkCounts, sleep, smtpSource, startNode, startSmtpSink, stopNode, tmpDir, until, type Node, type SmtpSink } from './helpers.ts';

const SESSIONS = Number(process.env.FAULTS_SESSIONS ?? 4);
const MESSAGES = Number(process.env.FAULTS_MESSAGES ?? 120);

describe('kill -9 a node under load', () => {
  let db: TestDatabase;
  let store: Store;
  let sink: SmtpSink;
  let env: Record<string, string>;
  const nodes: Node[] = [];

  before(async () => {
    db = await createTestDatabase('postgres');
    sink = await startSmtpSink(tmpDir('mb-sink-'));
    const base = { MAILBEACON_DATABASE_URL: db.url, MAILBEACON_DATA_DIR: tmpDir('mb-faults-'), MAILBEACON_SECRET: SECRET, MAILBEACON_LOG_LEVEL: 'warn' };
    const acc = await createAccount(base);
    store = await openStore(db.url, { migrate: false });
    await addDomain(store, acc.accountId, 'faults.test', { lastCheckedAt: Date.now() });
    env = {
      ...base, MAILBEACON_PUBLIC_URL: `http://${HOST}`, MAILBEACON_RELAY: `smtp://127.0.0.1:${sink.port}`, MAILBEACON_RELAY_CONCURRENCY: '5',
      MAILBEACON_SMTP_TRUSTED_NETWORKS: '127.0.0.1/32', MAILBEACON_SMTP_TRUSTED_ACCOUNT: acc.accountId, MAILBEACON_RETRY_SCHEDULE: '1',
    };
    nodes.push(await startNode(env), await startNode(env));
  });
  after(async () => {
    for (const n of nodes) await stopNode(n);
    await sink?.stop();
    await store?.close();
    await db?.cleanup();
  });

  test('SMTP load from smtp-source, one node killed: every committed message delivered, duplicates reported', async (t) => {
    const [victim, survivor] = nodes;
    const loads = [victim, survivor].map((n) => smtpSource(['-s', String(SESSIONS), '-m', String(MESSAGES), '-f', 'news@faults.test', '-t', 'reader@example.net', `127.0.0.1:${n.smtp}`]));
    // Kill once the victim has accepted a fair share of its load.
    await until('the victim to accept mail', async () => (await store.db.kysely.selectFrom('messages').select('id').execute()).length >= MESSAGES / 3, 60_000, 50);
    const leasedAtKill = (await store.db.kysely.selectFrom('messageCopies').select('id').where('lockedBy', 'like', `${victim.pid}-%`).execute()).length;
    await kill9(victim);
    const results = await Promise.all(loads.map((l) => l.done));
    t.diagnostic(`smtp-source exit codes: victim ${results[0].code}, survivor ${results[1].code}`);
    assert.equal(results[1].code, 0, `the survivor's load completes: ${results[1].out}`);

    // The dead node's leases would run out after 10 minutes; make that time pass, and start it again.
    await store.db.kysely.updateTable('messageCopies').set({ lockedUntil: 0 }).where('lockedBy', 'like', `${victim.pid}-%`).execute();
    nodes[0] = await startNode(env);

    const accepted = await store.db.kysely.selectFrom('messages').select(['id', 'messageIdHeader']).execute();
    await until('every copy delivered', async () => {
      const open = await store.db.kysely.selectFrom('messageCopies').select('id').where('status', '!=', 'delivered').execute();
      return open.length === 0;
    }, 120_000, 500);
    await sleep(1000);
    const counts = sinkCounts(sink.dir);
    const missing = accepted.filter((m) => !counts.has(m.messageIdHeader));
    const dups = [...counts.values()].filter((c) => c > 1).length;
    t.diagnostic(`accepted ${accepted.length} (survivor's ${MESSAGES} plus the victim's before the kill), delivered ${counts.size} distinct, duplicates ${dups}, copies leased by the victim at the kill ${leasedAtKill}`);
    assert.deepEqual(missing.map((m) => m.messageIdHeader), [], 'every committed message reached the smarthost');
    assert.ok(accepted.length >= MESSAGES, 'everything sent to the survivor was accepted');
    assert.ok(dups <= leasedAtKill, `duplicates only among copies in flight on the killed node (${dups} > ${leasedAtKill})`);
  });

  test('pixel load, one node killed: every 200 is an event', async (t) => {
    const copies = await store.db.kysely.selectFrom('messageCopies').select('id').execute();
    const signer = new TokenSigner(keyringFromSecret(SECRET, [1]));
    const before = (await store.db.kysely.selectFrom('events').select('id').where('type', '=', 'open').execute()).length;
    const victim = nodes[1];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const ok = new Map<string, number>();
    let i = 0;
    let stop = false;
    const one = (copyId: string) => new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: victim.http, path: `/o/${signer.sign({ kind: 'open', copyId }, HOST)}.gif`, headers: { host: HOST }, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok.set(copyId, (ok.get(copyId) ?? 0) + 1);
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.on('error', () => resolve());
    });
    const workers = Array.from({ length: 16 }, async () => {
      while (!stop) await one(copies[i++ % copies.length].id);
    });
    await sleep(1500);
    await kill9(victim);
    stop = true;
    await Promise.all(workers);
    agent.destroy();
    const served = [...ok.values()].reduce((a, b) => a + b, 0);
    const rows = await store.db.kysely.selectFrom('events').select('copyId').where('type', '=', 'open').execute();
    const got = new Map<string, number>();
    for (const r of rows) got.set(r.copyId!, (got.get(r.copyId!) ?? 0) + 1);
    const short = [...ok].filter(([c, n]) => (got.get(c) ?? 0) < n);
    t.diagnostic(`${served} pixels answered 200 before the kill; ${rows.length - before} open events stored`);
    assert.ok(served > 50, 'the load ran');
    assert.deepEqual(short, [], 'every 200 has its event');
    assert.ok(rows.length - before >= served);
    nodes[1] = await startNode(env);
  });
});
