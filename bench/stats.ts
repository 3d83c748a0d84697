// The 30-day stats query (what GET /api/v1/stats?domain=…&interval=day runs: StatsRepo.series over
// rollups_hourly, then buildStats) for a domain with BENCH_EVENTS raw events (default 10 million), on
// SQLite and on PostgreSQL. Events and rollups are generated inside the database (recursive CTE /
// generate_series), plus rollups for BENCH_DOMAINS other domains so the index has to do its job.
// Prints p50/p99 of the stats query beside an anchor from the same run: the same 30-day totals computed
// from the raw events (what the rollups save). Goal: p50 < 50 ms.
//
//   node --import tsx bench/stats.ts                      # BENCH_EVENTS=10000000 BENCH_DOMAINS=200 BENCH_RUNS=200
//   BENCH_DIALECTS=sqlite BENCH_EVENTS=1000000 node --import tsx bench/stats.ts
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/store/store.ts';
import { createTestDatabase } from '../test/helpers/dialects.ts';
import { buildStats, statsWindow } from '../src/stats/series.ts';
import type { DialectName } from '../src/store/database.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const ANCHOR_RUNS = Number(process.env.BENCH_ANCHOR_RUNS ?? 3);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as DialectName[];
const HOUR = 3_600_000;
const ACCOUNT = 'acc_bench';
const DOMAIN = 'dom_bench';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function seed(store: Store, dialect: DialectName, now: number) {
  const db = store.db.kysely;
  const start = Math.floor(now / HOUR) * HOUR - 30 * 24 * HOUR;
  const span = 30 * 24 * HOUR;
  await db.insertInto('accounts').values({ id: ACCOUNT, name: 'bench', sendingMode: 'any', createdAt: now }).execute();
  // Raw events: opens spread over 30 days for the benchmarked domain, generated in the database.
  const t0 = performance.now();
  if (dialect === 'sqlite') {
    await sql`insert into events (account_id, domain_id, message_id, copy_id, type, created_at, recipient, ip, user_agent, classification, reason, is_first)
      with recursive n(i) as (select 0 union all select i + 1 from n where i < ${EVENTS - 1})
      select ${ACCOUNT}, ${DOMAIN}, 'msg_' || (i / 4), 'cpy_' || (i / 2), 'open', ${start} + (i * ${Math.floor(span / EVENTS)}), 'r' || (i / 2) || '@example.net',
             '192.0.2.1', 'Mozilla/5.0', case when i % 3 = 0 then 'machine' else 'human' end, 'client', i % 2
      from n`.execute(db);
  } else {
    await sql`insert into events (account_id, domain_id, message_id, copy_id, type, created_at, recipient, ip, user_agent, classification, reason, is_first)
      select ${ACCOUNT}, ${DOMAIN}, 'msg_' || (i / 4), 'cpy_' || (i / 2), 'open', ${start}::bigint + (i::bigint * ${Math.floor(span / EVENTS)}), 'r' || (i / 2) || '@example.net',
             '192.0.2.1', 'Mozilla/5.0', case when i % 3 = 0 then 'machine' else 'human' end, 'client', i % 2
      from generate_series(0, ${EVENTS - 1}) as g(i)`.execute(db);
  }
  const eventsSec = (performance.now() - t0) / 1000;
  // Rollups: the benchmarked domain's hours match its events; other domains add realistic table size.
  const hours = 30 * 24;
  const per = Math.floor(EVENTS / hours);
  const t1 = performance.now();
  const series = dialect === 'sqlite'
    ? sql`with recursive d(j) as (select 0 union all select j + 1 from d where j < ${DOMAINS}), h(k) as (select 0 union all select k + 1 from h where k < ${hours - 1})`
    : sql``;
  if (dialect === 'sqlite') {
    await sql`insert into rollups_hourly (account_id, domain_id, hour, delivered, opens, unique_opens, human_opens, machine_opens, clicks, unique_clicks)
      ${series}
      select case when j = 0 then ${ACCOUNT} else 'acc_' || (j % 50) end, case when j = 0 then ${DOMAIN} else 'dom_' || j end, ${start} + k * ${HOUR},
             ${per}, ${per}, ${Math.floor(per / 2)}, ${Math.floor((per * 2) / 3)}, ${Math.ceil(per / 3)}, 0, 0
      from d, h`.execute(db);
  } else {
    await sql`insert into rollups_hourly (account_id, domain_id, hour, delivered, opens, unique_opens, human_opens, machine_opens, clicks, unique_clicks)
      select case when j = 0 then ${ACCOUNT} else 'acc_' || (j % 50) end, case when j = 0 then ${DOMAIN} else 'dom_' || j end, ${start}::bigint + k::bigint * ${HOUR},
             ${per}, ${per}, ${Math.floor(per / 2)}, ${Math.floor((per * 2) / 3)}, ${Math.ceil(per / 3)}, 0, 0
      from generate_series(0, ${DOMAINS}) as d(j), generate_series(0, ${hours - 1}) as h(k)`.execute(db);
    await sql`analyze`.execute(db);
  }
  if (dialect === 'sqlite') await sql`analyze`.execute(db);
  return { eventsSec, rollupsSec: (performance.now() - t1) / 1000 };
}

async function bench(dialect: DialectName) {
  const tdb = await createTestDatabase(dialect);
  const store = await openStore(tdb.url);
  try {
    const now = Date.now();
    const seeded = await seed(store, dialect, now);
    const w = statsWindow({ interval: 'day' }, now, 30 * 24 * HOUR);
    const query = async () => buildStats(await store.stats.series({ accountId: ACCOUNT, domainId: DOMAIN, from: w.from, to: w.to }, w.bucketMs), w);
    const check = await query();
    for (let i = 0; i < 10; i++) await query(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await query();
      times.push(performance.now() - t);
    }
    // Anchor: the same totals from the raw events.
    const anchor: number[] = [];
    for (let i = 0; i < ANCHOR_RUNS; i++) {
      const t = performance.now();
      await sql`select count(*) as opens, sum(is_first) as unique_opens from events where account_id = ${ACCOUNT} and domain_id = ${DOMAIN} and type = 'open' and created_at >= ${w.from} and created_at < ${w.to}`.execute(store.db.kysely);
      anchor.push(performance.now() - t);
    }
    const total = (check as any).totals?.opens;
    console.log(`${dialect.padEnd(8)} events ${EVENTS.toLocaleString('en')} (seeded in ${seeded.eventsSec.toFixed(0)} s), rollup rows ${((DOMAINS + 1) * 720).toLocaleString('en')}, 30-day opens ${total}`);
    console.log(`${dialect.padEnd(8)} stats query p50 ${ms(pct(times, 50))}  p99 ${ms(pct(times, 99))}  (${RUNS} runs; goal p50 < 50 ms)   anchor: same totals from raw events p50 ${ms(pct(anchor, 50))}`);
  } finally {
    await store.close();
    await tdb.cleanup();
  }
}

for (const d of DIALECTS) await bench(d);
