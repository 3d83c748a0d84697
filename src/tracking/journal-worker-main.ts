// The event journal's ingest worker: its own better-sqlite3 connection to the store, the same EventWriter as
// the direct path, and a loop that ingests the journal in short transactions (JournalIngester.step) whenever
// the HTTP thread has written more. It runs at a lower CPU priority (Linux applies a nice value to one thread)
// so the HTTP thread keeps its core under load; the work it defers is measured by the lag metrics.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../store/database.ts';
import { TrackingRepo } from '../store/tracking-repo.ts';
import { EventWriter } from './event-writer.ts';
import { JournalIngester } from './journal.ts';
import { S, type JournalWorkerData } from './journal-shared.ts';

const data = workerData as JournalWorkerData;
const sab = new Int32Array(data.shared);
const post = (m: unknown) => parentPort!.postMessage(m);
// Atomics.waitAsync alone does not keep a thread alive: an open port does, until the loop ends.
parentPort!.on('message', () => {});

try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid)) {
    if (data.nice) os.setPriority(tid, data.nice);
    // The HTTP thread may lower this thread further (SCHED_IDLE) while the lag is small.
    post({ type: 'tid', tid });
  }
} catch {
  // Not Linux, or not allowed: run at the normal priority.
}

const db = await openDatabase(`sqlite:${data.dbFile}`);
const repo = new TrackingRepo(db);
const writer = new EventWriter(repo, data.classify, () => Date.now());
const ingester = new JournalIngester(data.dir, repo, writer, {
  maxHits: data.maxHits,
  onTorn: (seq, offset, bytes) => post({ type: 'torn', seq, offset, bytes }),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));
let backoff = 0;
for (;;) {
  const gen = Atomics.load(sab, S.GEN);
  const stopping = Atomics.load(sab, S.STOP) === 1;
  let progressed = false;
  try {
    const started = performance.now();
    Atomics.store(sab, S.TX_SINCE, Math.max(1, Date.now() - data.epoch));
    let r;
    try {
      r = ingester.step();
    } finally {
      Atomics.store(sab, S.TX_SINCE, 0);
    }
    progressed = r.progressed;
    Atomics.store(sab, S.READ_SEQ, r.position.seq);
    Atomics.store(sab, S.READ_OFF, r.position.offset);
    if (r.hits) {
      Atomics.add(sab, S.PIXEL_RECORDED, r.pixelRecorded);
      Atomics.add(sab, S.PIXEL_UNKNOWN, r.pixelUnknown);
      Atomics.add(sab, S.CLICK_RECORDED, r.clickRecorded);
      Atomics.add(sab, S.CLICK_UNKNOWN, r.clickUnknown);
      Atomics.add(sab, S.INGEST_US, Math.round((performance.now() - started) * 1000));
    }
    backoff = 0;
  } catch (e) {
    // The store is busy, full or failing: the records stay in the journal; try again, less and less often.
    Atomics.add(sab, S.ERRORS, 1);
    post({ type: 'error', message: (e as Error).message, code: (e as { code?: string }).code });
    backoff = Math.min(1000, backoff ? backoff * 2 : 10);
    if (stopping && Atomics.load(sab, S.STOP_NOW) === 1) break;
    await sleep(backoff);
    continue;
  }
  if (progressed) {
    await tick();
    continue;
  }
  if (stopping) break;
  // Nothing to do: sleep until the HTTP thread writes more (or 250 ms pass).
  await (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { value: unknown } }).waitAsync(sab, S.GEN, gen, 250).value;
}
await db.close();
post({ type: 'stopped' });
parentPort!.close();
