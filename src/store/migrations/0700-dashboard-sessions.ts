// Dashboard login sessions. The cookie carries a random token; only its SHA-256 is stored (the id), so a
// leaked database does not hand out live sessions. Each session has its own CSRF token.
import type { MigrationContext } from './column-types.ts';
import { colTypes } from './column-types.ts';

export async function up({ db, dialect }: MigrationContext): Promise<void> {
  const t = colTypes(dialect);
  await db.schema.createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('expires_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_ix').on('sessions').columns(['user_id']).execute();
  await db.schema.createIndex('sessions_expires_ix').on('sessions').columns(['expires_at']).execute();
}
