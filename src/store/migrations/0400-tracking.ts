// Tracking: per-dimension hourly rollups (client, os, device, reason) beside rollups_hourly, updated in the
// same transaction as the open/click events, so the stats API never scans raw events for breakdowns.
// Also an index that lets "is this the first open of the copy" and the retention purge stay cheap.
import type { MigrationContext } from './column-types.ts';
import { colTypes } from './column-types.ts';

export async function up({ db, dialect }: MigrationContext): Promise<void> {
  const t = colTypes(dialect);
  await db.schema.createTable('rollups_breakdown')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'text', (c) => c.notNull())
    .addColumn('hour', t.bigint, (c) => c.notNull())
    .addColumn('dimension', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('human_opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('machine_opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('clicks', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('rollups_breakdown_pk', ['account_id', 'domain_id', 'hour', 'dimension', 'value'])
    .execute();
  await db.schema.createIndex('events_domain_created_ix').on('events').columns(['domain_id', 'created_at']).execute();
}
