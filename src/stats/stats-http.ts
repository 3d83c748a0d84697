// GET /api/v1/stats (time series + totals) and GET /api/v1/stats/breakdown, both from rollups only.
import type { HttpFeature } from '../http/http-feature.ts';
import { accountOf } from '../http/auth.ts';
import { resolveDomainParam } from '../events/domain-param.ts';
import { buildStats, DAY, statsWindow } from './series.ts';

interface StatsQuery {
  domain?: string;
  from?: string;
  to?: string;
  interval?: string;
}

const rangeProps = {
  domain: { type: 'string', description: 'Domain id or domain name (default: every domain)' },
  from: { type: 'string', description: 'ISO-8601 time or epoch ms, inclusive (widened to the bucket start)' },
  to: { type: 'string', description: 'ISO-8601 time or epoch ms, exclusive (widened to the bucket end); default now' },
} as const;

export const BREAKDOWN_DIMENSIONS = ['client', 'os', 'device', 'reason'] as const;

export const statsFeature: HttpFeature = {
  name: 'stats',
  api(api, ctx) {
    api.get<{ Querystring: StatsQuery }>(
      '/stats',
      {
        schema: {
          tags: ['stats'],
          summary: 'Delivered, opens, clicks per hour or day, with totals and rates',
          querystring: { type: 'object', properties: { ...rangeProps, interval: { type: 'string', enum: ['hour', 'day'], default: 'day' } } },
        },
      },
      async (req) => {
        const accountId = accountOf(req);
        const w = statsWindow(req.query, ctx.clock.now());
        const domainId = req.query.domain ? await resolveDomainParam(ctx.store, accountId, req.query.domain) : undefined;
        const rows = await ctx.store.stats.series({ accountId, domainId, from: w.from, to: w.to }, w.bucketMs);
        return buildStats(rows, w);
      },
    );

    api.get<{ Querystring: StatsQuery & { by: string } }>(
      '/stats/breakdown',
      {
        schema: {
          tags: ['stats'],
          summary: 'Opens and clicks by mail client, OS, device or classification reason',
          querystring: { type: 'object', required: ['by'], properties: { ...rangeProps, by: { type: 'string', enum: [...BREAKDOWN_DIMENSIONS] } } },
        },
      },
      async (req) => {
        const accountId = accountOf(req);
        // Breakdown rows are hourly: the range is widened to whole hours; default the last 30 days.
        const w = statsWindow({ from: req.query.from, to: req.query.to, interval: 'hour' }, ctx.clock.now(), 30 * DAY);
        const domainId = req.query.domain ? await resolveDomainParam(ctx.store, accountId, req.query.domain) : undefined;
        const data = await ctx.store.stats.breakdown({ accountId, domainId, from: w.from, to: w.to }, req.query.by);
        return { by: req.query.by, from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), data };
      },
    );
  },
};
