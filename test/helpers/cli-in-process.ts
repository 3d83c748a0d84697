// Runs a CLI command in this process (same code path as bin/mailbeacon.js, without the few seconds a
// fresh tsx process costs) and captures its output.
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';

export async function cliInProcess(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write(c, _e, cb) { stdout += c; cb(); } });
  const err = new Writable({ write(c, _e, cb) { stderr += c; cb(); } });
  const stdin = new PassThrough();
  stdin.end();
  const code = await main(args, { stdout: out, stderr: err, stdin, env: { ...process.env, ...env } });
  return { code, stdout, stderr };
}
