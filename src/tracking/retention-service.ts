// Privacy: purges raw events older than their domain's retention window (domains.retention_days; 0 keeps
// them forever). Rollups are separate tables and stay, so stats keep their history. Runs on worker nodes,
// once shortly after start and then every hour; deletes in chunks so it never holds a long write lock.
import type { AppContext } from '../app-context.ts';
import type { Role, Service } from '../server/service.ts';

const DAY = 86_400_000;
/** Events without a domain row (mail sent in "any" mode) are kept as long as a domain's default. */
export const DEFAULT_RETENTION_DAYS = 90;

export class RetentionPurge implements Service {
  readonly name = 'tracking-retention';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly ctx: AppContext, private readonly intervalMs = 3_600_000, private readonly firstRunMs = 30_000) {}

  async start(): Promise<void> {
    const tick = () => {
      this.runOnce().catch((e) => this.ctx.log.error({ event: 'tracking.retention_failed', err: e }, 'retention purge failed'));
      this.timer = setTimeout(tick, this.intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.firstRunMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over every domain; returns how many events were deleted. */
  runOnce(): Promise<number> {
    return (this.running ??= this.purge().finally(() => (this.running = undefined)));
  }

  private async purge(): Promise<number> {
    const repo = this.ctx.store.tracking;
    const now = this.ctx.clock.now();
    const targets: { id: string | null; days: number }[] = (await repo.retentionByDomain()).map((d) => ({ id: d.id, days: d.retentionDays }));
    targets.push({ id: null, days: DEFAULT_RETENTION_DAYS });
    let total = 0;
    for (const t of targets) {
      if (!(t.days > 0)) continue;
      const before = now - t.days * DAY;
      for (;;) {
        const n = await repo.purgeEvents(t.id, before, 5000);
        total += n;
        if (n < 5000) break;
      }
    }
    if (total) this.ctx.log.info({ event: 'tracking.retention_purged', events: total }, 'purged raw events past their retention');
    return total;
  }
}

export function retentionServiceFactory(ctx: AppContext, roles: Set<Role>): Service | undefined {
  return roles.has('worker') ? new RetentionPurge(ctx) : undefined;
}
