// The export streams any number of events in constant memory: one million events (generated in SQL on
// SQLite) come out as NDJSON while the process's RSS stays within a fixed bound; a smaller CSV export on
// PostgreSQL checks the same path there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { sql } from 'kysely';
import { startTestServer } from '../helpers/test-server.ts';

const N = 1_000_000;

// A full garbage collection on demand (without starting node with --expose-gc), so the test can measure the
// live heap rather than garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};
const T = Date.UTC(2026, 10, 1);

/** Counts newline bytes as the body streams in (no decoding of the whole export); keeps the first and last line. */
async function countLines(res: Response, onChunk: () => void): Promise<{ lines: number; firstLine: string; lastLine: string }> {
  const reader = res.body!.getReader();
  let lines = 0;
  let head: Buffer | undefined;
  let tail = Buffer.alloc(0);
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) lines++;
    head ??= Buffer.from(value.subarray(0, 4096));
    tail = Buffer.concat([tail, value]).subarray(-4096);
    onChunk();
  }
  const lastLines = tail.toString('utf8').split('\n');
  return { lines, firstLine: head!.toString('utf8').split('\n')[0], lastLine: lastLines[lastLines.length - 2] };
}

test('1,000,000 events export as NDJSON with bounded memory (SQLite)', { timeout: 290_000 }, async () => {
  const s = await startTestServer({ dialect: 'sqlite', roles: ['http'] });
  try {
    const acc = await s.account();
    const db = s.server.ctx.store.db.sqlite!;
    const t0 = Date.now();
    db.prepare(`
      with recursive c(n) as (select 1 union all select n + 1 from c where n < ${N})
      insert into events (account_id, message_id, type, created_at, recipient, ip, user_agent, client_name, os, device, classification, is_first)
      select ?, 'msg_' || (n / 10), case n % 3 when 0 then 'open' when 1 then 'click' else 'delivered' end, ? + n,
             'r' || n || '@example.org', '203.0.113.' || (n % 250), 'Mozilla/5.0 (X11; Linux x86_64) Thunderbird/115.0', 'Thunderbird', 'Linux', 'desktop', 'human', 0
      from c`).run(acc.accountId, T);
    const insertMs = Date.now() - t0;
    const base = process.memoryUsage().rss;
    const baseHeap = liveHeap();
    let peak = base;
    let peakHeap = baseHeap;
    const t1 = Date.now();
    const res = await fetch(`${s.baseUrl}/api/v1/events/export?format=ndjson`, { headers: { authorization: `Bearer ${acc.apiKey}` } });
    assert.equal(res.status, 200);
    let chunks = 0;
    const out = await countLines(res, () => {
      if (++chunks % 50 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      if (chunks % 1000 === 0) peakHeap = Math.max(peakHeap, liveHeap());
    });
    peak = Math.max(peak, process.memoryUsage().rss);
    const exportMs = Date.now() - t1;
    const growthMb = (peak - base) / 1048576;
    const heapGrowthMb = (peakHeap - baseHeap) / 1048576;
    console.log(`# inserted ${N} events in ${insertMs} ms; exported in ${exportMs} ms (${chunks} chunks); RSS ${Math.round(base / 1048576)} MB -> peak ${Math.round(peak / 1048576)} MB (+${growthMb.toFixed(0)} MB); live heap +${heapGrowthMb.toFixed(1)} MB at most`);
    assert.equal(out.lines, N, 'every event exactly once');
    assert.equal(JSON.parse(out.firstLine).id, 'evt_1');
    assert.equal(JSON.parse(out.lastLine).id, `evt_${N}`);
    // The export is ~450 MB of NDJSON: buffering even a tenth of it would blow these bounds. The live heap
    // (after a full GC) is the honest measure; RSS also holds garbage the GC has not returned yet.
    assert.ok(heapGrowthMb < 40, `live heap grew by ${heapGrowthMb.toFixed(1)} MB`);
    assert.ok(growthMb < 300, `RSS grew by ${growthMb.toFixed(0)} MB`);
  } finally {
    await s.stop();
  }
});

test('CSV export on PostgreSQL pages through every row', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ dialect: 'postgres', roles: ['http'] });
  try {
    const acc = await s.account();
    const n = 25_000;
    await sql`insert into events (account_id, type, created_at, recipient, classification, is_first)
      select ${acc.accountId}, case when g % 2 = 0 then 'open' else 'click' end, ${T}::bigint + g, 'r' || g || '@example.org', 'human', 0
      from generate_series(1, ${n}) g`.execute(s.server.ctx.store.db.kysely);
    const res = await fetch(`${s.baseUrl}/api/v1/events/export?format=csv&type=open`, { headers: { authorization: `Bearer ${acc.apiKey}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    const rows = text.split('\r\n').filter(Boolean);
    assert.equal(rows.length, 1 + n / 2);
    assert.equal(new Set(rows).size, rows.length);
  } finally {
    await s.stop();
  }
});
