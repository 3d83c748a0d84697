import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { loadOrCreateSecret } from '../config/master-secret.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { openStore } from '../store/store.ts';
import { systemClock, type AppContext, type Clock } from '../app-context.ts';

export interface ContextOptions {
  log?: Logger;
  clock?: Clock;
  migrate?: boolean;
}

export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const log = opts.log ?? createLogger(config.logLevel);
  const secret = loadOrCreateSecret(config.secret, path.resolve(config.dataDir));
  const store = await openStore(config.databaseUrl, { migrate: opts.migrate });
  return {
    config,
    store,
    log,
    metrics: createMetrics(),
    secret,
    clock: opts.clock ?? systemClock,
    nodeId: `${process.pid}-${randomBytes(4).toString('hex')}`,
  };
}
