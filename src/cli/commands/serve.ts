import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load-config.ts';
import { createContext } from '../../server/create-context.ts';
import { startServer } from '../../server/server.ts';
import type { Role } from '../../server/service.ts';
import type { Command } from '../command.ts';

const ROLES = ['http', 'smtp', 'worker', 'tracking'];

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the server (HTTP API, dashboard, tracking, SMTP, workers); --roles http,smtp,worker,tracking',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { roles: { type: 'string' } } });
    const config = loadConfig(io.env);
    let roles = config.roles as Role[];
    if (values.roles) {
      roles = values.roles.split(',').map((r) => r.trim()).filter(Boolean) as Role[];
      const bad = roles.filter((r) => !ROLES.includes(r));
      if (bad.length || !roles.length) {
        io.stderr.write(`mailbeacon serve: --roles takes a comma list of ${ROLES.join(', ')}; got ${values.roles}\n`);
        return 2;
      }
    }
    const ctx = await createContext(config);
    const server = await startServer(ctx, { roles, announce: (t) => io.stdout.write(t) });
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        ctx.log.info({ event: 'server.signal', signal: sig }, 'signal received');
        process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
        server.stop().finally(resolve);
      };
      process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
    });
    return 0;
  },
};
