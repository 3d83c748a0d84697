// The core tables every feature builds on: tenants and their credentials, domains, messages and their
// per-recipient copies, events and hourly rollups.
import type { MigrationContext } from './column-types.ts';
import { addSerialId, colTypes } from './column-types.ts';

export async function up({ db, dialect }: MigrationContext): Promise<void> {
  const t = colTypes(dialect);
  await db.schema.createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sending_mode', 'text', (c) => c.notNull().defaultTo('verified'))
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('revoked_at', t.bigint)
    .addColumn('last_used_at', t.bigint)
    .execute();
  await db.schema.createTable('smtp_credentials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('revoked_at', t.bigint)
    .execute();
  await db.schema.createTable('domains')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('verification_token', 'text', (c) => c.notNull())
    .addColumn('dkim_selector', 'text', (c) => c.notNull())
    .addColumn('dkim_private_key', 'text', (c) => c.notNull())
    .addColumn('dkim_public_key', 'text', (c) => c.notNull())
    .addColumn('open_tracking', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('click_tracking', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pixel_placement', 'text', (c) => c.notNull().defaultTo('bottom'))
    .addColumn('ip_truncation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retention_days', 'integer', (c) => c.notNull().defaultTo(90))
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('verified_at', t.bigint)
    .addColumn('last_checked_at', t.bigint)
    .addUniqueConstraint('domains_account_name_uq', ['account_id', 'name'])
    .execute();
  await db.schema.createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('domain_id', 'text')
    .addColumn('message_id_header', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('track_opens', 'integer')
    .addColumn('track_clicks', 'integer')
    .addColumn('raw', t.blob, (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_account_created_ix').on('messages').columns(['account_id', 'created_at']).execute();
  await db.schema.createTable('message_copies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'text')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.bigint, (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', t.bigint)
    .addColumn('last_error', 'text')
    .addColumn('tracking_base', 'text')
    .addColumn('delivered_at', t.bigint)
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('message_copies_due_ix').on('message_copies').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('message_copies_message_ix').on('message_copies').columns(['message_id']).execute();
  await db.schema.createIndex('message_copies_account_rcpt_ix').on('message_copies').columns(['account_id', 'recipient']).execute();
  let events = db.schema.createTable('events');
  events = addSerialId(events, dialect);
  await events
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'text')
    .addColumn('message_id', 'text')
    .addColumn('copy_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('created_at', t.bigint, (c) => c.notNull())
    .addColumn('recipient', 'text')
    .addColumn('link_index', 'integer')
    .addColumn('url', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('client_name', 'text')
    .addColumn('client_version', 'text')
    .addColumn('os', 'text')
    .addColumn('device', 'text')
    .addColumn('classification', 'text')
    .addColumn('reason', 'text')
    .addColumn('is_first', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('events_account_id_ix').on('events').columns(['account_id', 'id']).execute();
  await db.schema.createIndex('events_copy_ix').on('events').columns(['copy_id', 'type']).execute();
  await db.schema.createIndex('events_created_ix').on('events').columns(['created_at']).execute();
  await db.schema.createTable('rollups_hourly')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'text', (c) => c.notNull())
    .addColumn('hour', t.bigint, (c) => c.notNull())
    .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unique_opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('human_opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('machine_opens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('clicks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unique_clicks', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('rollups_hourly_pk', ['account_id', 'domain_id', 'hour'])
    .execute();
  await db.schema.createTable('kv')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
