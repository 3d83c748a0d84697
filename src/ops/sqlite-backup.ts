// Online backup and restore of the embedded SQLite store. Backups are taken with `VACUUM INTO`, which
// reads one consistent snapshot inside a single read transaction: in WAL mode the server keeps writing
// while it runs, and the copy holds exactly what was committed when it started (sqlite3_backup, by
// contrast, restarts whenever another connection writes, and may never finish under steady load).
// https://www.sqlite.org/lang_vacuum.html#vacuuminto
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { AppError } from '../domain/errors.ts';
import { openDatabase } from '../store/database.ts';
import { TrackingRepo } from '../store/tracking-repo.ts';
import type { ClassifyOptions } from '../tracking/classify.ts';
import { EventWriter } from '../tracking/event-writer.ts';
import { JournalIngester, journalDirFor, listSegments } from '../tracking/journal.ts';

export interface BackupResult {
  file: string;
  bytes: number;
  /** The newest migration recorded in the copy. */
  schema: string | undefined;
  /** When the snapshot's read transaction began: every transaction committed before it is in the copy. */
  snapshotAt: number;
  /** Tracking hits moved from the event journal into the store just before the snapshot. */
  journalIngested: number;
  ms: number;
}

/** The SQLite file of a sqlite: URL, or undefined for PostgreSQL. */
export function sqliteFileOf(databaseUrl: string): string | undefined {
  return databaseUrl.startsWith('sqlite:') ? path.resolve(databaseUrl.slice('sqlite:'.length)) : undefined;
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

function appliedMigrations(db: SQLite.Database): string[] | undefined {
  try {
    return db.prepare('select name from mb_migrations order by name').pluck().all() as string[];
  } catch {
    return undefined;
  }
}

/** Checks a store file: SQLite's integrity check passes and it is a Mailbeacon store. Throws otherwise. */
export function checkStoreFile(file: string): { schema: string; applied: string[] } {
  if (!fs.existsSync(file)) throw new AppError('not_found', 'not_found', `${file} does not exist`);
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new AppError('invalid', 'bad_backup', `${file} is not a SQLite database: ${(e as Error).message}`);
  }
  try {
    let result: string;
    try {
      result = (db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    } catch (e) {
      throw new AppError('invalid', 'bad_backup', `${file} is not a usable SQLite database: ${(e as Error).message}`);
    }
    if (result !== 'ok') throw new AppError('invalid', 'bad_backup', `${file} fails PRAGMA integrity_check: ${result.slice(0, 500)}`);
    const applied = appliedMigrations(db);
    if (!applied?.length) throw new AppError('invalid', 'bad_backup', `${file} is not a Mailbeacon store (no mb_migrations table)`);
    return { schema: applied[applied.length - 1], applied };
  } finally {
    db.close();
  }
}

/**
 * Ingests the tracking event journal beside `storeFile` (if any) into the store, up to what is written now:
 * a backup then holds every pixel load and click answered before it started, not only those the server had
 * ingested. Safe beside a running server (the checkpoint is read and written inside each transaction, so no
 * record is ingested twice). `classify` must be the server's settings (prefetch seconds, scanner networks).
 */
export async function drainJournal(storeFile: string, classify: ClassifyOptions): Promise<number> {
  const dir = journalDirFor(storeFile);
  if (!listSegments(dir).length) return 0;
  const db = await openDatabase(`sqlite:${storeFile}`);
  try {
    const repo = new TrackingRepo(db);
    return new JournalIngester(dir, repo, new EventWriter(repo, classify, () => Date.now()), { maxHits: 500 }).drain().hits;
  } finally {
    await db.close();
  }
}

/**
 * Writes a consistent copy of the store at `storeFile` to `out` (which must not exist yet), after draining
 * the event journal into it when `classify` is given (see drainJournal).
 */
export async function backupSqlite(storeFile: string, out: string, classify?: ClassifyOptions): Promise<BackupResult> {
  const started = Date.now();
  if (!fs.existsSync(storeFile)) throw new AppError('not_found', 'not_found', `the store ${storeFile} does not exist (check MAILBEACON_DATABASE_URL)`);
  const target = path.resolve(out);
  if (fs.existsSync(target)) throw new AppError('conflict', 'exists', `${target} already exists; choose a new file name`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const journalIngested = classify ? await drainJournal(storeFile, classify) : 0;
  const tmp = `${target}.partial-${process.pid}`;
  const db = new SQLite(storeFile, { fileMustExist: true });
  let snapshotAt = 0;
  try {
    db.pragma('busy_timeout = 10000');
    const vacuum = db.prepare('VACUUM INTO ?');
    snapshotAt = Date.now();
    vacuum.run(tmp);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new AppError('unavailable', 'backup_failed', `backup of ${storeFile} failed: ${(e as Error).message}`);
  } finally {
    db.close();
  }
  fsyncPath(tmp);
  const { schema } = checkStoreFile(tmp);
  fs.renameSync(tmp, target);
  fsyncPath(path.dirname(target));
  return { file: target, bytes: fs.statSync(target).size, schema, snapshotAt, journalIngested, ms: Date.now() - started };
}

export interface RestoreResult {
  file: string;
  schema: string;
  /** Migrations recorded in the restored store. */
  applied: string[];
  /** Where the replaced store was moved (with --force), if there was one. */
  previous?: string;
  /** Where the replaced store's tracking event journal was moved, if there was one. */
  journalKept?: string;
}

/**
 * Replaces the store at `storeFile` with the backup `from`, after checking the backup. Refuses when a
 * store already exists unless `force`; then the old store is kept beside it as `<file>.replaced-<time>`.
 * The server must be stopped (a running server would keep writing to the replaced file).
 */
export function restoreSqlite(from: string, storeFile: string, force: boolean, now = Date.now()): RestoreResult {
  const source = path.resolve(from);
  const { schema, applied } = checkStoreFile(source);
  const exists = fs.existsSync(storeFile) && fs.statSync(storeFile).size > 0;
  if (exists && !force) {
    throw new AppError('conflict', 'store_exists', `a store already exists at ${storeFile}; stop the server and run restore again with --force to replace it (the old store is kept as ${path.basename(storeFile)}.replaced-<time>)`);
  }
  fs.mkdirSync(path.dirname(storeFile), { recursive: true });
  const tmp = `${storeFile}.restoring-${process.pid}`;
  fs.copyFileSync(source, tmp);
  fsyncPath(tmp);
  let previous: string | undefined;
  let journalKept: string | undefined;
  if (exists) {
    previous = `${storeFile}.replaced-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    // Fold the old store's WAL into it first so the kept copy is complete on its own.
    try {
      const old = new SQLite(storeFile, { fileMustExist: true });
      old.pragma('wal_checkpoint(TRUNCATE)');
      old.close();
    } catch {
      /* a damaged store is kept as it is */
    }
    fs.renameSync(storeFile, previous);
  }
  // A WAL or shared-memory file left from the old store would be replayed into the restored one.
  for (const suffix of ['-wal', '-shm', '-journal']) fs.rmSync(storeFile + suffix, { force: true });
  // The old store's tracking event journal belongs to it: kept beside the replaced store, so the restored one
  // holds exactly what the backup held.
  const journal = journalDirFor(storeFile);
  if (fs.existsSync(journal)) {
    const kept = previous ?? `${storeFile}.replaced-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(journal, journalDirFor(kept));
    journalKept = journalDirFor(kept);
  }
  fs.renameSync(tmp, storeFile);
  fsyncPath(path.dirname(storeFile));
  return { file: storeFile, schema, applied, previous, journalKept };
}
