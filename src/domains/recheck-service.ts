// Worker service: re-checks domains' DNS records and tracking domains' CNAMEs every
// MAILBEACON_DOMAIN_RECHECK_INTERVAL seconds, and orders missing or expiring certificates. A domain that
// loses its records stops being tracked; a tracking CNAME that dangles stops being served.
import type { AppContext } from '../app-context.ts';
import type { Role, Service } from '../server/service.ts';
import { verifyDomain, verifyTrackingDomain } from './verification.ts';
import { renewDueCertificates } from './acme.ts';

export class DomainRecheckService implements Service {
  readonly name = 'domain-recheck';
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly ctx: AppContext) {}

  async start(): Promise<void> {
    const every = Math.min(this.ctx.config.domainRecheckInterval * 1000, 60_000);
    this.timer = setInterval(() => { void this.tick(); }, every);
    this.timer.unref();
    void this.tick();
  }

  /** One pass; overlapping calls share the pass in flight. Exposed for tests and the CLI. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return (this.running ??= this.pass().finally(() => { this.running = undefined; }));
  }

  private async pass(): Promise<void> {
    const { ctx } = this;
    const before = ctx.clock.now() - ctx.config.domainRecheckInterval * 1000;
    try {
      for (const d of await ctx.store.domains.dueForCheck(before)) {
        if (this.stopped) return;
        await verifyDomain(ctx, d, { periodic: true });
      }
      for (const td of await ctx.store.trackingDomains.dueForCheck(before)) {
        if (this.stopped) return;
        await verifyTrackingDomain(ctx, td, { periodic: true });
      }
      if (!this.stopped) await renewDueCertificates(ctx);
    } catch (err) {
      ctx.log.error({ event: 'domains.recheck_failed', err }, 'domain re-check pass failed');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}

export function domainRecheckService(ctx: AppContext, roles: Set<Role>): Service | undefined {
  return roles.has('worker') ? new DomainRecheckService(ctx) : undefined;
}
