// Durability of group commit: a real `mailbeacon serve` on SQLite under concurrent pixel load with many
// distinct tokens is killed with SIGKILL mid-load; after a restart every request that got a 200 is an
// event in the store. On SQLite the answer is sent once the batch is in the event journal (one write()); the
// restarted server ingests what the killed one had not before it answers /healthz. A torn record (a write cut
// short) at the end of the journal is skipped and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawnServe, exited, freePort } from '../helpers/spawn-cli.ts';
import SQLite from 'better-sqlite3';
import { openStore } from '../../src/store/store.ts';
import { TEST_SECRET, seedCopies, signer } from './helpers.ts';

/** A temp dir with a SQLite store seeded with `copies` delivered copies, and the env of a tracking node on it. */
async function trackingNode(prefix: string, copies: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dbUrl = `sqlite:${path.join(dir, 'mb.db')}`;
  const seedStore = await openStore(dbUrl);
  const { copyIds } = await seedCopies(seedStore, copies);
  await seedStore.close();
  const port = await freePort();
  const env: Record<string, string> = {
    MAILBEACON_DATABASE_URL: dbUrl, MAILBEACON_DATA_DIR: dir, MAILBEACON_SECRET: TEST_SECRET, MAILBEACON_LOG_LEVEL: 'silent',
    MAILBEACON_HTTP_PORT: String(port), MAILBEACON_SMTP_PORT: String(await freePort()), MAILBEACON_PUBLIC_URL: 'http://127.0.0.1',
  };
  return { dir, dbUrl, copyIds, port, env };
}

test('kill -9 mid-load loses no answered pixel load', { timeout: 150_000 }, async () => {
  const { dir, dbUrl, copyIds, port, env: base } = await trackingNode('mb-durable-', 3000);
  try {
    const env = { ...base, MAILBEACON_EVENT_FLUSH_MS: '5' };
    const srv = await spawnServe(env, ['--roles', 'tracking']);
    const paths = copyIds.map((id) => `/o/${signer.sign({ kind: 'open', copyId: id }, '127.0.0.1')}.gif`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const ok: number[] = [];
    let next = 0;
    let killed = false;
    const one = (i: number) => new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: paths[i], agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok.push(i);
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.on('error', () => resolve());
    });
    const worker = async () => {
      while (!killed && next < paths.length) {
        await one(next++);
        if (!killed && ok.length >= 600) {
          killed = true;
          srv.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    agent.destroy();
    assert.ok(killed, 'the server was killed mid-load');
    await exited(srv.child);
    assert.ok(ok.length >= 600);
    // The hits went through the journal; simulate a write cut short by the kill at its end.
    const jdir = `${path.join(dir, 'mb.db')}.events-journal`;
    const segs = fs.readdirSync(jdir).filter((f) => f.endsWith('.seg')).sort();
    assert.ok(segs.length >= 1, 'the event journal exists');
    fs.appendFileSync(path.join(jdir, segs[segs.length - 1]), '[0,0,"cpy_torn');

    const again = await spawnServe(env, ['--roles', 'tracking']);
    try {
      const store = await openStore(dbUrl, { migrate: false });
      try {
        const rows = await store.db.kysely.selectFrom('events').select('copyId').where('type', '=', 'open').execute();
        const stored = new Set(rows.map((r) => r.copyId));
        const missing = ok.filter((i) => !stored.has(copyIds[i]));
        assert.deepEqual(missing, [], `${missing.length} of ${ok.length} answered loads are not in the store`);
        const roll = await store.db.kysely.selectFrom('rollupsHourly').select((eb) => eb.fn.sum<number>('uniqueOpens').as('u')).executeTakeFirstOrThrow();
        assert.equal(Number(roll.u), rows.length, 'rollups were written in the same transactions as the events');
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(metrics, /^mailbeacon_tracking_journal_torn_records_total 1$/m, 'the torn record was skipped and counted');
      } finally {
        await store.close();
      }
    } finally {
      again.child.kill('SIGTERM');
      await exited(again.child);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a graceful stop (SIGTERM) ingests the whole event journal before the process exits', { timeout: 120_000 }, async () => {
  const { dir, dbUrl, copyIds, port, env } = await trackingNode('mb-drain-', 1500);
  try {
    const srv = await spawnServe(env, ['--roles', 'tracking']);
    // Hold the store's write lock meanwhile, so the ingest thread cannot keep up and the stop has work to do.
    const blocker = new SQLite(path.join(dir, 'mb.db'));
    blocker.exec('begin immediate');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    let ok = 0;
    const get = (p: string) => new Promise<void>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
        res.resume();
        res.on('end', () => { if (res.statusCode === 200) ok++; resolve(); });
      }).on('error', () => resolve());
    });
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < copyIds.length) await get(`/o/${signer.sign({ kind: 'open', copyId: copyIds[next++] }, '127.0.0.1')}.gif`);
    }));
    agent.destroy();
    assert.equal(ok, copyIds.length);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const lag = Number(/^mailbeacon_tracking_journal_lag_events (\d+)$/m.exec(metrics)?.[1]);
    assert.equal(lag, copyIds.length, 'nothing could be ingested while the lock was held');
    blocker.exec('commit');
    blocker.close();
    // Stop at once: whatever the ingest thread has not done yet is done before exit (not at the next start).
    srv.child.kill('SIGTERM');
    await exited(srv.child);
    const store = await openStore(dbUrl, { migrate: false });
    try {
      const n = (await store.db.kysely.selectFrom('events').select('id').where('type', '=', 'open').execute()).length;
      assert.equal(n, copyIds.length, 'every answered pixel is in the store after the stop, without a restart');
    } finally {
      await store.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
