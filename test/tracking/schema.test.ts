// The tracking tables exist on both dialects with the shape the stats API codes against.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestStore } from '../helpers/dialects.ts';

for (const dialect of DIALECTS) {
  describe(`tracking schema (${dialect})`, () => {
    test('rollups_breakdown upserts by (account, domain, hour, dimension, value)', async () => {
      const store = await createTestStore(dialect);
      try {
        const db = store.db.kysely;
        const row = { accountId: 'a1', domainId: '', hour: 1_700_000_000_000, dimension: 'client', value: 'Apple Mail', opens: 1, humanOpens: 0, machineOpens: 1, clicks: 0 };
        for (let i = 0; i < 2; i++) {
          await db.insertInto('rollupsBreakdown').values(row)
            .onConflict((oc) => oc.columns(['accountId', 'domainId', 'hour', 'dimension', 'value']).doUpdateSet((eb) => ({ opens: eb('rollupsBreakdown.opens', '+', eb.ref('excluded.opens')) })))
            .execute();
        }
        const rows = await db.selectFrom('rollupsBreakdown').selectAll().execute();
        assert.equal(rows.length, 1);
        assert.equal(rows[0].opens, 2);
        assert.equal(rows[0].hour, 1_700_000_000_000);
      } finally {
        await store.cleanup();
      }
    });
  });
}
