// The few column types that differ between the dialects, so each migration is written once.
import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

export interface MigrationContext {
  db: Kysely<any>;
  dialect: DialectName;
}

export function colTypes(dialect: DialectName) {
  return {
    /** 64-bit integer: millisecond times and counters. */
    bigint: dialect === 'postgres' ? ('bigint' as const) : ('integer' as const),
    blob: dialect === 'postgres' ? ('bytea' as const) : ('blob' as const),
  };
}

/** An auto-incrementing 64-bit primary key (events, deliveries: cursor paging follows it). */
export function addSerialId<T extends string>(tb: CreateTableBuilder<T, any>, dialect: DialectName, name = 'id') {
  return dialect === 'postgres'
    ? tb.addColumn(name, sql`bigserial`, (c: ColumnDefinitionBuilder) => c.primaryKey())
    : tb.addColumn(name, 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement());
}
