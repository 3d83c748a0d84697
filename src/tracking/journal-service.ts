// The event journal on a tracking node (SQLite): the HTTP thread group-commits verified hits to the journal
// with one write() per batch and answers; an ingest worker thread moves them into the store. At start the
// journal left by the previous run (a crash, or a stop that could not finish) is ingested on this thread
// BEFORE the listener opens, so a node that answers /healthz or /readyz has everything it ever answered in
// its store. Graceful shutdown drains the journal. See journal.ts for the format and the exactly-once rules.
import path from 'node:path';
import { execFile } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { Gauge } from 'prom-client';
import type { AppContext } from '../app-context.ts';
import type { ClassifyOptions } from './classify.ts';
import { EventWriter, type TrackHit } from './event-writer.ts';
import { JournalIngester, JournalWriter, comparePos, encodeHit, journalDirFor, type Position, type StepResult } from './journal.ts';
import { S, type JournalWorkerData } from './journal-shared.ts';

export interface Recorder {
  /** Records `hit`; `answer` is called once it is durable (err: it could not be stored). */
  add(hit: TrackHit, answer: (err?: unknown) => void): void;
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  /** Folds work done elsewhere (the ingest worker) into the metrics. */
  pull?(): void;
}

/** Records per ingest transaction: ~40 µs each, so the store's write lock is held for a few ms at most. */
const MAX_HITS = 200;
/** Nice value of the ingest thread: the HTTP thread (and its clients) come first under load. */
const WORKER_NICE = 19;
/**
 * Scheduling of the ingest thread beyond its nice value (Linux): SCHED_IDLE, so under load the HTTP thread and
 * the machine's other work always come first (measured: ~45k -> ~58k pixels/s on 2 cores shared with the load
 * generator) and the ingest catches up when the CPU is free. Back to normal scheduling (still nice 19) when
 * it is starved while holding the store's write lock (a transaction open longer than TX_RAISE_MS; normally
 * they take a few ms), so other writers of the store wait at most that long, or when the oldest hit not yet
 * ingested is older than LAG_RAISE_MS; SCHED_IDLE again once caught up (LAG_LOWER_MS).
 */
const TX_RAISE_MS = 500;
const LAG_RAISE_MS = 60_000;
const LAG_LOWER_MS = 200;
/** How long a graceful stop waits for the journal to be ingested; the rest is ingested at the next start. */
const DRAIN_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startJournal(
  ctx: AppContext,
  classify: ClassifyOptions,
  onBatch: (size: number, ms: number, ok: boolean) => void,
  count: (route: string, result: string, n?: number) => void,
): Recorder {
  const m = ctx.metrics;
  const dbFile = path.resolve(ctx.store.db.sqlitePath!);
  const dir = journalDirFor(dbFile);
  const torn = m.counter('mailbeacon_tracking_journal_torn_records_total', 'Event journal records skipped because they were cut short (a write interrupted by a crash or a full disk) or unreadable', [], () => pull());
  const ingestErrors = m.counter('mailbeacon_tracking_journal_ingest_errors_total', 'Failed event journal ingest transactions (retried; the records stay in the journal)', [], () => pull());
  const onTorn = (seq: number, offset: number, bytes: number) => {
    torn.inc();
    ctx.log.warn({ event: 'tracking.journal_torn_record', dir, segment: seq, offset, bytes }, 'skipped a torn event journal record');
  };
  const counted = (r: StepResult) => {
    if (r.pixelRecorded) count('pixel', 'recorded', r.pixelRecorded);
    if (r.pixelUnknown) count('pixel', 'unknown_copy', r.pixelUnknown);
    if (r.clickRecorded) count('click', 'recorded', r.clickRecorded);
    if (r.clickUnknown) count('click', 'unknown_copy', r.clickUnknown);
  };

  // A fresh segment first (every older one is then sealed), then the replay of what is left.
  const journal = new JournalWriter(dir);
  const started = performance.now();
  const replay = new JournalIngester(dir, ctx.store.tracking, new EventWriter(ctx.store.tracking, classify, () => ctx.clock.now()), { onTorn, maxHits: 2000 }).drain();
  counted(replay);
  if (replay.hits || replay.torn) {
    ctx.log.info({ event: 'tracking.journal_replayed', dir, hits: replay.hits, torn: replay.torn, ms: Math.round(performance.now() - started) }, 'event journal replayed');
  }

  const sab = new Int32Array(new SharedArrayBuffer(S.SIZE * 4));
  const publishWrite = (p: Position) => {
    Atomics.store(sab, S.WRITE_SEQ, p.seq);
    Atomics.store(sab, S.WRITE_OFF, p.offset);
    Atomics.add(sab, S.GEN, 1);
    Atomics.notify(sab, S.GEN);
  };
  publishWrite(journal.position);
  Atomics.store(sab, S.READ_SEQ, replay.position.seq);
  Atomics.store(sab, S.READ_OFF, replay.position.offset);
  const readPos = (): Position => ({ seq: Atomics.load(sab, S.READ_SEQ), offset: Atomics.load(sab, S.READ_OFF) });

  // Lag: one entry per write (end position, hits so far, when), dropped once ingested.
  const pendingWrites: { seq: number; offset: number; total: number; at: number }[] = [];
  let appended = 0;
  let ingested = 0;
  const last = { pr: 0, pu: 0, cr: 0, cu: 0, err: 0, us: 0 };
  let ingestSeconds = 0;
  /** Folds the worker's progress into the counters (called on scrape, settle and stop). */
  const pull = () => {
    const rp = readPos();
    while (pendingWrites.length && comparePos(pendingWrites[0], rp) <= 0) ingested = pendingWrites.shift()!.total;
    const d = (i: number, k: keyof typeof last) => {
      const v = Atomics.load(sab, i);
      const delta = (v - last[k]) | 0;
      last[k] = v;
      return delta;
    };
    const pr = d(S.PIXEL_RECORDED, 'pr');
    const pu = d(S.PIXEL_UNKNOWN, 'pu');
    const cr = d(S.CLICK_RECORDED, 'cr');
    const cu = d(S.CLICK_UNKNOWN, 'cu');
    counted({ pixelRecorded: pr, pixelUnknown: pu, clickRecorded: cr, clickUnknown: cu } as StepResult);
    const e = d(S.ERRORS, 'err');
    if (e) ingestErrors.inc(e);
    ingestSeconds += (d(S.INGEST_US, 'us') >>> 0) / 1e6;
  };
  const lagEvents: Gauge = m.gauge('mailbeacon_tracking_journal_lag_events', 'Tracking hits answered (in the event journal) but not yet ingested into the store', [], () => {
    pull();
    lagEvents.set(appended - ingested);
  });
  const lagSeconds: Gauge = m.gauge('mailbeacon_tracking_journal_lag_seconds', 'Age of the oldest event journal write not yet ingested into the store (0: none)', [], () => {
    pull();
    lagSeconds.set(pendingWrites.length ? (Date.now() - pendingWrites[0].at) / 1000 : 0);
  });
  const ingestedEvents: Gauge = m.gauge('mailbeacon_tracking_journal_ingested_events', 'Tracking hits this node wrote to the event journal and has ingested since it started', [], () => {
    pull();
    ingestedEvents.set(ingested);
  });
  const busySeconds: Gauge = m.gauge('mailbeacon_tracking_journal_ingest_busy_seconds', 'Time the ingest worker spent in ingest transactions since start', [], () => {
    pull();
    busySeconds.set(ingestSeconds);
  });
  m.gauge('mailbeacon_tracking_journal_replayed_events', 'Tracking hits left in the event journal by the previous run, ingested at start').set(replay.hits);

  let worker: Worker | undefined;
  let workerTid: number | undefined;
  // The ingest thread's scheduling policy: 'idle' (SCHED_IDLE), 'other' (normal, nice 19) or 'none' (chrt is
  // missing or refused: nice 19 only).
  let policy: 'idle' | 'other' | 'none' = 'none';
  let changing = false;
  const setPolicy = (want: 'idle' | 'other') => {
    if (workerTid === undefined || policy === 'none' || policy === want || changing) return;
    changing = true;
    const tid = workerTid;
    execFile('chrt', [want === 'idle' ? '-i' : '-o', '-p', '0', String(tid)], (err) => {
      changing = false;
      if (tid !== workerTid) return;
      if (err) {
        if (policy === 'other' && want === 'idle') policy = 'none';
        ctx.log.debug({ event: 'tracking.journal_policy_failed', err: err.message }, 'could not change the ingest thread\'s scheduling');
        return;
      }
      policy = want;
      schedIdle.set(want === 'idle' ? 1 : 0);
    });
  };
  const schedIdle = m.gauge('mailbeacon_tracking_journal_worker_sched_idle', 'Whether the event journal ingest thread runs at SCHED_IDLE (1) or normal scheduling at nice 19 (0)');
  const watchdog = setInterval(() => {
    if (policy === 'none') return;
    const now = Date.now();
    const age = pendingWrites.length ? now - pendingWrites[0].at : 0;
    const since = Atomics.load(sab, S.TX_SINCE);
    const tx = since ? now - (epoch + since) : 0;
    if (policy === 'idle' && (tx > TX_RAISE_MS || age > LAG_RAISE_MS)) setPolicy('other');
    else if (policy === 'other' && tx < TX_RAISE_MS && age < LAG_LOWER_MS) setPolicy('idle');
  }, 250);
  watchdog.unref();
  let stopping = false;
  let stopped: Promise<void> = Promise.resolve();
  const epoch = Date.now();
  const spawn = () => {
    const data: JournalWorkerData = { epoch, dbFile, dir, shared: sab.buffer as SharedArrayBuffer, classify: { prefetchSeconds: classify.prefetchSeconds, scannerNetworks: [...(classify.scannerNetworks ?? [])] }, maxHits: MAX_HITS, nice: WORKER_NICE };
    const w = new Worker(new URL('./journal-worker.mjs', import.meta.url), { workerData: data });
    worker = w;
    let lastError = '';
    w.on('message', (msg: { type: string; message?: string; code?: string; seq?: number; offset?: number; bytes?: number; tid?: number }) => {
      if (msg.type === 'tid') {
        workerTid = msg.tid;
        policy = 'other';
        setPolicy('idle');
      } else if (msg.type === 'torn') onTorn(msg.seq!, msg.offset!, msg.bytes!);
      else if (msg.type === 'error' && msg.message !== lastError) {
        lastError = msg.message!;
        ctx.log.error({ event: 'tracking.journal_ingest_failed', code: msg.code, err: msg.message }, 'event journal ingest failed; retrying');
      }
    });
    stopped = new Promise<void>((resolve) => {
      w.once('exit', (code) => {
        worker = undefined;
        workerTid = undefined;
        if (!stopping) {
          ctx.log.error({ event: 'tracking.journal_worker_exit', code }, 'event journal ingest worker stopped; restarting');
          setTimeout(() => { if (!stopping) spawn(); }, 1000).unref();
        }
        resolve();
      });
    });
    w.on('error', (err) => ctx.log.error({ event: 'tracking.journal_worker_error', err }, 'event journal ingest worker failed'));
  };
  spawn();

  // Group commit without a promise per hit: hits and their answer callbacks gather for the flush window (or
  // until the next turn of the event loop with 0 ms), then ONE write() of the whole batch, then the answers.
  let hits: TrackHit[] = [];
  let answers: ((err?: unknown) => void)[] = [];
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  const flushMs = ctx.config.eventFlushMs;
  const flush = () => {
    timer = undefined;
    const batch = hits;
    const done = answers;
    if (!batch.length) return;
    hits = [];
    answers = [];
    const t0 = performance.now();
    let err: unknown;
    try {
      let s = '';
      for (const h of batch) s += `${encodeHit(h)}\n`;
      const p = journal.append(Buffer.from(s));
      appended += batch.length;
      pendingWrites.push({ seq: p.seq, offset: p.offset, total: appended, at: Date.now() });
      publishWrite(p);
    } catch (e) {
      err = e;
      ctx.log.error({ event: 'tracking.journal_write_failed', err: e, size: batch.length }, 'tracking hits could not be written to the event journal');
    }
    onBatch(batch.length, performance.now() - t0, err === undefined);
    for (const a of done) a(err);
  };
  const cancel = () => {
    if (!timer) return;
    clearTimeout(timer as NodeJS.Timeout);
    clearImmediate(timer as NodeJS.Immediate);
    timer = undefined;
  };
  const add = (hit: TrackHit, answer: (err?: unknown) => void) => {
    hits.push(hit);
    answers.push(answer);
    if (hits.length >= 2000) {
      cancel();
      flush();
    } else if (!timer) timer = flushMs > 0 ? setTimeout(flush, flushMs) : setImmediate(flush);
  };

  const settled = async (timeoutMs = 30_000) => {
    const target = journal.position;
    const until = Date.now() + timeoutMs;
    while (comparePos(readPos(), target) < 0) {
      if (Date.now() > until) throw new Error(`the event journal was not ingested within ${timeoutMs} ms`);
      await sleep(2);
    }
    pull();
  };

  return {
    add,
    settled,
    pull,
    close: async () => {
      cancel();
      flush();
      stopping = true;
      clearInterval(watchdog);
      // Draining at stop: no reason to wait for idle CPU.
      if (policy === 'idle') setPolicy('other');
      const w = worker;
      if (w) {
        Atomics.store(sab, S.STOP, 1);
        Atomics.add(sab, S.GEN, 1);
        Atomics.notify(sab, S.GEN);
        const t = setTimeout(() => {
          // Not drained in time (store failing?): leave the rest to the replay at the next start.
          ctx.log.warn({ event: 'tracking.journal_drain_timeout', lag: appended - ingested }, 'event journal not drained at stop; it is ingested at the next start');
          Atomics.store(sab, S.STOP_NOW, 1);
          void w.terminate();
        }, DRAIN_MS);
        await stopped;
        clearTimeout(t);
      }
      pull();
      journal.close();
    },
  };
}
