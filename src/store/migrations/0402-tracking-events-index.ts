// Drops events_domain_created_ix (from 0400): every pixel load pays for each index on events, and the
// retention purge does as well with events_created_ix (range on created_at, filter on domain_id).
import type { MigrationContext } from './column-types.ts';

export async function up({ db }: MigrationContext): Promise<void> {
  await db.schema.dropIndex('events_domain_created_ix').ifExists().execute();
}
