import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load-config.ts';
import { openDatabase } from '../../store/database.ts';
import { migrateToLatest, pendingMigrations } from '../../store/migrator.ts';
import type { Command } from '../command.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending store migrations (--dry-run lists them)',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' } } });
    const config = loadConfig(io.env);
    const db = await openDatabase(config.databaseUrl);
    try {
      if (values['dry-run']) {
        const pending = await pendingMigrations(db);
        io.stdout.write(pending.length ? pending.map((n) => `would run ${n}\n`).join('') : 'nothing to migrate\n');
        return 0;
      }
      const applied = await migrateToLatest(db);
      io.stdout.write(applied.length ? applied.map((n) => `applied ${n}\n`).join('') : 'nothing to migrate\n');
      return 0;
    } finally {
      await db.close();
    }
  },
};
