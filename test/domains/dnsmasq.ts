// A real dnsmasq on a loopback port serving exactly the records a test gives it (authoritative for every
// name: unknown names are NXDOMAIN, known names without the asked type NODATA). set() restarts it with a
// new record set on the same port (dnsmasq has no API to change records at run time).
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { freePort } from '../helpers/spawn-cli.ts';

export interface DnsRecords {
  /** name → TXT values (each value may be several strings: long DKIM keys are split like providers do). */
  txt?: Record<string, string[]>;
  /** name → CNAME target (the target must also be in `a` for dnsmasq to answer). */
  cname?: Record<string, string>;
  /** name → IPv4 address */
  a?: Record<string, string>;
}

/** Splits a long TXT value into 255-byte strings, as DNS needs. */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}

export class Dnsmasq {
  private child?: ChildProcess;
  private constructor(readonly port: number) {}

  static async start(records: DnsRecords): Promise<Dnsmasq> {
    const d = new Dnsmasq(await freePort());
    await d.set(records);
    return d;
  }

  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  async set(records: DnsRecords): Promise<void> {
    await this.stop();
    const args = ['--no-daemon', `--port=${this.port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--log-facility=-', '--cache-size=0', '--local=/#/'];
    for (const [name, values] of Object.entries(records.txt ?? {})) {
      for (const v of values) args.push(`--txt-record=${name},${txtStrings(v).join(',')}`);
    }
    for (const [name, ip] of Object.entries(records.a ?? {})) args.push(`--host-record=${name},${ip}`);
    for (const [name, target] of Object.entries(records.cname ?? {})) args.push(`--cname=${name},${target}`);
    const child = spawn('/usr/sbin/dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b) => { err += b; });
    this.child = child;
    // Ready when it answers a query (any answer, even NXDOMAIN).
    const r = new Resolver({ timeout: 200, tries: 1 });
    r.setServers([this.server]);
    for (let i = 0; i < 50; i++) {
      if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${err}`);
      try {
        await r.resolveTxt('ready.invalid');
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED') return;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`dnsmasq did not answer: ${err}`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }
}

/** A UDP port where a socket is bound but never answers: DNS queries to it time out. */
export async function silentDnsServer(): Promise<{ server: string; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const { port } = sock.address();
  return { server: `127.0.0.1:${port}`, close: () => new Promise((r) => sock.close(() => r())) };
}

/** A tiny DNS server that answers every query with SERVFAIL (rcode 2), as a broken upstream does. */
export async function servfailDnsServer(): Promise<{ server: string; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const out = Buffer.from(msg);
    out[2] = (out[2] | 0x80) & 0xf9; // QR=1 (response), keep opcode and RD
    out[3] = (out[3] & 0xf0) | 2; // RCODE=SERVFAIL
    sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { server: `127.0.0.1:${sock.address().port}`, close: () => new Promise((r) => sock.close(() => r())) };
}
