// `mailbeacon <command>`: dispatches to the command modules. Errors become a one-line message and a
// non-zero exit code; a bad configuration names the variable.
import { ConfigError } from '../config/load-config.ts';
import { AppError } from '../domain/errors.ts';
import type { CliIo, Command } from './command.ts';
import { commands } from './commands/index.ts';

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }): Promise<number> {
  const [name, ...rest] = argv;
  const byName = new Map<string, Command>(commands.map((c) => [c.name, c]));
  const cmd = name ? byName.get(name) : undefined;
  if (!cmd) {
    const list = commands.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`).join('\n');
    (name && name !== 'help' && name !== '--help' ? io.stderr : io.stdout).write(`${name && name !== 'help' && name !== '--help' ? `unknown command: ${name}\n\n` : ''}usage: mailbeacon <command> [options]\n\n${list}\n`);
    return name && name !== 'help' && name !== '--help' ? 2 : 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`mailbeacon: configuration error: ${e.message}\n`);
      return 78;
    }
    if (e instanceof AppError) {
      io.stderr.write(`mailbeacon: ${e.message}\n`);
      return 1;
    }
    if (e instanceof TypeError && (e as any).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      io.stderr.write(`mailbeacon ${name}: ${e.message}\n`);
      return 2;
    }
    io.stderr.write(`mailbeacon ${name}: ${(e as Error)?.stack ?? e}\n`);
    return 1;
  }
}
