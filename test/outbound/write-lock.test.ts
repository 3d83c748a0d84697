// The in-process SQLite writer lock (store/database.ts WriteLock) shared by the front doors and the
// delivery thread: a waiter wakes as soon as the other thread releases (not on a sleep schedule), the
// holders never overlap, and a lock that is never released only delays a writer by the wait limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { WriteLock } from '../../src/store/database.ts';

// Holds the lock for `holdMs` in another thread, then releases it.
function holdInThread(buffer: SharedArrayBuffer, holdMs: number, release = true): Promise<void> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const w = new Int32Array(workerData.buffer);
    while (Atomics.compareExchange(w, 0, 0, 1) !== 0) Atomics.wait(w, 0, 1, 50);
    parentPort.postMessage('held');
    const until = Date.now() + workerData.holdMs; while (Date.now() < until);
    if (workerData.release) { Atomics.store(w, 0, 0); Atomics.notify(w, 0, 1); }
  `;
  const worker = new Worker(code, { eval: true, workerData: { buffer, holdMs, release } });
  return new Promise((resolve) => worker.once('message', () => resolve()));
}

test('a writer waiting on the lock runs right after the other thread releases it, never during', async () => {
  const lock = new WriteLock();
  await holdInThread(lock.buffer, 30);
  const t0 = performance.now();
  const word = new Int32Array(lock.buffer);
  const seen = lock.run(() => Atomics.load(word, 0));
  const waited = performance.now() - t0;
  assert.equal(seen, 1, 'held by us while fn runs');
  assert.equal(Atomics.load(word, 0), 0, 'released afterwards');
  assert.ok(waited >= 15 && waited < 45, `waited ${waited.toFixed(1)} ms for a ~30 ms hold`);
});

test('a lock never released delays a writer by the wait limit only, and fn still runs', async () => {
  const lock = new WriteLock();
  await holdInThread(lock.buffer, 0, false);
  const t0 = performance.now();
  assert.equal(lock.run(() => 42), 42);
  const waited = performance.now() - t0;
  assert.ok(waited >= 1900 && waited < 3000, `waited ${waited.toFixed(0)} ms`);
  assert.equal(Atomics.load(new Int32Array(lock.buffer), 0), 1, 'a lock we never got is not released by us');
});
