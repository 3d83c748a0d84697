// The delivery worker in a thread of its own (MAILBEACON_DELIVERY_THREAD, on by default). The front doors
// (SMTP receive, HTTP) and the delivery side each cost about half of a message's CPU, and Node runs
// JavaScript on one core: in one thread, accepting and delivering take turns on that core. Here the
// unchanged worker service (worker.ts: claim, then load domain settings → rewrite → DKIM → deliver, then
// record) runs in a worker_thread with its own store connection (SQLite in WAL mode allows one writer at a
// time across connections; PostgreSQL gets its own pool), its own logger on the same stderr, and
//   - the main thread's "new copies are due" signal forwarded to it,
//   - its metric increments forwarded to the main thread's registry (so /metrics shows them),
//   - stop(): the thread stops its worker (finishing in-flight deliveries and their records) and exits.
// When the thread cannot be used (a test clock, an in-memory SQLite store) the worker runs in-process.
import { Worker } from 'node:worker_threads';
import type { AppContext } from '../app-context.ts';
import { systemClock } from '../app-context.ts';
import type { Service } from '../server/service.ts';
import { queueSignal } from './queue-signal.ts';
import { createWorkerService } from './worker.ts';

export type ToThread = { type: 'due' } | { type: 'stop' };
export type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'stopped' }
  | { type: 'metric'; kind: 'counter'; name: string; help: string; labelNames: string[]; labels: Record<string, string>; value: number };

export interface ThreadData {
  config: AppContext['config'];
  /** The main connection's SQLite writer lock (database.ts WriteLock), shared with the thread's. */
  sqliteWriteLock?: SharedArrayBuffer;
  secret: Uint8Array;
  nodeId: string;
}

/** Whether this context can hand delivery to a thread (else the worker runs in-process). */
export function canUseDeliveryThread(ctx: AppContext): boolean {
  return ctx.config.deliveryThread && ctx.clock === systemClock && !/^sqlite::memory:$/.test(ctx.config.databaseUrl);
}

export function createDeliveryService(ctx: AppContext): Service {
  return canUseDeliveryThread(ctx) ? createThreadedWorkerService(ctx) : createWorkerService(ctx);
}

export interface ThreadedWorkerService extends Service {
  /** The delivery thread's id while it runs. */
  readonly threadId: number | undefined;
}

function createThreadedWorkerService(ctx: AppContext): ThreadedWorkerService {
  const { log } = ctx;
  let worker: Worker | undefined;
  let exited: Promise<number> | undefined;
  const counters = new Map<string, { inc(labels: Record<string, string>, value: number): void }>();
  let duePending = false;
  // Many accepted messages in one I/O phase are one message to the thread.
  const onDue = () => {
    if (duePending || !worker) return;
    duePending = true;
    setImmediate(() => {
      duePending = false;
      worker?.postMessage({ type: 'due' } satisfies ToThread);
    });
  };

  const onMetric = (m: Extract<FromThread, { type: 'metric' }>) => {
    let c = counters.get(m.name);
    if (!c) {
      c = ctx.metrics.counter(m.name, m.help, m.labelNames);
      counters.set(m.name, c);
    }
    c.inc(m.labels, m.value);
  };

  return {
    name: 'worker',
    get threadId() {
      return worker?.threadId;
    },
    async start() {
      const data: ThreadData = { config: ctx.config, secret: new Uint8Array(ctx.secret), nodeId: ctx.nodeId, sqliteWriteLock: ctx.store.db.writeLock?.buffer };
      const w = new Worker(new URL('./delivery-thread-entry.mjs', import.meta.url), { workerData: data });
      worker = w;
      exited = new Promise((r) => w.once('exit', r));
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        w.once('error', onError);
        w.on('message', function first(m: FromThread) {
          if (m.type === 'ready') {
            w.off('message', first);
            w.off('error', onError);
            resolve();
          } else if (m.type === 'failed') reject(new Error(`delivery thread: ${m.message}`));
        });
      });
      w.on('message', (m: FromThread) => {
        if (m.type === 'metric') onMetric(m);
      });
      w.on('error', (err) => log.error({ event: 'outbound.thread_error', err }, 'delivery thread failed'));
      w.once('exit', (code) => {
        if (worker === w) {
          worker = undefined;
          log.error({ event: 'outbound.thread_exit', code }, 'delivery thread exited; nothing is delivered by this node until it restarts');
        }
      });
      queueSignal(ctx).on('due', onDue);
    },
    async stop() {
      const w = worker;
      if (!w) return;
      queueSignal(ctx).off('due', onDue);
      worker = undefined;
      const stopped = new Promise<void>((r) => w.on('message', (m: FromThread) => m.type === 'stopped' && r()));
      w.postMessage({ type: 'stop' } satisfies ToThread);
      await Promise.race([stopped, exited]);
      await w.terminate();
    },
  };
}
