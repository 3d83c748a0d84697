import type { Command } from '../command.ts';
import { serveCommand } from './serve.ts';
import { migrateCommand } from './migrate.ts';
import { accountCommand } from './account.ts';
import { configDocsCommand } from './config-docs.ts';
import { rewriteCommand } from './rewrite.ts';
import { backupCommand, restoreCommand } from './backup.ts';
import { doctorCommand } from './doctor.ts';

export const commands: Command[] = [serveCommand, migrateCommand, accountCommand, configDocsCommand, rewriteCommand, backupCommand, restoreCommand, doctorCommand];
