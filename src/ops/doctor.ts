// `mailbeacon doctor`: checks what a deployment depends on and says what to fix, one line per check:
// `ok|warn|fail <check>: <detail>`. Each check is independent and bounded by a timeout, so one broken
// dependency never hides the others.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Resolver } from 'node:dns/promises';
import { sql } from 'kysely';
import { settings, type Config, type Setting } from '../config/schema.ts';
import { openDatabase, type Db } from '../store/database.ts';
import { pendingMigrations } from '../store/migrator.ts';

export type Level = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  level: Level;
  check: string;
  detail: string;
}

export const CHECKS = ['config', 'store', 'ports', 'resolver', 'relay', 'acme', 'clock'] as const;
export type CheckName = (typeof CHECKS)[number];

export interface DoctorOptions {
  only?: CheckName[];
  /** Per network check (ms). */
  timeoutMs?: number;
}

const r = (level: Level, check: string, detail: string): CheckResult => ({ level, check, detail });

/**
 * Every setting on its own, so that all bad variables are named at once (loadConfig stops at the first).
 * Bad values fall back to their default so that the other checks can still run.
 */
export function checkConfig(env: Record<string, string | undefined>): { results: CheckResult[]; config: Partial<Config> } {
  const results: CheckResult[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(settings) as [string, Setting][]) {
    const raw = env[s.env];
    const value = raw === undefined || raw === '' ? s.default : raw;
    const parsed = s.schema.safeParse(value);
    if (parsed.success) {
      config[key] = parsed.data;
      continue;
    }
    const shown = s.secret ? '(hidden)' : JSON.stringify(value ?? '');
    results.push(r('fail', 'config', `${s.env}=${shown} is invalid (${parsed.error.issues.map((i) => i.message).join('; ')}): ${s.description}`));
    const fallback = s.schema.safeParse(s.default);
    if (fallback.success) config[key] = fallback.data;
  }
  if (!results.length) results.push(r('ok', 'config', 'every MAILBEACON_* variable parses'));
  const c = config as Partial<Config>;
  if (c.publicUrl && /^http:\/\/(localhost|127\.|\[::1\])/.test(c.publicUrl)) {
    results.push(r('warn', 'config', `MAILBEACON_PUBLIC_URL is ${c.publicUrl}: recipients cannot load pixels from it; set the public https URL of the tracking host`));
  }
  if (c.secret === undefined && c.dataDir) {
    results.push(r('ok', 'config', `MAILBEACON_SECRET unset: the secret is generated once and kept in ${path.resolve(c.dataDir)} (back it up; nodes sharing a store must share it)`));
  }
  return { results, config: c };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`no answer within ${ms} ms from ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

export async function checkStore(config: Partial<Config>, timeoutMs: number): Promise<{ results: CheckResult[]; db?: Db }> {
  const url = config.databaseUrl;
  if (!url) return { results: [r('fail', 'store', 'MAILBEACON_DATABASE_URL is not usable; fix the configuration first')] };
  const shown = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  if (url.startsWith('sqlite:')) {
    const file = path.resolve(url.slice('sqlite:'.length));
    const dir = path.dirname(file);
    if (!fs.existsSync(file)) {
      try {
        fs.mkdirSync(dir, { recursive: true });
        fs.accessSync(dir, fs.constants.W_OK);
      } catch (e) {
        return { results: [r('fail', 'store', `cannot create ${dir} for the SQLite store (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): create it writable for the service user or change MAILBEACON_DATABASE_URL`)] };
      }
      return { results: [r('warn', 'store', `${file} does not exist yet: serve creates it at first start (restore a backup with mailbeacon restore if you expected data here)`)] };
    }
    try {
      fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (e) {
      return { results: [r('fail', 'store', `${file} or its directory is not writable (${(e as NodeJS.ErrnoException).code}): SQLite needs to write the file and its -wal/-shm beside it`)] };
    }
  }
  let db: Db | undefined;
  try {
    db = await withTimeout(openDatabase(url, { pgPoolSize: 1 }), timeoutMs, shown);
    await withTimeout(sql`select 1`.execute(db.kysely), timeoutMs, shown);
  } catch (e) {
    await db?.close().catch(() => {});
    return { results: [r('fail', 'store', `cannot reach ${shown}: ${(e as Error).message}; check MAILBEACON_DATABASE_URL and that the database is running`)] };
  }
  try {
    const pending = await withTimeout(pendingMigrations(db), timeoutMs, shown);
    if (pending.length) return { db, results: [r('warn', 'store', `${shown} reachable; ${pending.length} migration(s) pending (${pending.join(', ')}): serve applies them at start, or run mailbeacon migrate (take a backup first)`)] };
    return { db, results: [r('ok', 'store', `${shown} reachable, schema up to date`)] };
  } catch (e) {
    return { db, results: [r('fail', 'store', `${shown} reachable but its migrations cannot be read: ${(e as Error).message}`)] };
  }
}

function canBind(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

export async function checkPorts(config: Partial<Config>): Promise<CheckResult[]> {
  const host = config.host ?? '127.0.0.1';
  const ports: [string, string, number | undefined][] = [
    ['HTTP', 'MAILBEACON_HTTP_PORT', config.httpPort],
    ['SMTP', 'MAILBEACON_SMTP_PORT', config.smtpPort],
    ['HTTPS', 'MAILBEACON_HTTPS_PORT', config.httpsPort],
  ];
  const out: CheckResult[] = [];
  for (const [name, env, port] of ports) {
    if (port === undefined) continue;
    if (port === 0) {
      out.push(r('warn', 'ports', `${env}=0 picks a random ${name} port at every start`));
      continue;
    }
    const err = await canBind(host, port);
    if (!err) out.push(r('ok', 'ports', `${name} ${host}:${port} is free`));
    else if (err === 'EADDRINUSE') out.push(r('fail', 'ports', `${name} port ${host}:${port} is already in use (is Mailbeacon already running? stop the other process or change ${env})`));
    else if (err === 'EACCES') out.push(r('fail', 'ports', `${name} port ${port} needs privileges: grant CAP_NET_BIND_SERVICE (see docs/deploy/mailbeacon.service) or use a port above 1023 behind a proxy`));
    else if (err === 'EADDRNOTAVAIL') out.push(r('fail', 'ports', `MAILBEACON_HOST=${host} is not an address of this machine`));
    else out.push(r('fail', 'ports', `cannot listen on ${host}:${port} for ${name}: ${err}`));
  }
  return out;
}

export async function checkResolver(config: Partial<Config>, timeoutMs: number): Promise<CheckResult[]> {
  const servers = config.dnsServers;
  if (!servers?.length) {
    const sys = new Resolver().getServers();
    return [sys.length ? r('ok', 'resolver', `MAILBEACON_DNS_SERVERS unset: using the system resolvers (${sys.join(', ')})`) : r('fail', 'resolver', 'no system resolver configured and MAILBEACON_DNS_SERVERS unset: domain verification cannot look anything up')];
  }
  const out: CheckResult[] = [];
  for (const server of servers) {
    const res = new Resolver({ timeout: Math.max(200, Math.floor(timeoutMs / 2)), tries: 1 });
    try {
      res.setServers([server]);
    } catch (e) {
      out.push(r('fail', 'resolver', `${server} in MAILBEACON_DNS_SERVERS is not a resolver address: ${(e as Error).message}`));
      continue;
    }
    const host = config.publicUrl ? new URL(config.publicUrl).hostname : 'localhost';
    try {
      await withTimeout(res.resolve4(host), timeoutMs, server);
      out.push(r('ok', 'resolver', `${server} answers (asked for ${host})`));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // NXDOMAIN / NODATA are answers: the resolver works.
      if (code === 'ENOTFOUND' || code === 'ENODATA') out.push(r('ok', 'resolver', `${server} answers (${host}: ${code === 'ENOTFOUND' ? 'no such name' : 'no A record'})`));
      else out.push(r('fail', 'resolver', `${server} from MAILBEACON_DNS_SERVERS does not answer (${code ?? (e as Error).message}): start the resolver or fix the address`));
    }
  }
  return out;
}

/** Connects to the smarthost, reads its greeting and says EHLO. */
export async function checkRelay(config: Partial<Config>, timeoutMs: number): Promise<CheckResult[]> {
  const relay = config.relay;
  if (!relay) return [];
  if (relay === 'outbox') return [r('ok', 'relay', 'MAILBEACON_RELAY=outbox: mail is kept in the store and shown in the dashboard, nothing is delivered')];
  let u: URL;
  try {
    u = new URL(relay);
  } catch {
    return [r('fail', 'relay', 'MAILBEACON_RELAY is not a URL')];
  }
  const implicitTls = u.protocol === 'smtps:';
  const port = Number(u.port || (implicitTls ? 465 : 25));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const where = `${host}:${port}`;
  try {
    const lines = await withTimeout(smtpEhlo(host, port, implicitTls), timeoutMs, where);
    const ehlo = lines.ehlo.map((l) => l.slice(4).toUpperCase());
    const notes: string[] = [];
    if (u.searchParams.get('tls') === 'required' && !implicitTls && !ehlo.some((l) => l.startsWith('STARTTLS'))) {
      return [r('fail', 'relay', `${where} does not offer STARTTLS but MAILBEACON_RELAY asks for tls=required`)];
    }
    if (u.username && !ehlo.some((l) => l.startsWith('AUTH'))) notes.push('it does not advertise AUTH before STARTTLS');
    return [r(notes.length ? 'warn' : 'ok', 'relay', `${where} greets "${lines.greeting.slice(0, 80)}" and accepts EHLO${notes.length ? `; ${notes.join('; ')}` : ''}`)];
  } catch (e) {
    return [r('fail', 'relay', `cannot talk SMTP to ${where} from MAILBEACON_RELAY: ${(e as Error).message}; check the host, port and firewall`)];
  }
}

function smtpEhlo(host: string, port: number, implicitTls: boolean): Promise<{ greeting: string; ehlo: string[] }> {
  return new Promise((resolve, reject) => {
    const sock: net.Socket = implicitTls ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    let buf = '';
    let greeting: string | undefined;
    const fail = (e: Error) => {
      sock.destroy();
      reject(e);
    };
    sock.on('error', (e: NodeJS.ErrnoException) => fail(new Error(e.code ?? e.message)));
    sock.on('close', () => reject(new Error('connection closed before EHLO was answered')));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      // A reply is complete when a line has a space after the code ("250 ok"), not a dash ("250-...").
      const lines = buf.split('\r\n');
      const done = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
      if (done < 0) return;
      const reply = lines.slice(0, done + 1);
      buf = lines.slice(done + 1).join('\r\n');
      const code = reply[reply.length - 1].slice(0, 3);
      if (greeting === undefined) {
        if (code !== '220') return fail(new Error(`greeting was "${reply.join(' ').slice(0, 120)}", expected 220`));
        greeting = reply.join(' ');
        sock.write('EHLO mailbeacon-doctor\r\n');
        return;
      }
      if (code !== '250') return fail(new Error(`EHLO answered "${reply.join(' ').slice(0, 120)}"`));
      sock.end('QUIT\r\n');
      sock.removeAllListeners('close');
      resolve({ greeting, ehlo: reply });
    });
  });
}

function getJson(url: string, caFile: string | undefined, timeoutMs: number): Promise<{ status: number; body: unknown; date?: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const ca = caFile ? fs.readFileSync(caFile) : undefined;
    const req = lib.get(u, { ...(ca ? { ca } : {}), timeout: timeoutMs, headers: { accept: 'application/json' } } as https.RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, date: res.headers.date });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
  });
}

export async function checkAcme(config: Partial<Config>, timeoutMs: number): Promise<{ results: CheckResult[]; serverDate?: number }> {
  const dir = config.acmeDirectory;
  if (!dir) return { results: [r('ok', 'acme', 'MAILBEACON_ACME_DIRECTORY unset: no certificates for custom tracking domains (HTTPS for them is up to your proxy)')] };
  try {
    const res = await withTimeout(getJson(dir, config.acmeCaFile, timeoutMs), timeoutMs + 100, dir);
    const body = res.body as Record<string, unknown> | undefined;
    if (res.status !== 200 || !body || typeof body.newNonce !== 'string' || typeof body.newOrder !== 'string') {
      return { results: [r('fail', 'acme', `${dir} answered ${res.status} but not with an ACME directory (no newNonce/newOrder): check MAILBEACON_ACME_DIRECTORY`)] };
    }
    const out = [r('ok', 'acme', `${dir} is an ACME directory`)];
    if (!config.acmeEmail) out.push(r('warn', 'acme', 'MAILBEACON_ACME_EMAIL unset: the CA cannot warn you about expiring certificates'));
    return { results: out, serverDate: res.date ? Date.parse(res.date) : undefined };
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(msg) ? ' (a private CA? set MAILBEACON_ACME_CA_FILE)' : '';
    return { results: [r('fail', 'acme', `cannot fetch ${dir}: ${msg}${hint}`)] };
  }
}

const SKEW_WARN_MS = 2_000;
const SKEW_FAIL_MS = 60_000;

export async function checkClock(db: Db | undefined, acmeDate: number | undefined, timeoutMs: number): Promise<CheckResult[]> {
  const judge = (skew: number, against: string, resolutionMs: number): CheckResult => {
    const abs = Math.abs(skew) - resolutionMs;
    const text = `${Math.round(skew)} ms against ${against}`;
    if (abs > SKEW_FAIL_MS) return r('fail', 'clock', `clock is off by ${text}: run NTP (timedatectl set-ntp true); retries, retention and token rotation depend on it`);
    if (abs > SKEW_WARN_MS) return r('warn', 'clock', `clock is off by ${text}: check NTP (timedatectl)`);
    return r('ok', 'clock', `within ${Math.max(SKEW_WARN_MS, resolutionMs)} ms of ${against} (${Math.round(skew)} ms)`);
  };
  if (db?.dialect === 'postgres') {
    try {
      const before = Date.now();
      const res = await withTimeout(sql<{ ms: number }>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`.execute(db.kysely), timeoutMs, 'PostgreSQL');
      const after = Date.now();
      const theirs = Number(res.rows[0].ms);
      return [judge((before + after) / 2 - theirs, 'the PostgreSQL server', (after - before) / 2)];
    } catch (e) {
      return [r('warn', 'clock', `could not read the PostgreSQL clock: ${(e as Error).message}`)];
    }
  }
  if (acmeDate !== undefined && Number.isFinite(acmeDate)) return [judge(Date.now() - acmeDate, 'the ACME server (Date header, 1 s resolution)', 1000)];
  return [r('ok', 'clock', 'no other clock to compare with (SQLite store, no ACME server): keep NTP running on this machine')];
}

/** Runs the checks in order; a check left out by `only` is skipped. */
export async function runDoctor(env: Record<string, string | undefined>, opts: DoctorOptions = {}): Promise<CheckResult[]> {
  const want = (c: CheckName) => !opts.only || opts.only.includes(c);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const out: CheckResult[] = [];
  const { results, config } = checkConfig(env);
  if (want('config')) out.push(...results);
  let db: Db | undefined;
  try {
    if (want('store') || want('clock')) {
      const s = await checkStore(config, timeoutMs);
      db = s.db;
      if (want('store')) out.push(...s.results);
    }
    const [ports, resolver, relay, acme] = await Promise.all([
      want('ports') ? checkPorts(config) : [],
      want('resolver') ? checkResolver(config, timeoutMs) : [],
      want('relay') ? checkRelay(config, timeoutMs) : [],
      want('acme') || want('clock') ? checkAcme(config, timeoutMs) : { results: [] },
    ]);
    out.push(...ports, ...resolver, ...relay);
    if (want('acme')) out.push(...acme.results);
    if (want('clock')) out.push(...(await checkClock(db, 'serverDate' in acme ? acme.serverDate : undefined, timeoutMs)));
  } finally {
    await db?.close().catch(() => {});
  }
  return out;
}

export function formatResults(results: CheckResult[]): string {
  return results.map((x) => `${x.level} ${x.check}: ${x.detail}\n`).join('');
}
