// `mailbeacon doctor [--only config,store,...] [--timeout MS]`: one line per check, exit 1 on any fail.
import { parseArgs } from 'node:util';
import { CHECKS, formatResults, runDoctor, type CheckName } from '../../ops/doctor.ts';
import type { Command } from '../command.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: `check configuration, store, ports, resolver, smarthost, ACME directory and clock (--only ${CHECKS.join(',')})`,
  async run(args, io) {
    const { values } = parseArgs({ args, options: { only: { type: 'string' }, timeout: { type: 'string' } } });
    let only: CheckName[] | undefined;
    if (values.only) {
      only = values.only.split(',').map((s) => s.trim()).filter(Boolean) as CheckName[];
      const bad = only.filter((c) => !(CHECKS as readonly string[]).includes(c));
      if (bad.length) {
        io.stderr.write(`mailbeacon doctor: unknown check ${bad.join(', ')}; the checks are ${CHECKS.join(', ')}\n`);
        return 2;
      }
    }
    const timeoutMs = values.timeout ? Number(values.timeout) : undefined;
    if (timeoutMs !== undefined && !(timeoutMs > 0)) {
      io.stderr.write('mailbeacon doctor: --timeout takes milliseconds\n');
      return 2;
    }
    const results = await runDoctor(io.env, { only, timeoutMs });
    io.stdout.write(formatResults(results));
    return results.some((r) => r.level === 'fail') ? 1 : 0;
  },
};
