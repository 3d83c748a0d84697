// The outbound path's own tables: the envelope sender of each message, every delivery attempt, and the
// outbox (the exact bytes handed to the "outbox" relay, served by GET /api/v1/outbox/{id}/raw).
import type { MigrationContext } from './column-types.ts';
import { addSerialId, colTypes } from './column-types.ts';

export async function up({ db, dialect }: MigrationContext): Promise<void> {
  const t = colTypes(dialect);
  // The envelope sender (MAIL FROM / API envelope.from) can differ from the From: header (bounces go here).
  await db.schema.alterTable('messages').addColumn('mail_from', 'text').execute();
  let attempts = db.schema.createTable('delivery_attempts');
  attempts = addSerialId(attempts, dialect);
  await attempts
    .addColumn('copy_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', t.bigint, (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    /** delivered | deferred | bounced */
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('smtp_code', 'integer')
    .addColumn('response', 'text')
    .addColumn('relay', 'text', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('delivery_attempts_copy_ix').on('delivery_attempts').columns(['copy_id', 'id']).execute();
  await db.schema.createIndex('delivery_attempts_message_ix').on('delivery_attempts').columns(['message_id']).execute();
  await db.schema.createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('copy_id', 'text', (c) => c.notNull())
    .addColumn('mail_from', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('raw', t.blob, (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbox_account_id_ix').on('outbox').columns(['account_id', 'id']).execute();
  await db.schema.createIndex('outbox_copy_ix').on('outbox').columns(['copy_id']).execute();
  await db.schema.createIndex('messages_account_id_ix').on('messages').columns(['account_id', 'id']).execute();
}
