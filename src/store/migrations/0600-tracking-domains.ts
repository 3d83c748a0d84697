// Custom tracking domains: one active hostname per sending domain (CNAME to the default tracking host),
// kept after deletion (retired) so mail already sent keeps working, with its ACME certificate.
import type { MigrationContext } from './column-types.ts';
import { colTypes } from './column-types.ts';

export async function up({ db, dialect }: MigrationContext): Promise<void> {
  const t = colTypes(dialect);
  await db.schema.createTable('tracking_domains')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // No foreign key to domains: a retired tracking domain outlives its sending domain row.
    .addColumn('domain_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('hostname', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('cert_pem', 'text')
    .addColumn('key_pem', 'text')
    .addColumn('cert_expires_at', t.bigint)
    .addColumn('cert_status', 'text', (c) => c.notNull().defaultTo('none'))
    .addColumn('cert_error', 'text')
    .addColumn('cert_attempt_at', t.bigint)
    .addColumn('https', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retired_at', t.bigint)
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('verified_at', t.bigint)
    .addColumn('last_checked_at', t.bigint)
    .execute();
  await db.schema.createIndex('tracking_domains_domain_idx').on('tracking_domains').columns(['domain_id']).execute();
}
