// Opens the store: one Kysely instance over SQLite (better-sqlite3, WAL) or PostgreSQL (pg), chosen by URL.
// Everything above this file talks Kysely and never sees the driver.
import fs from 'node:fs';
import path from 'node:path';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, CamelCasePlugin, type DatabaseConnection, type Driver } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Database } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** The SQLite file, for backup; undefined on PostgreSQL. */
  sqlitePath?: string;
  /** The raw better-sqlite3 handle (backup, integrity checks); undefined on PostgreSQL. */
  sqlite?: SQLite.Database;
  /** SQLite: the in-process writer lock shared with other threads' connections to the same file. */
  writeLock?: WriteLock;
  close(): Promise<void>;
}

// pg returns int8/numeric as strings by default; our int8 columns are millisecond times and counters that
// fit in a double, so read them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

/**
 * Kysely's SQLite transactions start with BEGIN IMMEDIATE (take the write lock up front, waiting up to
 * busy_timeout) instead of a deferred BEGIN. With more than one connection to the file (the delivery
 * thread has its own), a deferred transaction that reads and then writes while the other connection has
 * committed fails at once with SQLITE_BUSY_SNAPSHOT, which busy_timeout cannot wait out.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

/**
 * An in-process lock for SQLite's hot write transactions, shared by the threads of one process (the front
 * doors and the delivery thread each have a connection). SQLite alone makes a writer that finds the file
 * locked sleep in its busy handler (1 ms, then 2, 5, 10 ms ...) even when the other transaction ends
 * microseconds later; waiting here on a shared word with Atomics wakes the waiter as soon as the holder
 * is done. It is only a faster way to wait: SQLite's own locking still decides, so a holder that never
 * releases (a thread terminated mid-transaction) costs at most the wait limit below.
 */
export class WriteLock {
  private readonly word: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.word = new Int32Array(buffer);
  }

  run<T>(fn: () => T): T {
    const w = this.word;
    let held = false;
    const deadline = Date.now() + 2000;
    while (!(held = Atomics.compareExchange(w, 0, 0, 1) === 0) && Date.now() < deadline) Atomics.wait(w, 0, 1, 50);
    try {
      return fn();
    } finally {
      if (held) {
        Atomics.store(w, 0, 0);
        Atomics.notify(w, 0, 1);
      }
    }
  }
}

export interface OpenOptions {
  /** SQLite: share this writer lock (another thread's Db.writeLock.buffer) instead of making a new one. */
  sqliteWriteLock?: SharedArrayBuffer;
  /** PostgreSQL only: search_path schema (tests run each suite in its own schema). */
  pgSchema?: string;
  pgPoolSize?: number;
}

export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Db> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL lets readers run beside the writer; synchronous=NORMAL in WAL mode keeps every committed
    // transaction across a process crash (kill -9); only an OS crash or power loss can lose the last ones.
    // https://www.sqlite.org/pragma.html#pragma_synchronous
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const kysely = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }), plugins: [new CamelCasePlugin()] });
    return {
      kysely,
      dialect: 'sqlite',
      sqlitePath: file,
      sqlite,
      writeLock: new WriteLock(opts.sqliteWriteLock),
      close: async () => { await kysely.destroy(); },
    };
  }
  const u = new URL(url);
  const schema = opts.pgSchema ?? (u.searchParams.get('schema') || undefined);
  u.searchParams.delete('schema');
  const pool = new pg.Pool({
    connectionString: u.toString(),
    max: opts.pgPoolSize ?? 10,
    options: schema ? `-c search_path=${schema}` : undefined,
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its connection (PostgreSQL restarted) must not crash the process; the pool
  // replaces it on the next checkout.
  pool.on('error', () => {});
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] });
  return { kysely, dialect: 'postgres', close: async () => { await kysely.destroy(); } };
}
