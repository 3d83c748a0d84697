import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Db } from './database.ts';
import { migrations } from './migrations/index.ts';

function provider(db: Db): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(migrations)) {
        out[name] = { up: (k) => m.up({ db: k, dialect: db.dialect }) };
      }
      return out;
    },
  };
}

async function migrator(db: Db): Promise<Migrator> {
  // On PostgreSQL name the schema explicitly: without it Kysely decides whether mb_migrations_lock exists
  // by looking in EVERY schema, so a store in a fresh schema beside another one (tests, or two apps on one
  // database) skips creating its own and fails with 'relation "mb_migrations_lock" does not exist'.
  let migrationTableSchema: string | undefined;
  if (db.dialect === 'postgres') {
    const r = await sql<{ s: string }>`select current_schema() as s`.execute(db.kysely);
    migrationTableSchema = r.rows[0]?.s ?? undefined;
  }
  return new Migrator({ db: db.kysely, provider: provider(db), migrationTableName: 'mb_migrations', migrationLockTableName: 'mb_migrations_lock', migrationTableSchema, allowUnorderedMigrations: true });
}

// Kysely's migrator introspects the catalog of EVERY schema; when another schema is dropped while that query
// runs (parallel test suites, each in its own schema), PostgreSQL answers 3F000 "schema ... does not exist".
// Nothing of ours was touched, so asking again is safe.
async function retryCatalogRace<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: string }).code !== '3F000' || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** Applies every pending migration; returns the names applied. Throws on the first failure. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const res: MigrationResultSet = await retryCatalogRace(async () => {
    const r = await (await migrator(db)).migrateToLatest();
    if (r.error) throw r.error instanceof Error ? r.error : new Error(String(r.error));
    return r;
  });
  return (res.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The migrations that have not run yet (for `migrate --dry-run`). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = await retryCatalogRace(async () => (await migrator(db)).getMigrations());
  return all.filter((m) => !m.executedAt).map((m) => m.name);
}
