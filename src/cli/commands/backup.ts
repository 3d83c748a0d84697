// `mailbeacon backup --out FILE` and `mailbeacon restore --from FILE [--force]` for the SQLite store.
// PostgreSQL stores are backed up with PostgreSQL's own tools (docs/deploy/README.md#backups).
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load-config.ts';
import { backupSqlite, restoreSqlite, sqliteFileOf } from '../../ops/sqlite-backup.ts';
import { migrations } from '../../store/migrations/index.ts';
import type { Command } from '../command.ts';

const PG_HINT = 'this store is PostgreSQL: back it up with pg_dump and restore with pg_restore (see docs/deploy/README.md#backups); mailbeacon backup/restore handle the SQLite store only';

export const backupCommand: Command = {
  name: 'backup',
  summary: 'backup --out FILE: consistent copy of the SQLite store, safe while the server runs',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
    if (!values.out) {
      io.stderr.write('usage: mailbeacon backup --out FILE\n');
      return 2;
    }
    const config = loadConfig(io.env);
    const file = sqliteFileOf(config.databaseUrl);
    if (!file) {
      io.stderr.write(`mailbeacon backup: ${PG_HINT}\n`);
      return 1;
    }
    // Pixel loads and clicks still in the event journal are ingested first, with the server's classification settings.
    const r = await backupSqlite(file, values.out, { prefetchSeconds: config.prefetchSeconds, scannerNetworks: config.scannerNetworks });
    const journal = r.journalIngested ? `, ${r.journalIngested} tracking events ingested from the event journal first` : '';
    io.stdout.write(`backup written to ${r.file} (${r.bytes} bytes, schema ${r.schema}, snapshot of ${new Date(r.snapshotAt).toISOString()}, ${r.ms} ms${journal}); integrity check ok\n`);
    return 0;
  },
};

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore --from FILE [--force]: replace the SQLite store with a checked backup (server stopped)',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { from: { type: 'string' }, force: { type: 'boolean' } } });
    if (!values.from) {
      io.stderr.write('usage: mailbeacon restore --from FILE [--force]\n');
      return 2;
    }
    const config = loadConfig(io.env);
    const file = sqliteFileOf(config.databaseUrl);
    if (!file) {
      io.stderr.write(`mailbeacon restore: ${PG_HINT}\n`);
      return 1;
    }
    const r = restoreSqlite(values.from, file, values.force === true);
    const pending = Object.keys(migrations).filter((n) => !r.applied.includes(n)).length;
    io.stdout.write(`restored ${values.from} to ${r.file} (schema ${r.schema}; integrity check ok)${r.previous ? `; the previous store is kept as ${r.previous}` : ''}\n`);
    if (pending) io.stdout.write(`the backup is from an older version: ${pending} migration(s) will run at the next start (or run mailbeacon migrate)\n`);
    return 0;
  },
};
