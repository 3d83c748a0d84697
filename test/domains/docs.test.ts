// Replays every `sh` example of docs/dns-records.md and docs/tracking-domains.md with curl against a real
// server whose DNS is a real dnsmasq, and checks the documented response shapes against the real ones.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { Dnsmasq } from './dnsmasq.ts';

const CP_KEY = 'docs-control-panel-key-0123';

const blocks = (file: string, lang: string) => [...fs.readFileSync(file, 'utf8').matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

function sh(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script}\n=> ${code}\n${out}${err}`))));
  });
}

describe('docs examples', () => {
  let s: TestServer;
  let dns: Dnsmasq;
  before(async () => {
    dns = await Dnsmasq.start({});
    s = await startTestServer({ roles: ['http'], env: { MAILBEACON_DNS_SERVERS: dns.server, MAILBEACON_DNS_TIMEOUT: '1000', MAILBEACON_PUBLIC_URL: 'http://track.mailbeacon.example:8080', MAILBEACON_CONTROL_PANEL_KEY: CP_KEY } });
  });
  after(async () => {
    await s.stop();
    await dns.stop();
  });

  test('docs/dns-records.md then docs/tracking-domains.md, in order', async () => {
    const a = await s.account();
    const env: Record<string, string> = { MB: s.baseUrl, KEY: a.apiKey, CP_KEY, ACCOUNT_ID: a.accountId, DOMAIN_ID: '' };
    const dnsSh = blocks('docs/dns-records.md', 'sh');
    const dnsJson = blocks('docs/dns-records.md', 'json').map((j) => JSON.parse(j));
    assert.equal(dnsSh.length, 5);

    const created = JSON.parse(await sh(dnsSh[0], env));
    assert.equal(created.name, 'example.com');
    assert.equal(created.status, 'pending');
    for (const k of Object.keys(dnsJson[0])) assert.ok(k in created, `documented field ${k} is in the response`);
    env.DOMAIN_ID = created.id;

    const txt: Record<string, string[]> = {};
    for (const r of created.dnsRecords as { name: string; value: string }[]) (txt[r.name] ??= []).push(r.value);
    await dns.set({ txt, a: { 'track.mailbeacon.example': '127.0.0.1' }, cname: { 'track.example.com': 'track.mailbeacon.example' } });

    const verified = JSON.parse(await sh(dnsSh[1], env));
    assert.equal(verified.status, 'validated', JSON.stringify(verified.checks));
    assert.deepEqual(verified.checks.map((c: { ok: boolean }) => c.ok), [true, true, true]);
    for (const k of Object.keys(dnsJson[1])) assert.ok(k in verified, k);

    const settings = JSON.parse(await sh(dnsSh[2], env));
    assert.deepEqual(Object.keys(settings).sort(), Object.keys(dnsJson[2]).sort());
    assert.equal(settings.eligible, true);
    const patched = JSON.parse(await sh(dnsSh[3], env));
    assert.deepEqual(patched.tracking, { opens: true, clicks: true });
    assert.equal(patched.pixelPlacement, 'auto');

    const cp = JSON.parse(await sh(dnsSh[4], env));
    assert.equal(cp.source, 'control_panel');
    assert.equal(cp.name, 'customer.example');
    const gate = await fetch(`${s.baseUrl}/api/v1/domains/${cp.id}/settings`, { method: 'PATCH', headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' }, body: '{"openTracking":true}' });
    assert.equal(gate.status, 409);
    assert.equal((await gate.json()).error.message, dnsJson[3].error.message.replace(/example\.com/, 'customer.example'));

    const tdSh = blocks('docs/tracking-domains.md', 'sh');
    const tdJson = blocks('docs/tracking-domains.md', 'json').map((j) => JSON.parse(j));
    assert.equal(tdSh.length, 3);
    const put = JSON.parse(await sh(tdSh[0], env));
    assert.deepEqual({ ...put, createdAt: undefined, lastCheckedAt: undefined, verifiedAt: undefined }, { ...tdJson[0], certificate: { status: 'none', expiresAt: null, error: null }, createdAt: undefined, lastCheckedAt: undefined, verifiedAt: undefined });
    const tv = JSON.parse(await sh(tdSh[1], env));
    assert.equal(tv.status, 'verified');
    assert.equal(tv.checks[0].message, tdJson[1].checks[0].message);
    assert.equal(tv.baseUrl, 'http://track.example.com:8080');
    assert.equal((await sh(tdSh[2], env)).trim(), '204');
  });
});
