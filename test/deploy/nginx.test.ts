// Mailbeacon behind Debian's real nginx, configured with the documented docs/deploy/nginx.conf (only ports,
// certificate paths and the include path substituted): a pixel open through nginx records the original
// client address and user agent; an open relayed for an address in Apple's 17.0.0.0/8 is a machine open
// (apple_mpp); addresses a client writes itself are ignored; the documented /metrics restriction holds.
import { trackingSettled } from '../../src/tracking/tracking-http.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { startTestServer } from '../helpers/test-server.ts';
import { freePort } from '../helpers/spawn-cli.ts';
import { seedCopies, signer } from '../tracking/helpers.ts';
import { pixelUrl } from '../../src/tracking/tokens.ts';

const HOST = 'mailbeacon.example.com';

function sub(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  assert.notEqual(out, text, `the documented config no longer contains ${from}: update the test with the doc`);
  return out;
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function get(opts: { port: number; path: string; tls?: Buffer; host?: string; from?: string; headers?: Record<string, string> }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port: opts.port, path: opts.path, localAddress: opts.from ?? '127.0.0.1', agent: false as const, headers: { host: opts.host ?? HOST, ...opts.headers } };
    const onRes = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    };
    const req = opts.tls ? https.request({ ...common, servername: opts.host ?? HOST, ca: opts.tls }, onRes) : http.request(common, onRes);
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('through nginx: client address and user agent recorded, Apple range classified as machine, spoofing ignored', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-nginx-'));
  fs.chmodSync(dir, 0o755);
  const mb = await startTestServer({
    roles: ['http', 'tracking'],
    env: { MAILBEACON_TRUSTED_PROXIES: '127.0.0.1/32', MAILBEACON_TRUSTED_PROXY_HEADER: 'x-forwarded-for', MAILBEACON_PUBLIC_URL: `https://${HOST}` },
  });
  const conf = path.join(dir, 'nginx.conf');
  let nginxStarted = false;
  try {
    // A certificate for the public name.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'pipe' });
    const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    const p80 = await freePort();
    const p443 = await freePort();

    // Render the documented files.
    let site = fs.readFileSync('docs/deploy/nginx.conf', 'utf8');
    site = sub(site, /^.*\[::\].*\n/gm, '');
    site = sub(site, /server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${mb.server.httpPort};`);
    site = sub(site, /listen 443 ssl http2;/g, `listen 127.0.0.1:${p443} ssl http2;`);
    site = sub(site, /listen 80;/g, `listen 127.0.0.1:${p80};`);
    site = sub(site, /listen 80 default_server;/g, `listen 127.0.0.1:${p80} default_server;`);
    site = sub(site, `/etc/letsencrypt/live/${HOST}/fullchain.pem`, path.join(dir, 'cert.pem'));
    site = sub(site, `/etc/letsencrypt/live/${HOST}/privkey.pem`, path.join(dir, 'key.pem'));
    site = sub(site, /\/etc\/nginx\/mailbeacon-proxy\.conf/g, path.join(dir, 'mailbeacon-proxy.conf'));
    fs.writeFileSync(path.join(dir, 'mailbeacon.conf'), site);
    fs.copyFileSync('docs/deploy/mailbeacon-proxy.conf', path.join(dir, 'mailbeacon-proxy.conf'));
    fs.writeFileSync(conf, `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/mailbeacon.conf;
}
`);
    execFileSync('nginx', ['-t', '-q', '-p', dir, '-c', conf], { stdio: 'pipe' });
    execFileSync('nginx', ['-p', dir, '-c', conf], { stdio: 'pipe' });
    nginxStarted = true;

    const store = mb.server.ctx.store;
    const { copyIds } = await seedCopies(store, 2);
    const pixelPath = (copyId: string) => new URL(pixelUrl(`https://${HOST}`, signer.sign({ kind: 'open', copyId }, HOST))).pathname;
    const eventOf = async (copyId: string) => {
      await trackingSettled(mb.server.ctx); // SQLite: answered hits are ingested from the event journal
      return store.db.kysely.selectFrom('events').selectAll().where('copyId', '=', copyId).where('type', '=', 'open').execute();
    };

    // Apple's proxy reaches us through a load balancer (127.0.0.1, trusted) that reports it in X-Forwarded-For;
    // nginx appends the balancer's address. Mailbeacon must see 17.58.1.2, not nginx's 127.0.0.1.
    const apple = await get({ port: p443, tls: cert, path: pixelPath(copyIds[0]), headers: { 'x-forwarded-for': '17.58.1.2', 'user-agent': 'Mozilla/5.0' } });
    assert.equal(apple.status, 200);
    assert.equal(apple.headers['content-type'], 'image/gif');
    const [ev1] = await eventOf(copyIds[0]);
    assert.ok(ev1, 'the open through nginx was recorded');
    assert.equal(ev1.ip, '17.58.1.2');
    assert.equal(ev1.userAgent, 'Mozilla/5.0');
    assert.equal(ev1.classification, 'machine');
    assert.equal(ev1.reason, 'apple_mpp');

    // A reader at 127.0.0.2 (not a trusted proxy) connecting to nginx directly, trying to pass itself off
    // as Apple with headers of its own: recorded with its real address and user agent.
    const ua = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.0';
    const human = await get({ port: p443, tls: cert, from: '127.0.0.2', path: pixelPath(copyIds[1]), headers: { 'x-forwarded-for': '17.1.1.1', forwarded: 'for=17.2.2.2', 'user-agent': ua } });
    assert.equal(human.status, 200);
    const [ev2] = await eventOf(copyIds[1]);
    assert.ok(ev2, 'the second open was recorded');
    assert.equal(ev2.ip, '127.0.0.2');
    assert.equal(ev2.userAgent, ua);
    assert.notEqual(ev2.reason, 'apple_mpp');

    // The API over TLS through nginx.
    const acc = await mb.account();
    const api = await get({ port: p443, tls: cert, path: '/api/v1/account', headers: { authorization: `Bearer ${acc.apiKey}` } });
    assert.equal(api.status, 200);
    assert.equal(JSON.parse(api.body.toString()).id, acc.accountId);

    // /metrics only for the monitoring network (127.0.0.1 in the documented config).
    assert.equal((await get({ port: p443, tls: cert, path: '/metrics' })).status, 200);
    assert.equal((await get({ port: p443, tls: cert, path: '/metrics', from: '127.0.0.2' })).status, 403);

    // Port 80: the public name redirects to https; any other Host (custom tracking domains) reaches
    // Mailbeacon unchanged.
    const redirect = await get({ port: p80, path: '/o/x.gif' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `https://${HOST}/o/x.gif`);
    const custom = await get({ port: p80, path: '/healthz', host: 'track.customer.example' });
    assert.equal(custom.status, 200);
    assert.deepEqual(JSON.parse(custom.body.toString()), { ok: true });
  } finally {
    if (nginxStarted) {
      try { execFileSync('nginx', ['-p', dir, '-c', conf, '-s', 'stop'], { stdio: 'pipe' }); } catch { /* already gone */ }
    }
    await mb.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
