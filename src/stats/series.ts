// Time series and totals from summed rollup rows (pure): buckets aligned to UTC hours or days, empty
// buckets filled with zeros, rates computed from the totals.
import { invalid } from '../domain/errors.ts';
import { parseTime } from '../events/filters.ts';
import type { SeriesRow } from '../store/stats-repo.ts';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const MAX_BUCKETS = 5000;

export type Interval = 'hour' | 'day';

export interface StatsWindow {
  from: number;
  to: number;
  interval: Interval;
  bucketMs: number;
}

/**
 * from/to (ISO-8601 or epoch ms; from inclusive, to exclusive) widened to whole buckets. Defaults: to = now,
 * from = 30 days before to (interval day) or 48 hours (interval hour); interval defaults to day.
 */
export function statsWindow(q: { from?: string; to?: string; interval?: string }, now: number, defaultSpanMs?: number): StatsWindow {
  const interval = (q.interval ?? 'day') as Interval;
  if (interval !== 'hour' && interval !== 'day') throw invalid('interval must be hour or day', { interval: 'expected hour or day' });
  const bucketMs = interval === 'hour' ? HOUR : DAY;
  const toRaw = q.to ? parseTime(q.to, 'to') : now;
  const fromRaw = q.from ? parseTime(q.from, 'from') : toRaw - (defaultSpanMs ?? (interval === 'hour' ? 48 * HOUR : 30 * DAY));
  if (fromRaw >= toRaw) throw invalid('from must be before to', { from: 'must be before to' });
  const from = Math.floor(fromRaw / bucketMs) * bucketMs;
  const to = Math.ceil(toRaw / bucketMs) * bucketMs;
  if ((to - from) / bucketMs > MAX_BUCKETS) throw invalid(`at most ${MAX_BUCKETS} buckets per request`, { from: `range too long for interval ${interval}` });
  return { from, to, interval, bucketMs };
}

const COUNTERS = ['delivered', 'opens', 'uniqueOpens', 'humanOpens', 'machineOpens', 'clicks', 'uniqueClicks'] as const;

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10000) / 10000 : 0);

export function buildStats(rows: SeriesRow[], w: StatsWindow) {
  const byT = new Map(rows.map((r) => [r.t, r]));
  const series: (Omit<SeriesRow, 't'> & { t: string })[] = [];
  const totals = { delivered: 0, opens: 0, uniqueOpens: 0, humanOpens: 0, machineOpens: 0, clicks: 0, uniqueClicks: 0 };
  for (let t = w.from; t < w.to; t += w.bucketMs) {
    const r = byT.get(t);
    const point = { t: new Date(t).toISOString(), delivered: 0, opens: 0, uniqueOpens: 0, humanOpens: 0, machineOpens: 0, clicks: 0, uniqueClicks: 0 };
    if (r) for (const k of COUNTERS) point[k] = r[k];
    for (const k of COUNTERS) totals[k] += point[k];
    series.push(point);
  }
  return {
    from: new Date(w.from).toISOString(),
    to: new Date(w.to).toISOString(),
    interval: w.interval,
    series,
    totals: {
      ...totals,
      /** unique opens / delivered */
      openRate: ratio(totals.uniqueOpens, totals.delivered),
      /** human opens / all opens: the share of opens made by people */
      humanOpenRate: ratio(totals.humanOpens, totals.opens),
      /** unique clicks / delivered */
      clickRate: ratio(totals.uniqueClicks, totals.delivered),
    },
  };
}
