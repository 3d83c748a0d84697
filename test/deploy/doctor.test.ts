// `mailbeacon doctor` against real peers on loopback: a misconfigured setup gets every problem named on its
// own `fail <check>:` line (and exit 1); a healthy one gets no fail and exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { cliInProcess } from '../helpers/cli-in-process.ts';
import { freePort } from '../helpers/spawn-cli.ts';
import { createTestStore } from '../helpers/dialects.ts';

const LINE = /^(ok|warn|fail) (config|store|ports|resolver|relay|acme|clock): \S/;

async function listen(server: net.Server | http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** A line-based fake SMTP server: `greeting`, then `ehlo` to EHLO. */
function smtpPeer(greeting: string, ehlo = '250-peer\r\n250 SIZE 1000'): net.Server {
  return net.createServer((s) => {
    s.write(`${greeting}\r\n`);
    s.on('data', (d) => {
      if (/^EHLO/i.test(d.toString())) s.write(`${ehlo}\r\n`);
      if (/QUIT/i.test(d.toString())) s.end('221 bye\r\n');
    });
    s.on('error', () => {});
  });
}

/** A DNS server that answers every query NXDOMAIN (an answer, so the resolver counts as working). */
async function nxdomainServer(): Promise<{ port: number; close(): void }> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (q, rinfo) => {
    const a = Buffer.from(q);
    a[2] = 0x80 | (q[2] & 0x01); // QR, keep RD
    a[3] = 0x80 | 3; // RA, RCODE=NXDOMAIN
    a.writeUInt16BE(0, 6); a.writeUInt16BE(0, 8); a.writeUInt16BE(0, 10);
    sock.send(a, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, close: () => sock.close() };
}

test('a misconfigured setup: each problem is named', async () => {
  const busy = net.createServer();
  const busyPort = await listen(busy);
  const silentDns = dgram.createSocket('udp4'); // bound, never answers
  await new Promise<void>((r) => silentDns.bind(0, '127.0.0.1', () => r()));
  const rudeSmtp = smtpPeer('554 5.7.1 no service for you');
  const smtpPort = await listen(rudeSmtp);
  const notAcme = http.createServer((_q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}'));
  const acmePort = await listen(notAcme);
  const closedPg = await freePort();
  try {
    const res = await cliInProcess(['doctor', '--timeout', '1500'], {
      MAILBEACON_LOG_LEVEL: 'loud',
      MAILBEACON_RETRY_SCHEDULE: '60,soon',
      MAILBEACON_SECRET: 'too-short',
      MAILBEACON_DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${closedPg}/nothing`,
      MAILBEACON_HTTP_PORT: String(busyPort),
      MAILBEACON_SMTP_PORT: String(await freePort()),
      MAILBEACON_DNS_SERVERS: `127.0.0.1:${silentDns.address().port}`,
      MAILBEACON_RELAY: `smtp://127.0.0.1:${smtpPort}`,
      MAILBEACON_ACME_DIRECTORY: `http://127.0.0.1:${acmePort}/directory`,
    });
    assert.equal(res.code, 1, res.stdout + res.stderr);
    const lines = res.stdout.trim().split('\n');
    for (const l of lines) assert.match(l, LINE);
    const fails = lines.filter((l) => l.startsWith('fail '));
    const expect: [RegExp, string][] = [
      [/^fail config: MAILBEACON_LOG_LEVEL="loud" is invalid/, 'bad log level'],
      [/^fail config: MAILBEACON_RETRY_SCHEDULE="60,soon" is invalid/, 'bad retry schedule'],
      [/^fail config: MAILBEACON_SECRET=\(hidden\) is invalid/, 'short secret, value hidden'],
      [new RegExp(`^fail store: cannot reach postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${closedPg}/nothing`), 'unreachable PostgreSQL, password masked'],
      [new RegExp(`^fail ports: HTTP port 127\\.0\\.0\\.1:${busyPort} is already in use .*MAILBEACON_HTTP_PORT`), 'HTTP port in use'],
      [new RegExp(`^fail resolver: 127\\.0\\.0\\.1:${silentDns.address().port} from MAILBEACON_DNS_SERVERS does not answer`), 'silent resolver'],
      [new RegExp(`^fail relay: cannot talk SMTP to 127\\.0\\.0\\.1:${smtpPort} .*554`), 'smarthost refuses'],
      [/^fail acme: .* not with an ACME directory/, 'not an ACME directory'],
    ];
    for (const [re, what] of expect) assert.ok(fails.some((l) => re.test(l)), `${what}: expected a line matching ${re}\n${res.stdout}`);
    assert.equal(fails.length, expect.length, `no other failures:\n${res.stdout}`);
    assert.doesNotMatch(res.stdout, /hunter2|too-short/, 'secrets are never printed');
  } finally {
    busy.close();
    silentDns.close();
    rudeSmtp.close();
    notAcme.close();
  }
});

test('a healthy setup on PostgreSQL: no failures, the clock compared with the database', async () => {
  const store = await createTestStore('postgres');
  const dns = await nxdomainServer();
  const smtp = smtpPeer('220 relay.test ESMTP', '250-relay.test\r\n250-STARTTLS\r\n250 SIZE 1000');
  const smtpPort = await listen(smtp);
  const acme = http.createServer((_q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ newNonce: 'http://x/nonce', newAccount: 'http://x/acct', newOrder: 'http://x/order' })));
  const acmePort = await listen(acme);
  try {
    const res = await cliInProcess(['doctor', '--timeout', '3000'], {
      MAILBEACON_DATABASE_URL: store.url,
      MAILBEACON_HTTP_PORT: String(await freePort()),
      MAILBEACON_SMTP_PORT: String(await freePort()),
      MAILBEACON_SECRET: 'a-healthy-secret-of-more-than-32-characters',
      MAILBEACON_PUBLIC_URL: 'https://mailbeacon.example.com',
      MAILBEACON_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      MAILBEACON_RELAY: `smtp://127.0.0.1:${smtpPort}?tls=required`,
      MAILBEACON_ACME_DIRECTORY: `http://127.0.0.1:${acmePort}/directory`,
      MAILBEACON_ACME_EMAIL: 'ops@example.com',
    });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const lines = res.stdout.trim().split('\n');
    for (const l of lines) assert.match(l, LINE);
    assert.deepEqual(lines.filter((l) => !l.startsWith('ok ')), [], res.stdout);
    for (const c of ['config', 'store', 'ports', 'resolver', 'relay', 'acme', 'clock']) assert.ok(lines.some((l) => l.startsWith(`ok ${c}: `)), `${c} checked:\n${res.stdout}`);
    assert.match(res.stdout, /ok clock: within \d+ ms of the PostgreSQL server/);
    assert.match(res.stdout, /ok store: .* schema up to date/);

    // --only limits the checks (the systemd unit runs config,store before every start).
    const only = await cliInProcess(['doctor', '--only', 'config,store'], { MAILBEACON_DATABASE_URL: store.url, MAILBEACON_SECRET: 'a-healthy-secret-of-more-than-32-characters', MAILBEACON_PUBLIC_URL: 'https://mailbeacon.example.com' });
    assert.equal(only.code, 0, only.stdout);
    assert.deepEqual([...new Set(only.stdout.trim().split('\n').map((l) => l.split(':')[0].split(' ')[1]))], ['config', 'store']);
  } finally {
    dns.close();
    smtp.close();
    acme.close();
    await store.cleanup();
  }
});
