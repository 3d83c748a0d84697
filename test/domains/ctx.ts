// An AppContext over a test store (both dialects), for service-level domain tests.
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { AppContext, Clock } from '../../src/app-context.ts';
import type { Store } from '../../src/store/store.ts';

export function contextFor(store: Store, env: Record<string, string> = {}, clock?: Clock): AppContext {
  const config = loadConfig({ MAILBEACON_DATABASE_URL: 'sqlite::memory:', MAILBEACON_LOG_LEVEL: 'silent', ...env });
  return {
    config,
    store,
    log: createLogger('silent'),
    metrics: createMetrics(),
    secret: Buffer.alloc(32, 7),
    clock: clock ?? { now: () => Date.now() },
    nodeId: 'test-node',
  };
}
