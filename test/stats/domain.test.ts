// The stats window and series building with plain values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStats, DAY, HOUR, statsWindow } from '../../src/stats/series.ts';
import { AppError } from '../../src/domain/errors.ts';

const NOW = Date.UTC(2026, 10, 26, 13, 20);

test('the window widens to whole buckets and has sensible defaults', () => {
  assert.deepEqual(statsWindow({}, NOW), { from: Date.UTC(2026, 9, 27), to: Date.UTC(2026, 10, 27), interval: 'day', bucketMs: DAY });
  assert.deepEqual(statsWindow({ interval: 'hour' }, NOW), { from: Date.UTC(2026, 10, 24, 13), to: Date.UTC(2026, 10, 26, 14), interval: 'hour', bucketMs: HOUR });
  assert.deepEqual(statsWindow({ from: '2026-11-01T05:30:00Z', to: '2026-11-02T00:00:00Z', interval: 'day' }, NOW), { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 2), interval: 'day', bucketMs: DAY });
  assert.throws(() => statsWindow({ interval: 'week' }, NOW), AppError);
  assert.throws(() => statsWindow({ from: '2026-11-02', to: '2026-11-01' }, NOW), AppError);
  assert.throws(() => statsWindow({ from: '2020-01-01', interval: 'hour' }, NOW), (e: AppError) => !!e.fields?.from);
});

test('series fill empty buckets with zeros; rates come from the totals (0 when nothing was delivered)', () => {
  const w = statsWindow({ from: '2026-11-01', to: '2026-11-04', interval: 'day' }, NOW);
  const s = buildStats([
    { t: Date.UTC(2026, 10, 1), delivered: 10, opens: 8, uniqueOpens: 4, humanOpens: 6, machineOpens: 2, clicks: 3, uniqueClicks: 2 },
    { t: Date.UTC(2026, 10, 3), delivered: 10, opens: 2, uniqueOpens: 2, humanOpens: 0, machineOpens: 2, clicks: 0, uniqueClicks: 0 },
  ], w);
  assert.deepEqual(s.series.map((p) => [p.t, p.delivered, p.uniqueOpens]), [['2026-11-01T00:00:00.000Z', 10, 4], ['2026-11-02T00:00:00.000Z', 0, 0], ['2026-11-03T00:00:00.000Z', 10, 2]]);
  assert.deepEqual(s.totals, { delivered: 20, opens: 10, uniqueOpens: 6, humanOpens: 6, machineOpens: 4, clicks: 3, uniqueClicks: 2, openRate: 0.3, humanOpenRate: 0.6, clickRate: 0.1 });
  const empty = buildStats([], w);
  assert.equal(empty.totals.openRate, 0);
  assert.equal(empty.totals.clickRate, 0);
  assert.equal(empty.totals.humanOpenRate, 0);
});
