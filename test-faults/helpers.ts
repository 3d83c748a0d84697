// Shared by the fault suite (`npm run test:faults`): real `mailbeacon serve` processes, Postfix's
// smtp-sink as the smarthost (dumping every message so deliveries are counted by Message-ID),
// smtp-source as the load, and a private PostgreSQL instance that a test may stop and start.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exited, freePort, runCli, spawnServe } from '../test/helpers/spawn-cli.ts';

export const SECRET = 'faults-secret-faults-secret-faults-00001';
export const HOST = 'track.test';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o777);
  return d;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 60_000, every = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

export interface Node { child: ChildProcess; http: number; smtp: number; pid: number; stderr: () => string }

export async function startNode(env: Record<string, string>, roles?: string): Promise<Node> {
  const http = await freePort();
  const smtp = await freePort();
  const s = await spawnServe({ ...env, MAILBEACON_HTTP_PORT: String(http), MAILBEACON_SMTP_PORT: String(smtp) }, roles ? ['--roles', roles] : []);
  return { child: s.child, http, smtp, pid: s.child.pid!, stderr: s.stderr };
}

export async function kill9(n: Node): Promise<void> {
  n.child.kill('SIGKILL');
  await exited(n.child);
}

export async function stopNode(n: Node): Promise<void> {
  if (n.child.exitCode !== null || n.child.signalCode) return;
  n.child.kill('SIGTERM');
  await exited(n.child);
}

export async function createAccount(env: Record<string, string>): Promise<{ accountId: string; apiKey: string }> {
  const r = await runCli(['account', 'create', '--email', `faults-${Date.now()}@example.test`, '--password', 'correct horse battery'], env);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** Postfix's smtp-sink dumping every message into a directory; `mode` adds its fault options (-r, -Q, -q). */
export interface SmtpSink { port: number; dir: string; child: ChildProcess; stop(): Promise<void> }

export async function startSmtpSink(dir: string, port?: number, mode: string[] = []): Promise<SmtpSink> {
  const p = port ?? (await freePort());
  const child = spawn('/usr/sbin/smtp-sink', ['-u', 'postfix', '-d', `${dir}/%M.`, ...mode, `127.0.0.1:${p}`, '200'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await sleep(300);
  if (child.exitCode !== null) throw new Error(`smtp-sink: ${err}`);
  return { port: p, dir, child, stop: async () => { child.kill('SIGTERM'); await exited(child); } };
}

/** Deliveries the sink received, per Message-ID. */
export function sinkCounts(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of fs.readdirSync(dir)) {
    const raw = fs.readFileSync(path.join(dir, f), 'latin1');
    const id = /^message-id:\s*(\S+)/im.exec(raw)?.[1] ?? `(none: ${f})`;
    m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

/** Runs Postfix's smtp-source; resolves with its exit code and output. */
export function smtpSource(args: string[]): { done: Promise<{ code: number | null; out: string }>; child: ChildProcess } {
  const child = spawn('/usr/sbin/smtp-source', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, done: new Promise((r) => child.on('close', (code) => r({ code, out }))) };
}

/** A private PostgreSQL (initdb + pg_ctl as the postgres user) on a free loopback port, for restarts. */
export interface PrivatePg { url: string; port: number; stop(): void; start(): void; destroy(): void }

export async function startPrivatePg(): Promise<PrivatePg> {
  const bin = fs.readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((b) => fs.existsSync(`${b}/initdb`));
  if (!bin) throw new Error('no PostgreSQL server binaries in /usr/lib/postgresql');
  const dir = tmpDir('mb-pg-');
  const data = path.join(dir, 'data');
  const port = await freePort();
  const as = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
  as(`${bin}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () => { as(`${bin}/pg_ctl`, ['-D', data, '-o', opts, '-w', '-l', path.join(dir, 'log'), 'start']); };
  const stop = () => { as(`${bin}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop']); };
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy: () => {
      try { stop(); } catch { /* already stopped */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads one counter (summed over labels) from a node's /metrics. */
export async function metric(httpPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
