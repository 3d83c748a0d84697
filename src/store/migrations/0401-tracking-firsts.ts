// The first open and first click of each recipient copy, claimed with INSERT … ON CONFLICT DO NOTHING in the
// event batch's transaction: the insert that wins marks the event `is_first` (unique opens/clicks), atomically
// across nodes sharing one PostgreSQL, and it survives the retention purge of raw events.
import type { MigrationContext } from './column-types.ts';
import { colTypes } from './column-types.ts';

export async function up({ db, dialect }: MigrationContext): Promise<void> {
  const t = colTypes(dialect);
  await db.schema.createTable('tracking_firsts')
    .addColumn('copy_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', t.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('tracking_firsts_pk', ['copy_id', 'kind'])
    .execute();
}
