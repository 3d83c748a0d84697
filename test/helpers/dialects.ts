// Runs a store test suite once per dialect: a real SQLite file in a temp dir, and a real PostgreSQL
// (MAILBEACON_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test) in a schema of its own that is
// dropped afterwards, so parallel runs never collide.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/store.ts';
import type { DialectName } from '../../src/store/database.ts';

export const PG_URL = process.env.MAILBEACON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  dialect: DialectName;
  /** A MAILBEACON_DATABASE_URL that reaches this database (postgres URLs carry ?schema=). */
  url: string;
  /** Drops the schema / removes the file. */
  cleanup(): Promise<void>;
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-sqlite-'));
    return { dialect, url: `sqlite:${path.join(dir, 'test.db')}`, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  return {
    dialect,
    url: u.toString(),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

/** A migrated store on a fresh test database; close() also cleans up. */
export async function createTestStore(dialect: DialectName): Promise<Store & { cleanup(): Promise<void>; url: string }> {
  const tdb = await createTestDatabase(dialect);
  const store = await openStore(tdb.url);
  const close = store.close.bind(store);
  return Object.assign(store, {
    url: tdb.url,
    cleanup: async () => {
      await close();
      await tdb.cleanup();
    },
  });
}
