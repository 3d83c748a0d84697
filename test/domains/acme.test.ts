// A real certificate for a custom tracking domain: Debian's pebble as the ACME CA, resolving through a
// real dnsmasq, validating HTTP-01 against Mailbeacon's HTTP listener; the HTTPS listener then serves it by
// SNI (checked with openssl s_client and with a verifying HTTPS client), and renews it 30 days before expiry.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { freePort } from '../helpers/spawn-cli.ts';
import { TokenSigner, keyringFromSecret, clickUrl } from '../../src/tracking/tokens.ts';
import { trackingBaseFor } from '../../src/domains/tracking-base.ts';
import { renewDueCertificates } from '../../src/domains/acme.ts';
import { Dnsmasq } from './dnsmasq.ts';

const DAY = 86_400_000;

function get(opts: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(opts, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

/** openssl s_client against our HTTPS listener (async: the listener runs in this very process). */
function sClient(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-showcerts'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (b) => { out += b; });
    c.stderr.on('data', (b) => { out += b; });
    c.stdin.end();
    const timer = setTimeout(() => c.kill(), 10_000);
    c.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

describe('tracking-domain certificates from pebble', () => {
  let dir: string;
  let dns: Dnsmasq;
  let pebble: ChildProcess;
  let s: TestServer;
  let httpsPort: number;
  let mgmtPort: number;
  let now = Date.now();
  const clock = { now: () => now };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-pebble-'));
    // Pebble's own HTTPS endpoint needs a certificate; Debian ships none, so make one (and trust it).
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const [httpPort, acmePort, tlsPort] = [await freePort(), await freePort(), await freePort()];
    mgmtPort = await freePort();
    httpsPort = await freePort();
    dns = await Dnsmasq.start({});
    fs.writeFileSync(path.join(dir, 'pebble.json'), JSON.stringify({
      pebble: { listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`, certificate: path.join(dir, 'cert.pem'), privateKey: path.join(dir, 'key.pem'), httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false },
    }));
    pebble = spawn('/usr/bin/pebble', ['-config', path.join(dir, 'pebble.json'), '-dnsserver', dns.server], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_VA_ALWAYS_VALID: '0', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    pebble.stdout!.on('data', (b) => { out += b; });
    pebble.stderr!.on('data', (b) => { out += b; });
    const ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    for (let i = 0; ; i++) {
      try {
        if ((await get({ host: '127.0.0.1', port: acmePort, path: '/dir', ca })).status === 200) break;
      } catch { /* not up yet */ }
      if (i > 100 || pebble.exitCode !== null) throw new Error(`pebble did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    s = await startTestServer({
      roles: ['http', 'tracking'],
      clock,
      env: {
        MAILBEACON_HTTP_PORT: String(httpPort),
        MAILBEACON_HTTPS_PORT: String(httpsPort),
        MAILBEACON_PUBLIC_URL: `http://track.mb.test:${httpPort}`,
        MAILBEACON_DNS_SERVERS: dns.server,
        MAILBEACON_DNS_TIMEOUT: '1000',
        MAILBEACON_ACME_DIRECTORY: `https://127.0.0.1:${acmePort}/dir`,
        MAILBEACON_ACME_EMAIL: 'ops@example.test',
        MAILBEACON_ACME_CA_FILE: path.join(dir, 'cert.pem'),
      },
    });
  });
  after(async () => {
    await s?.stop();
    if (pebble && pebble.exitCode === null) {
      const exited = new Promise((r) => pebble.once('exit', r));
      pebble.kill('SIGTERM');
      await exited;
    }
    await dns?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a verified tracking domain gets a certificate, served by SNI, used for new mail, renewed before expiry', async () => {
    const a = await s.account();
    const api = async (method: string, p: string, body?: unknown) => {
      const headers = { authorization: `Bearer ${a.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) };
      const r = await fetch(`${s.baseUrl}/api/v1${p}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: await r.json() };
    };
    const d = (await api('POST', '/domains', { name: 'shop.test' })).body;
    const [ver, dkim] = d.dnsRecords;
    await dns.set({ txt: { [ver.name]: [ver.value], [dkim.name]: [dkim.value] }, a: { 'track.mb.test': '127.0.0.1' }, cname: { 't.shop.test': 'track.mb.test' } });
    assert.equal((await api('POST', `/domains/${d.id}/verify`)).body.status, 'validated');
    const put = await api('PUT', `/domains/${d.id}/tracking-domain`, { hostname: 't.shop.test' });
    assert.equal(put.body.certificate.status, 'pending');
    const v = await api('POST', `/domains/${d.id}/tracking-domain/verify`);
    assert.equal(v.body.status, 'verified');

    let td = v.body;
    for (let i = 0; i < 150 && !['valid', 'failed'].includes(td.certificate.status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      td = (await api('GET', `/domains/${d.id}/tracking-domain`)).body;
    }
    assert.equal(td.certificate.status, 'valid', JSON.stringify(td.certificate));
    assert.equal(td.https, true);
    assert.equal(td.baseUrl, `https://t.shop.test:${httpsPort}`);
    const expiresAt = Date.parse(td.certificate.expiresAt);
    assert.ok(expiresAt > Date.now() + 7 * DAY);

    // openssl sees the pebble-issued certificate for the name it asked for; an unknown name gets none.
    const out = await sClient(httpsPort, 't.shop.test');
    assert.match(out, /Pebble Intermediate/i, out);
    const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)![0];
    const leaf = new X509Certificate(leafPem);
    assert.match(leaf.subjectAltName ?? '', /DNS:t\.shop\.test/);
    assert.doesNotMatch(await sClient(httpsPort, 'unknown.test'), /BEGIN CERTIFICATE/);

    // A verifying client (pebble's root from its management API) reaches the tracking routes over HTTPS.
    const chainRoot = (await get({ host: '127.0.0.1', port: mgmtPort, path: '/roots/0', ca: fs.readFileSync(path.join(dir, 'cert.pem')) })).body;
    const signer = new TokenSigner(keyringFromSecret(s.server.ctx.secret, s.server.ctx.config.tokenKeyIds));
    const base = await trackingBaseFor(s.server.ctx, (await s.server.ctx.store.domains.get(a.accountId, d.id))!);
    assert.equal(base, `https://t.shop.test:${httpsPort}`);
    const click = new URL(clickUrl(base, signer.sign({ kind: 'click', copyId: 'cpy_x', linkIndex: 0, url: 'https://example.com/' }, 't.shop.test')));
    const r = await new Promise<number>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: httpsPort, servername: 't.shop.test', path: click.pathname, headers: { host: click.host }, ca: chainRoot }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
    });
    assert.equal(r, 302);

    // 29 days before expiry the renewal pass orders a new certificate.
    now = expiresAt - 29 * DAY;
    assert.equal(await renewDueCertificates(s.server.ctx), 1);
    const renewed = (await api('GET', `/domains/${d.id}/tracking-domain`)).body;
    assert.equal(renewed.certificate.status, 'valid');
    const row = (await s.server.ctx.store.trackingDomains.byHostname('t.shop.test'))!;
    assert.notEqual(new X509Certificate(row.certPem!).serialNumber, leaf.serialNumber, 'a new certificate');
    now = Date.now();
    assert.equal(await renewDueCertificates(s.server.ctx), 0, 'nothing due right after');
  });
});
