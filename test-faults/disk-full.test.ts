// Fault suite 5: a store write failure. The SQLite store lives on a small tmpfs that is then filled up
// (disk full): SMTP answers 451, the API 503, the pixel is still served and the lost event is counted in
// mailbeacon_tracking_events_lost_total. Once space is freed, the node works again by itself. The tracking
// event journal lives beside the store on the same tmpfs: pixels keep being journaled while the last page of
// its segment has room (their events are ingested once the store can write again); after that the journal
// write fails and the hit is counted as lost, never answered as stored.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import nodemailer from 'nodemailer';
import { openStore } from '../src/store/store.ts';
import { addDomain } from '../test/outbound/helpers.ts';
import { request } from '../test/tracking/helpers.ts';
import { TokenSigner, keyringFromSecret } from '../src/tracking/tokens.ts';
import { HOST, SECRET, createAccount, metric, startNode, stopNode, tmpDir, until, type Node } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('store write failure (SQLite, disk full)', () => {
  test('SMTP 451, API 503, the pixel still served and the lost event counted; recovers when space is back', async (t) => {
    const mnt = tmpDir('mb-full-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (e) {
      t.skip(`cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`);
      return;
    }
    cleanups.push(() => {
      try { execFileSync('umount', ['-l', mnt], { stdio: 'pipe' }); } catch { /* gone */ }
      fs.rmSync(mnt, { recursive: true, force: true });
    });
    const dbFile = path.join(mnt, 'mb.db');
    const base = { MAILBEACON_DATABASE_URL: `sqlite:${dbFile}`, MAILBEACON_DATA_DIR: tmpDir('mb-faults-'), MAILBEACON_SECRET: SECRET, MAILBEACON_LOG_LEVEL: 'fatal' };
    const acc = await createAccount(base);
    const store = await openStore(base.MAILBEACON_DATABASE_URL, { migrate: false });
    await addDomain(store, acc.accountId, 'faults.test', { lastCheckedAt: Date.now() });
    await store.close();
    const node: Node = await startNode({ ...base, MAILBEACON_PUBLIC_URL: `http://${HOST}`, MAILBEACON_RELAY: 'outbox', MAILBEACON_SMTP_TRUSTED_NETWORKS: '127.0.0.1/32', MAILBEACON_SMTP_TRUSTED_ACCOUNT: acc.accountId });
    cleanups.push(() => stopNode(node));
    const send = (subject: string) => fetch(`http://127.0.0.1:${node.http}/api/v1/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${acc.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'news@faults.test', to: ['reader@example.net'], subject, html: '<html><body><p>hi</p></body></html>' }),
    });
    const smtp = () => nodemailer.createTransport({ host: '127.0.0.1', port: node.smtp, ignoreTLS: true }).sendMail({ from: 'news@faults.test', to: 'reader@example.net', subject: 'full', text: 'x' })
      .then(() => ({ code: 250, response: '' }), (e) => ({ code: e.responseCode as number | undefined, response: String(e.response ?? e.message) }));

    // A delivered copy to load pixels for.
    const first = await send('before');
    assert.equal(first.status, 202);
    const { recipients } = await first.json() as any;
    const copyId = recipients[0].id;
    const db = new Database(dbFile);
    cleanups.push(() => { db.close(); });
    await until('the copy delivered', async () => (db.prepare('select status from message_copies where id = ?').get(copyId) as any)?.status === 'delivered', 30_000);
    const pixel = `/o/${new TokenSigner(keyringFromSecret(SECRET, [1])).sign({ kind: 'open', copyId }, HOST)}.gif`;
    assert.equal((await request(node.http, pixel, { host: HOST })).status, 200);
    const opens = () => (db.prepare("select count(*) n from events where type = 'open'").get() as any).n as number;
    await until('the first open ingested from the event journal', async () => opens() === 1, 10_000, 50);

    // Fill the disk: empty the WAL first so any write needs new space, then take every free byte.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const filler = path.join(mnt, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (;;) fs.writeSync(fd, chunk);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(512, 1));
    } catch { /* full to the last block */ }
    fs.closeSync(fd);

    const lostBefore = await metric(node.http, 'mailbeacon_tracking_events_lost_total');
    // Pixels until one cannot be written (the journal segment's last page fills up first).
    let journaled = 0;
    for (let i = 0; i < 500; i++) {
      const p = await request(node.http, pixel, { host: HOST });
      assert.equal(p.status, 200, 'the pixel is still served');
      assert.equal(p.headers['content-type'], 'image/gif');
      if (await metric(node.http, 'mailbeacon_tracking_events_lost_total') > lostBefore) break;
      journaled++;
    }
    assert.equal(await metric(node.http, 'mailbeacon_tracking_events_lost_total'), lostBefore + 1, 'the lost event is counted');
    t.diagnostic(`${journaled} pixels journaled while the disk was full, then one lost`);
    const apiFull = await send('while full');
    const apiBody = await apiFull.text();
    assert.equal(apiFull.status, 503, apiBody);
    assert.match(JSON.parse(apiBody).error.code, /unavailable/);
    const s = await smtp();
    t.diagnostic(`disk full: SMTP ${s.code} ${s.response.slice(0, 80)}; API ${apiFull.status}; pixel 200, lost counter +1`);
    assert.equal(s.code, 451, s.response);

    // Space back: the node works again without a restart.
    fs.rmSync(filler);
    await until('the API to accept again', async () => (await send('after')).status === 202, 30_000, 300);
    assert.equal((await smtp()).code, 250);
    assert.equal((await request(node.http, pixel, { host: HOST })).status, 200);
    // Every pixel answered is stored once the store can write again: the first, those journaled during the
    // outage, and the one after recovery; the one counted as lost is not.
    await until('the journaled opens ingested', async () => opens() === 2 + journaled, 30_000, 100);
    assert.equal(opens(), 2 + journaled);
  });
});
