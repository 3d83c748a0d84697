// Runs inside the delivery thread: builds a context of its own (store connection, logger, forwarded
// metrics) and runs the ordinary worker service (worker.ts). See delivery-thread.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { AppContext } from '../app-context.ts';
import { systemClock } from '../app-context.ts';
import { createLogger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { openStore } from '../store/store.ts';
import type { FromThread, ThreadData, ToThread } from './delivery-thread.ts';
import { queueSignal } from './queue-signal.ts';
import { createWorkerService } from './worker.ts';

const port = parentPort!;
const data = workerData as ThreadData;
const post = (m: FromThread) => port.postMessage(m);

/** Counters that add to the main thread's registry; nothing else is used on the delivery path. */
function forwardedMetrics(): Metrics {
  const counter = (name: string, help: string, labelNames: string[] = []) => ({
    inc(labels: Record<string, string> = {}, value = 1) {
      post({ type: 'metric', kind: 'counter', name, help, labelNames, labels, value });
    },
  });
  const unsupported = () => {
    throw new Error('only counters are forwarded from the delivery thread');
  };
  return { counter, histogram: unsupported, gauge: unsupported } as unknown as Metrics;
}

try {
  const config = data.config;
  const log = createLogger(config.logLevel).child({ thread: 'delivery' });
  const store = await openStore(config.databaseUrl, { migrate: false, sqliteWriteLock: data.sqliteWriteLock });
  const ctx: AppContext = { config, store, log, metrics: forwardedMetrics(), secret: Buffer.from(data.secret), clock: systemClock, nodeId: data.nodeId };
  const service = createWorkerService(ctx);
  await service.start();
  port.on('message', (m: ToThread) => {
    if (m.type === 'due') queueSignal(ctx).emit('due');
    else if (m.type === 'stop') {
      void (async () => {
        try {
          await service.stop();
          await store.close();
        } finally {
          post({ type: 'stopped' });
          port.close();
        }
      })();
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed', message: (err as Error)?.stack ?? String(err) });
}
