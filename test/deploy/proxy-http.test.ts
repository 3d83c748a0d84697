// req.ip / req.protocol / isSecureRequest inside the real HTTP app, through real sockets and inject().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load-config.ts';
import { createContext } from '../../src/server/create-context.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { buildHttpApp } from '../../src/http/app.ts';
import { clientIp, isSecureRequest } from '../../src/http/proxy.ts';
import type { HttpFeature } from '../../src/http/http-feature.ts';

const echo: HttpFeature = {
  name: 'echo',
  root(app) {
    app.get('/echo', async (req) => ({ ip: req.ip, clientIp: clientIp(req), protocol: req.protocol, secure: isSecureRequest(req), hostname: req.hostname }));
  },
};

async function appWith(env: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-proxy-'));
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });
  const config = loadConfig({ MAILBEACON_DATABASE_URL: `sqlite:${dir}/t.db`, MAILBEACON_DATA_DIR: dir, MAILBEACON_SECRET: 'x'.repeat(40), MAILBEACON_LOG_LEVEL: 'info', ...env });
  const ctx = await createContext(config, { log: createLogger('info', sink) });
  const app = await buildHttpApp(ctx, { features: [echo], apiEnabled: false });
  return {
    app,
    lines,
    close: async () => { await app.close(); await ctx.store.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

test('behind a trusted proxy req.ip is the client, Forwarded and X-Forwarded-* both understood', async () => {
  const t = await appWith({ MAILBEACON_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' });
  try {
    let r = await t.app.inject({ url: '/echo', remoteAddress: '10.0.0.7', headers: { 'x-forwarded-for': '6.6.6.6, 17.1.2.3', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', host: 'track.example' } });
    assert.deepEqual(r.json(), { ip: '17.1.2.3', clientIp: '17.1.2.3', protocol: 'https', secure: true, hostname: 'track.example' }, 'X-Forwarded-Host is never believed');
    r = await t.app.inject({ url: '/echo', remoteAddress: '10.0.0.7', headers: { forwarded: 'for="[2001:db8::9]:1234";proto=http' } });
    assert.deepEqual({ ip: r.json().ip, secure: r.json().secure }, { ip: '2001:db8::9', secure: false });
    r = await t.app.inject({ url: '/echo', remoteAddress: '203.0.113.50', headers: { 'x-forwarded-for': '17.1.2.3', 'x-forwarded-proto': 'https', forwarded: 'for=17.1.2.3;proto=https' } });
    assert.deepEqual({ ip: r.json().ip, secure: r.json().secure }, { ip: '203.0.113.50', secure: false }, 'spoofed headers from an untrusted peer');
    r = await t.app.inject({ url: '/no-such-route', remoteAddress: '10.0.0.7', headers: { 'x-forwarded-for': '198.51.100.4' } });
    assert.equal(r.statusCode, 404);
    const logged = t.lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'http.request');
    assert.deepEqual(logged.map((l) => l.ip), ['17.1.2.3', '2001:db8::9', '203.0.113.50', '198.51.100.4'], 'the request log records the client address');
  } finally {
    await t.close();
  }
});

test('with no trusted proxies (the default) headers are ignored, over a real socket', async () => {
  const t = await appWith({});
  try {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const r = await fetch(`http://127.0.0.1:${port}/echo`, { headers: { 'x-forwarded-for': '17.1.2.3', forwarded: 'for=17.1.2.3;proto=https', 'x-forwarded-proto': 'https' } });
    const body = await r.json();
    assert.deepEqual({ ip: body.ip, protocol: body.protocol, secure: body.secure }, { ip: '127.0.0.1', protocol: 'http', secure: false });
  } finally {
    await t.close();
  }
});

test('a bad trusted-proxy range is refused at boot, naming the variable', () => {
  assert.throws(() => loadConfig({ MAILBEACON_TRUSTED_PROXIES: '10.0.0.0/8,300.1.1.1/8' }), /MAILBEACON_TRUSTED_PROXIES/);
  assert.throws(() => loadConfig({ MAILBEACON_TRUSTED_PROXY_HEADER: 'x-real-ip' }), /MAILBEACON_TRUSTED_PROXY_HEADER/);
});
