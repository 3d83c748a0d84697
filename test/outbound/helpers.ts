// Shared fixtures for the outbound tests: a sending domain with a DKIM key, dnsmasq publishing it, waiting
// for deliveries, smtp-sink as the smarthost.
import { generateKeyPairSync } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newId } from '../../src/domain/ids.ts';
import type { Store } from '../../src/store/store.ts';
import type { DomainsTable } from '../../src/store/schema.ts';
import { freePort } from '../helpers/spawn-cli.ts';

let cachedKey: { privateKey: string; publicKeyB64: string } | undefined;

/** One RSA key per test process (generating is slow); the public part as the DKIM p= value. */
export function dkimKeyPair() {
  if (!cachedKey) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    cachedKey = {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyB64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
  return cachedKey;
}

/** Inserts a domain row for the account (what the domains feature does on create), validated by default. */
export async function addDomain(store: Store, accountId: string, name: string, opts: Partial<DomainsTable> = {}): Promise<DomainsTable> {
  const k = dkimKeyPair();
  const row: DomainsTable = {
    id: newId('dom_'), accountId, name, source: 'dashboard', status: 'validated', statusReason: null, verificationToken: 'tok',
    dkimSelector: 'mb1', dkimPrivateKey: k.privateKey, dkimPublicKey: k.publicKeyB64, openTracking: 1, clickTracking: 1,
    pixelPlacement: 'bottom', ipTruncation: 0, retentionDays: 90, createdAt: Date.now(), verifiedAt: Date.now(), lastCheckedAt: Date.now(), ...opts,
  };
  await store.domains.insert(row);
  return row;
}

/** Polls until fn returns a truthy value (or throws after timeoutMs). */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** dnsmasq on a loopback port answering TXT records (nothing else, no upstream). */
export async function startDnsmasq(txt: Record<string, string>): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const args = ['--no-daemon', '--no-resolv', '--no-hosts', '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`, '--user=root', '--log-facility=-'];
  for (const [name, value] of Object.entries(txt)) args.push(`--txt-record=${name},${value}`); // no shell: no quotes; dnsmasq splits strings at 255
  const child = spawn('/usr/sbin/dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise((r) => setTimeout(r, 300));
  if (child.exitCode !== null) throw new Error(`dnsmasq failed: ${err}`);
  return { port, stop: () => stopChild(child) };
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

/** Postfix's smtp-sink on a loopback port, dumping each message into a directory. */
export async function startSmtpSink(flags: string[] = [], fixedPort?: number): Promise<{ port: number; dir: string; files(): string[]; stop(): Promise<void> }> {
  const port = fixedPort ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-sink-'));
  fs.chmodSync(dir, 0o777);
  const child = spawn('smtp-sink', ['-u', 'nobody', '-d', `${dir}/%H%M%S.`, ...flags, `127.0.0.1:${port}`, '64'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const net = await import('node:net');
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`smtp-sink did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    dir,
    files: () => fs.readdirSync(dir).map((f) => path.join(dir, f)),
    stop: async () => {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bare SMTP client over a plain socket: write exact bytes, read whole replies. */
export async function rawSmtp(port: number) {
  const net = await import('node:net');
  const sock = net.connect(port, '127.0.0.1');
  let buf = '';
  const waiters: (() => void)[] = [];
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  sock.on('error', () => {});
  sock.on('close', () => {
    for (const w of waiters.splice(0)) w();
  });
  /** The next complete reply (multi-line replies end at the line "NNN text"). */
  const reply = async (timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-.*\r\n)*\d{3}(?: .*)?\r\n/.exec(buf);
      if (m) {
        buf = buf.slice(m[0].length);
        return m[0];
      }
      if (sock.destroyed || Date.now() > deadline) return buf ? `(partial) ${buf}` : '(closed)';
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  };
  return {
    write: (s: string | Buffer) => sock.write(s),
    reply,
    /** Writes a command and returns its reply. */
    cmd: async (s: string) => {
      sock.write(s);
      return reply();
    },
    close: () => sock.destroy(),
  };
}

/** Verifies DKIM with mailauth, the public key fetched from dnsmasq on `dnsPort`. */
export async function verifyWithMailauth(raw: Buffer, dnsPort: number): Promise<{ status: string; domain: string; info: string }[]> {
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const { Resolver } = await import('node:dns/promises');
  const r = new Resolver();
  r.setServers([`127.0.0.1:${dnsPort}`]);
  const res = await dkimVerify(raw, { resolver: (name: string, type: string) => r.resolve(name, type as 'TXT') } as any);
  return res.results.map((x: any) => ({ status: x.status.result, domain: x.signingDomain, info: x.info }));
}

// dkimpy (Debian python3-dkim) with a DNS lookup that asks dnsmasq over UDP: an independent verifier.
const DKIMPY = String.raw`
import sys, socket, struct, os, dkim
port = int(os.environ['DNS_PORT'])
def txt(name, timeout=5):
    if isinstance(name, bytes): name = name.decode()
    labels = [l for l in name.rstrip('.').split('.')]
    qn = b''.join(bytes([len(l)]) + l.encode() for l in labels) + b'\0'
    pkt = struct.pack('>HHHHHH', 0x4d42, 0x0100, 1, 0, 0, 0) + qn + struct.pack('>HH', 16, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(timeout)
    s.sendto(pkt, ('127.0.0.1', port)); data, _ = s.recvfrom(65535)
    an = struct.unpack('>H', data[6:8])[0]
    i = 12 + len(qn) + 4
    for _ in range(an):
        if data[i] & 0xc0 == 0xc0: i += 2
        else:
            while data[i] != 0: i += data[i] + 1
            i += 1
        typ, cls, ttl, rdlen = struct.unpack('>HHIH', data[i:i+10]); i += 10
        rd = data[i:i+rdlen]; i += rdlen
        if typ == 16:
            out, j = b'', 0
            while j < len(rd):
                out += rd[j+1:j+1+rd[j]]; j += 1 + rd[j]
            return out
    return None
ok = dkim.verify(sys.stdin.buffer.read(), dnsfunc=txt)
print('PASS' if ok else 'FAIL')
sys.exit(0 if ok else 1)
`;

export async function verifyWithDkimpy(raw: Buffer, dnsPort: number): Promise<string> {
  const child = spawn('/usr/bin/python3', ['-c', DKIMPY], { env: { ...process.env, DNS_PORT: String(dnsPort) }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  child.stdin!.end(raw);
  await new Promise((r) => child.once('exit', r));
  return out.trim();
}

/** Runs swaks; resolves with its transcript (it exits non-zero when the server refuses). */
export async function swaks(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn('swaks', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, out };
}
