// The retention purge deletes raw events past their domain's window and keeps the rollups (both dialects).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestStore } from '../helpers/dialects.ts';
import { RetentionPurge } from '../../src/tracking/retention-service.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { AppContext } from '../../src/app-context.ts';
import { seedCopies, seedDomain } from './helpers.ts';

const DAY = 86_400_000;

for (const dialect of DIALECTS) {
  describe(`retention purge (${dialect})`, () => {
    test('events older than retention_days go, newer ones and rollups stay; 0 keeps forever', async () => {
      const store = await createTestStore(dialect);
      try {
        const now = Date.UTC(2026, 5, 1);
        const { accountId } = await seedCopies(store, 0);
        const d7 = await seedDomain(store, accountId, { retentionDays: 7 });
        const dForever = await seedDomain(store, accountId, { retentionDays: 0 });
        const ev = (domainId: string | null, ageDays: number) => ({ accountId, domainId, type: 'open', createdAt: now - ageDays * DAY, isFirst: 0 });
        await store.db.kysely.insertInto('events').values([
          ev(d7, 8), ev(d7, 30), ev(d7, 6), ev(dForever, 400), ev(null, 91), ev(null, 89),
        ]).execute();
        await store.db.kysely.insertInto('rollupsHourly').values({ accountId, domainId: d7, hour: now - 30 * DAY, delivered: 0, opens: 5, uniqueOpens: 1, humanOpens: 5, machineOpens: 0, clicks: 0, uniqueClicks: 0 }).execute();
        const ctx = { store, clock: { now: () => now }, log: createLogger('silent') } as unknown as AppContext;
        const purge = new RetentionPurge(ctx);
        assert.equal(await purge.runOnce(), 3);
        const left = await store.db.kysely.selectFrom('events').select(['domainId', 'createdAt']).orderBy('id').execute();
        assert.deepEqual(left.map((e) => [e.domainId, (now - e.createdAt) / DAY]), [[d7, 6], [dForever, 400], [null, 89]]);
        assert.equal((await store.db.kysely.selectFrom('rollupsHourly').selectAll().executeTakeFirstOrThrow()).opens, 5);
        assert.equal(await purge.runOnce(), 0);
      } finally {
        await store.cleanup();
      }
    });
  });
}
