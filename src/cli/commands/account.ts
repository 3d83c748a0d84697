import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load-config.ts';
import { openStore } from '../../store/store.ts';
import { createAccount } from '../../accounts/account-service.ts';
import type { Command } from '../command.ts';

export const accountCommand: Command = {
  name: 'account',
  summary: 'account create --email E --password P: prints {"accountId","apiKey","smtpUsername","smtpPassword"}',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'create') {
      io.stderr.write('usage: mailbeacon account create --email E --password P [--name N]\n');
      return 2;
    }
    const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } } });
    if (!values.email || !values.password) {
      io.stderr.write('mailbeacon account create: --email and --password are required\n');
      return 2;
    }
    const config = loadConfig(io.env);
    const store = await openStore(config.databaseUrl);
    try {
      const c = await createAccount(store, { email: values.email, password: values.password, name: values.name });
      io.stdout.write(JSON.stringify({ accountId: c.accountId, apiKey: c.apiKey, smtpUsername: c.smtpUsername, smtpPassword: c.smtpPassword }) + '\n');
      return 0;
    } finally {
      await store.close();
    }
  },
};
