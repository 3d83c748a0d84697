// Upgrades: a store made by the first release (schema 0001, test/fixtures/store-0001.sql) migrates forward
// to the latest schema with every row intact; `migrate --dry-run` lists exactly what would run. PostgreSQL
// gets the same rows through the 0001 migration alone, then the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Migrator, sql, type Kysely } from 'kysely';
import { migrations } from '../../src/store/migrations/index.ts';
import * as m0001 from '../../src/store/migrations/0001-foundation.ts';
import { openDatabase } from '../../src/store/database.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { authenticateApiKey, authenticateSmtp } from '../../src/accounts/account-service.ts';
import { FIXTURE, FIXTURE_API_KEY, FIXTURE_SMTP_PASSWORD } from '../fixtures/store-0001-rows.ts';
import { cliInProcess as runCli } from '../helpers/cli-in-process.ts';
import { createTestDatabase } from '../helpers/dialects.ts';

// The store's CamelCasePlugin hands rows back in camelCase.
const camel = (c: string) => c.replace(/_([a-z])/g, (_m, x: string) => x.toUpperCase());
const later = Object.keys(migrations).filter((n) => n !== '0001-foundation').sort();

/** Every fixture row is still there, column for column (the 0001 columns; later ones may add more). */
async function assertFixtureSurvived(store: Store) {
  const k = store.db.kysely as unknown as Kysely<any>;
  for (const [table, rows] of Object.entries(FIXTURE)) {
    const cols = Object.keys(rows[0]);
    const got = (await sql`select ${sql.join(cols.map((c) => sql.ref(c)))} from ${sql.table(table)}`.execute(k)).rows as Record<string, unknown>[];
    assert.equal(got.length, rows.length, `${table}: row count`);
    const key = cols[0];
    for (const want of rows) {
      const row = got.find((g) => String(g[camel(key)]) === String(want[key]));
      assert.ok(row, `${table}: row ${want[key]} survived`);
      for (const c of cols) {
        const w = want[c];
        const v: unknown = row[camel(c)];
        if (Buffer.isBuffer(w)) assert.ok(Buffer.from(v as Uint8Array).equals(w), `${table}.${c} bytes`);
        else assert.equal(v === null ? null : typeof w === 'number' ? Number(v) : v, w, `${table}.${c}`);
      }
    }
  }
  assert.equal(await authenticateApiKey(store, FIXTURE_API_KEY), 'acc_fixture1', 'the old API key still authenticates');
  assert.equal(await authenticateSmtp(store, 'mb-fixture', FIXTURE_SMTP_PASSWORD), 'acc_fixture1', 'the old SMTP credential still works');
}

test('SQLite: the 0001 fixture store migrates to the latest schema with its data', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-upgrade-'));
  const file = path.join(dir, 'old.db');
  try {
    const raw = new SQLite(file);
    raw.exec(fs.readFileSync(new URL('../fixtures/store-0001.sql', import.meta.url), 'utf8'));
    raw.close();
    const env = { MAILBEACON_DATABASE_URL: `sqlite:${file}`, MAILBEACON_DATA_DIR: dir };

    const dry = await runCli(['migrate', '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.stdout.trim().split('\n').filter(Boolean), later.length ? later.map((n) => `would run ${n}`) : ['nothing to migrate']);
    // A dry run changes nothing.
    const check = new SQLite(file, { readonly: true });
    assert.deepEqual(check.prepare('select name from mb_migrations').pluck().all(), ['0001-foundation']);
    check.close();

    const run = await runCli(['migrate'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n').filter(Boolean), later.length ? later.map((n) => `applied ${n}`) : ['nothing to migrate']);
    const again = await runCli(['migrate', '--dry-run'], env);
    assert.equal(again.stdout.trim(), 'nothing to migrate');

    const store = await openStore(`sqlite:${file}`, { migrate: false });
    try {
      await assertFixtureSurvived(store);
      assert.equal(store.db.sqlite!.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(store.db.sqlite!.pragma('foreign_key_check'), []);
    } finally {
      await store.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: a store at schema 0001 with the fixture rows migrates to the latest schema', async () => {
  const tdb = await createTestDatabase('postgres');
  try {
    const db = await openDatabase(tdb.url);
    const old = new Migrator({
      db: db.kysely,
      provider: { getMigrations: async () => ({ '0001-foundation': { up: (k) => m0001.up({ db: k, dialect: 'postgres' }) } }) },
      migrationTableName: 'mb_migrations',
      migrationLockTableName: 'mb_migrations_lock',
      migrationTableSchema: new URL(tdb.url).searchParams.get('schema') ?? undefined,
    });
    const res = await old.migrateToLatest();
    assert.equal(res.error, undefined);
    const k = db.kysely as unknown as Kysely<any>;
    for (const [table, rows] of Object.entries(FIXTURE)) {
      for (const row of rows) await sql`insert into ${sql.table(table)} (${sql.join(Object.keys(row).map((c) => sql.ref(c)))}) values (${sql.join(Object.values(row))})`.execute(k);
    }
    await db.close();
    const dry = await runCli(['migrate', '--dry-run'], { MAILBEACON_DATABASE_URL: tdb.url });
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.stdout.trim().split('\n').filter(Boolean), later.length ? later.map((n) => `would run ${n}`) : ['nothing to migrate']);
    const store = await openStore(tdb.url);
    try {
      await assertFixtureSurvived(store);
    } finally {
      await store.close();
    }
  } finally {
    await tdb.cleanup();
  }
});
