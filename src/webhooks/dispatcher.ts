// The webhook dispatcher (role worker): follows the events table by id (the cursor row in webhook_cursor),
// turns each event into delivery rows for the webhooks that want it, then makes the due attempts. Every
// step is a row in the store, so nothing pending is lost on a restart, and every claim is atomic, so
// several nodes can run it at once.
import type { AppContext } from '../app-context.ts';
import type { Role, Service } from '../server/service.ts';
import type { WebhookDeliveriesTable } from '../store/schema.ts';
import { contiguousPrefix, planDeliveries } from './fanout.ts';
import { classifyResult } from './schedule.ts';
import { sendWebhook } from './sender.ts';
import type { Resolver } from './ssrf.ts';
import { openSecret } from './signing.ts';

export interface DispatcherOptions {
  resolve?: Resolver;
  /** How long a missing event id (PostgreSQL: a transaction not yet committed) holds the cursor back. */
  gapGraceMs?: number;
  fanOutBatch?: number;
}

const dispatchers = new WeakMap<AppContext, WebhookDispatcher>();

/** The running dispatcher of this app, if it has one (the API nudges it after a test or replay). */
export function dispatcherOf(ctx: AppContext): WebhookDispatcher | undefined {
  return dispatchers.get(ctx);
}

export class WebhookDispatcher implements Service {
  readonly name = 'webhooks';
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly gapSince = new Map<number, number>();
  private readonly attempts;
  private readonly fannedOut;

  constructor(private readonly ctx: AppContext, private readonly opts: DispatcherOptions = {}) {
    // Defined once per app; a second dispatcher on the same app (tests) reuses them.
    const reg = ctx.metrics.registry;
    this.attempts = (reg.getSingleMetric('mailbeacon_webhook_attempts_total') as ReturnType<typeof ctx.metrics.counter> | undefined)
      ?? ctx.metrics.counter('mailbeacon_webhook_attempts_total', 'Webhook delivery attempts by outcome', ['outcome']);
    this.fannedOut = (reg.getSingleMetric('mailbeacon_webhook_deliveries_created_total') as ReturnType<typeof ctx.metrics.counter> | undefined)
      ?? ctx.metrics.counter('mailbeacon_webhook_deliveries_created_total', 'Webhook deliveries created from events');
  }

  async start(): Promise<void> {
    this.running = true;
    dispatchers.set(this.ctx, this);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.inFlight]);
    dispatchers.delete(this.ctx);
  }

  /** Look for work now instead of at the next poll. */
  kick(): void {
    if (!this.running) return;
    if (this.ticking) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number) {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        const soon = this.again;
        this.again = false;
        this.schedule(soon ? 0 : this.ctx.config.webhookPollInterval);
      });
    }, ms);
  }

  /** One round: fan out new events, then start due attempts up to the concurrency limit. */
  async tick(): Promise<void> {
    try {
      for (let i = 0; i < 20; i++) {
        const r = await this.fanOutOnce();
        if (!r || r.events < (this.opts.fanOutBatch ?? 500)) break;
      }
      await this.deliverDue();
    } catch (err) {
      this.ctx.log.error({ err, event: 'webhooks.tick_failed' }, 'webhook dispatcher round failed');
    }
  }

  /** Moves the cursor over one batch of events, creating their deliveries in the same transaction. */
  async fanOutOnce(): Promise<{ events: number; deliveries: number } | undefined> {
    const { store, clock } = this.ctx;
    const batch = this.opts.fanOutBatch ?? 500;
    const pg = store.dialect === 'postgres';
    const r = await store.webhooks.fanOut(batch, (events, webhooks, cursor, maxId) => {
      // Nothing subscribes: jump to the end instead of reading every event (a new webhook only gets events
      // newer than itself anyway).
      if (!webhooks.length) return { deliveries: [], lastId: Math.max(cursor, maxId) };
      const usable = pg ? contiguousPrefix(events, cursor, this.gapSince, Date.now(), this.opts.gapGraceMs ?? 5000) : events;
      const lastId = usable.length ? usable[usable.length - 1].id : cursor;
      return { deliveries: planDeliveries(usable, webhooks, clock.now()), lastId };
    });
    if (r?.deliveries) {
      this.fannedOut.inc(r.deliveries);
      this.ctx.log.debug({ event: 'webhooks.fanned_out', events: r.events, deliveries: r.deliveries }, 'events fanned out');
    }
    return r;
  }

  /** Claims due deliveries and starts their attempts (does not wait for them). Returns how many started. */
  async deliverDue(): Promise<number> {
    const free = this.ctx.config.webhookConcurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const now = this.ctx.clock.now();
    // The lease outlives the longest possible attempt, so it only runs out when the node died.
    const lease = now + this.ctx.config.webhookTimeout * 1000 + 5000;
    const claimed = await this.ctx.store.webhooks.claimDue(this.ctx.nodeId, now, lease, free);
    for (const d of claimed) {
      const p = this.attempt(d).catch((err) => this.ctx.log.error({ err, event: 'webhooks.attempt_failed', deliveryId: d.id }, 'attempt bookkeeping failed'));
      this.inFlight.add(p);
      p.finally(() => {
        this.inFlight.delete(p);
        this.kick();
      });
    }
    return claimed.length;
  }

  /** Waits for the attempts in flight (tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async attempt(d: WebhookDeliveriesTable): Promise<void> {
    const { store, clock, config, log, nodeId } = this.ctx;
    const w = await store.webhooks.getById(d.webhookId);
    if (!w) return;
    const startedAt = clock.now();
    const n = d.attempts + 1;
    let secret: string | undefined;
    try {
      secret = openSecret(this.ctx.secret, w.secretEnc);
    } catch {
      // Sealed under another master secret: record a failed attempt (the schedule dead-letters it) rather
      // than leaving the row leased forever.
    }
    const res = secret === undefined
      ? { error: 'cannot decrypt the webhook secret (was MAILBEACON_SECRET changed?)', durationMs: 0 }
      : await sendWebhook(
        { url: w.url, secret, body: d.payload, eventId: d.eventId, deliveryId: d.id, attempt: n, timestamp: Math.floor(startedAt / 1000) },
        { timeoutMs: config.webhookTimeout * 1000, allowPrivate: config.webhookAllowPrivate, resolve: this.opts.resolve },
      );
    const now = clock.now();
    const statusCode = 'statusCode' in res ? res.statusCode : undefined;
    const { outcome, nextAt } = classifyResult(statusCode, d.attempts, now);
    const status = outcome === 'success' ? 'succeeded' : outcome === 'retry' ? 'pending' : outcome;
    const ok = await store.webhooks.finishAttempt(
      nodeId,
      d.id,
      { status, attempts: n, nextAttemptAt: nextAt ?? d.nextAttemptAt, lastStatusCode: statusCode ?? null, lastError: res.error ?? null, completedAt: status === 'pending' ? null : now },
      { deliveryId: d.id, attempt: n, nodeId, startedAt, durationMs: res.durationMs, statusCode: statusCode ?? null, error: res.error ?? null, outcome },
    );
    this.attempts.inc({ outcome });
    if (outcome === 'gone') await store.webhooks.disable(w.id, 'the receiver answered 410 Gone', now);
    const level = outcome === 'success' ? 'info' : 'warn';
    log[level]({ event: `webhooks.${outcome}`, webhookId: w.id, deliveryId: d.id, eventId: d.eventId, attempt: n, status: statusCode, error: res.error, ms: res.durationMs, recorded: ok }, `webhook attempt: ${outcome}`);
  }
}

export function webhookDispatcherFactory(ctx: AppContext, roles: Set<Role>): Service | undefined {
  if (!roles.has('worker')) return undefined;
  return new WebhookDispatcher(ctx);
}
