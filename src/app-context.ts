// What every adapter (HTTP, SMTP, worker, tracking) is given: config, store, logger, metrics, the signing
// secret and a clock. Passed explicitly, never imported as a singleton, so tests build their own.
import type { Config } from './config/schema.ts';
import type { Store } from './store/store.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface AppContext {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  /** The master secret; feature keys (tokens, sessions, webhooks) are derived from it with HKDF. */
  secret: Buffer;
  clock: Clock;
  /** Unique per running process: used for queue claims and logs. */
  nodeId: string;
}
