// Stats from the rollup tables only (never raw events): hourly counters summed into hour or day buckets,
// and the per-dimension breakdown (client, os, device, reason).
import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { RollupsHourlyTable } from './schema.ts';

export interface StatsRange {
  accountId: string;
  /** undefined: every domain (and mail without one). */
  domainId?: string;
  from: number;
  to: number;
}

/** One bucket of the series: the rollup counters, summed over the bucket starting at t. */
export type SeriesRow = { t: number } & Omit<RollupsHourlyTable, 'accountId' | 'domainId' | 'hour'>;

export interface BreakdownRow {
  value: string;
  opens: number;
  humanOpens: number;
  machineOpens: number;
  clicks: number;
}

export class StatsRepo {
  constructor(private readonly db: Db) {}

  /** Sums per bucket of `bucketMs` (buckets start at multiples of bucketMs since the epoch, i.e. UTC). */
  async series(r: StatsRange, bucketMs: number): Promise<SeriesRow[]> {
    if (!Number.isInteger(bucketMs) || bucketMs <= 0) throw new Error('bad bucket');
    // A literal, not a parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
    const bucket = sql<number>`(hour - (hour % ${sql.lit(bucketMs)}))`;
    let q = this.db.kysely.selectFrom('rollupsHourly')
      .select([
        bucket.as('t'),
        (eb) => eb.fn.sum<number>('delivered').as('delivered'),
        (eb) => eb.fn.sum<number>('opens').as('opens'),
        (eb) => eb.fn.sum<number>('uniqueOpens').as('uniqueOpens'),
        (eb) => eb.fn.sum<number>('humanOpens').as('humanOpens'),
        (eb) => eb.fn.sum<number>('machineOpens').as('machineOpens'),
        (eb) => eb.fn.sum<number>('clicks').as('clicks'),
        (eb) => eb.fn.sum<number>('uniqueClicks').as('uniqueClicks'),
      ])
      .where('accountId', '=', r.accountId)
      .where('hour', '>=', r.from)
      .where('hour', '<', r.to);
    if (r.domainId !== undefined) q = q.where('domainId', '=', r.domainId);
    const rows = await q.groupBy(bucket).orderBy(bucket).execute();
    return rows.map((x) => ({
      t: Number(x.t), delivered: Number(x.delivered), opens: Number(x.opens), uniqueOpens: Number(x.uniqueOpens),
      humanOpens: Number(x.humanOpens), machineOpens: Number(x.machineOpens), clicks: Number(x.clicks), uniqueClicks: Number(x.uniqueClicks),
    }));
  }

  async breakdown(r: StatsRange, dimension: string, limit = 100): Promise<BreakdownRow[]> {
    let q = this.db.kysely.selectFrom('rollupsBreakdown')
      .select([
        'value',
        (eb) => eb.fn.sum<number>('opens').as('opens'),
        (eb) => eb.fn.sum<number>('humanOpens').as('humanOpens'),
        (eb) => eb.fn.sum<number>('machineOpens').as('machineOpens'),
        (eb) => eb.fn.sum<number>('clicks').as('clicks'),
      ])
      .where('accountId', '=', r.accountId)
      .where('dimension', '=', dimension)
      .where('hour', '>=', r.from)
      .where('hour', '<', r.to);
    if (r.domainId !== undefined) q = q.where('domainId', '=', r.domainId);
    const rows = await q.groupBy('value').orderBy(sql`sum(opens)`, 'desc').orderBy(sql`sum(clicks)`, 'desc').orderBy('value').limit(limit).execute();
    return rows.map((x) => ({ value: x.value, opens: Number(x.opens), humanOpens: Number(x.humanOpens), machineOpens: Number(x.machineOpens), clicks: Number(x.clicks) }));
  }
}
