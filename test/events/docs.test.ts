// The curl examples in docs/events-and-stats.md run against a real server and answer as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestServer } from '../helpers/test-server.ts';
import { createDomain } from '../../src/domains/domain-service.ts';
import { insertEvents, insertRollup } from '../helpers/events.ts';

test('every curl example in docs/events-and-stats.md works', async () => {
  const md = fs.readFileSync('docs/events-and-stats.md', 'utf8');
  const urls = [...md.matchAll(/curl -s '(http:\/\/localhost:8080[^']+)'/g)].map((m) => m[1]);
  assert.ok(urls.length >= 4, `found ${urls.length} examples`);
  const s = await startTestServer({ roles: ['http'], clock: { now: () => Date.UTC(2026, 10, 26, 13) } });
  try {
    const acc = await s.account();
    await createDomain(s.server.ctx, acc.accountId, 'example.com', 'manual_dns');
    await insertEvents(s.server.ctx.store, [{ accountId: acc.accountId, type: 'open', classification: 'human', createdAt: Date.UTC(2026, 10, 21) }]);
    await insertRollup(s.server.ctx.store, { accountId: acc.accountId, hour: Date.UTC(2026, 10, 21, 9), delivered: 4, opens: 2, uniqueOpens: 1 });
    for (const u of urls) {
      const url = u.replace('http://localhost:8080', s.baseUrl);
      const r = await fetch(url, { headers: { authorization: `Bearer ${acc.apiKey}` } });
      const body = await r.text();
      assert.equal(r.status, 200, `${u}: ${body}`);
      const path = new URL(url).pathname;
      if (path.endsWith('/events')) assert.deepEqual(Object.keys(JSON.parse(body)), ['data', 'hasMore', 'nextCursor']);
      if (path.endsWith('/stats')) assert.deepEqual(Object.keys(JSON.parse(body)), ['from', 'to', 'interval', 'series', 'totals']);
      if (path.endsWith('/stats/breakdown')) assert.deepEqual(Object.keys(JSON.parse(body)), ['by', 'from', 'to', 'data']);
      if (path.endsWith('/export') && url.includes('format=csv')) {
        const documented = /\(header `([^`]+)`/.exec(md)![1].replace(/\s+/g, '');
        assert.equal(body.split('\r\n')[0], documented, 'the documented CSV header');
      }
    }
  } finally {
    await s.stop();
  }
});
