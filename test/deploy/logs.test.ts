// A full session against a real `mailbeacon serve` at debug level: account, API calls with the key (good
// and bad), new keys and SMTP credentials, a sent message, SMTP submission with AUTH (good and bad), a
// dashboard login (good and bad), a pixel open and a click. Then the captured stdout+stderr are searched
// for every secret the session used: none may appear. Every stderr line is one JSON object with an event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import nodemailer from 'nodemailer';
import { spawnServe, exited, freePort } from '../helpers/spawn-cli.ts';
import { cliInProcess } from '../helpers/cli-in-process.ts';
import { TokenSigner, keyringFromSecret } from '../../src/tracking/tokens.ts';

const SECRET = 'logs-test-master-secret-Zq8v3LmN0pRt6WxY2bC4';
const PASSWORD = 'Sup3r-Secret-Dashboard-Passw0rd';

function rawGet(port: number, pathName: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

test('no secret, token or password reaches the logs of a full session at debug level', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-logs-'));
  const httpPort = await freePort();
  const smtpPort = await freePort();
  const env = {
    MAILBEACON_DATABASE_URL: `sqlite:${path.join(dir, 'mb.db')}`,
    MAILBEACON_DATA_DIR: dir,
    MAILBEACON_HTTP_PORT: String(httpPort),
    MAILBEACON_SMTP_PORT: String(smtpPort),
    MAILBEACON_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    MAILBEACON_SECRET: SECRET,
    MAILBEACON_LOG_LEVEL: 'debug',
    MAILBEACON_TRUSTED_PROXIES: '127.0.0.1/32',
  };
  const created = await cliInProcess(['account', 'create', '--email', 'logs@example.test', '--password', PASSWORD], env);
  assert.equal(created.code, 0, created.stderr);
  const creds = JSON.parse(created.stdout) as { apiKey: string; smtpUsername: string; smtpPassword: string };
  const secrets: Record<string, string> = { 'master secret': SECRET, 'user password': PASSWORD, 'API key': creds.apiKey, 'SMTP password': creds.smtpPassword };

  const serve = await spawnServe(env);
  const base = `http://127.0.0.1:${httpPort}`;
  const api = (method: string, p: string, body?: unknown, key = creds.apiKey, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/v1${p}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
  let stopped = false;
  try {
    // API with the key, and with a wrong one.
    assert.equal((await api('GET', '/account')).status, 200);
    assert.equal((await api('PATCH', '/account', { sendingMode: 'any' })).status, 200);
    const wrongKey = 'mb_wrong-key-that-must-not-be-logged-AAAAAAAAAAAAAAAAA';
    secrets['wrong API key'] = wrongKey;
    assert.equal((await api('GET', '/account', undefined, wrongKey)).status, 401);
    const newKey = await (await api('POST', '/api-keys', { name: 'second' })).json();
    secrets['created API key'] = newKey.apiKey;
    assert.equal((await api('GET', '/account', undefined, newKey.apiKey)).status, 200);
    const newSmtp = await (await api('POST', '/smtp-credentials')).json();
    secrets['created SMTP password'] = newSmtp.password;
    const sent = await api('POST', '/messages', { from: 'news@example.com', to: ['reader@example.net'], subject: 'logs test', html: '<p>Hello <a href="https://example.com/x">x</a></p>' });
    assert.equal(sent.status, 202, await sent.clone().text());

    // SMTP submission with AUTH (loopback may authenticate without TLS), and a wrong password.
    const transport = (user: string, pass: string) => nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, auth: { user, pass } });
    const info = await transport(creds.smtpUsername, creds.smtpPassword).sendMail({ from: 'news@example.com', to: 'reader2@example.net', subject: 'over smtp', text: 'hi' });
    assert.match(info.response, /^250/);
    const wrongSmtp = 'wrong-smtp-password-must-not-be-logged';
    secrets['wrong SMTP password'] = wrongSmtp;
    await assert.rejects(transport(creds.smtpUsername, wrongSmtp).sendMail({ from: 'news@example.com', to: 'r@example.net', subject: 'x', text: 'x' }));

    // Dashboard login: wrong password, then the right one; use the session and its CSRF token.
    const wrongPassword = 'Wrong-Dashboard-Password-123';
    secrets['wrong user password'] = wrongPassword;
    const bad = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'logs@example.test', password: wrongPassword }) });
    assert.equal(bad.status, 401);
    const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'logs@example.test', password: PASSWORD }) });
    assert.equal(login.status, 200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const sessionToken = cookie.split('=')[1];
    assert.ok(sessionToken && sessionToken.length >= 16, `a session cookie: ${cookie}`);
    secrets['session token'] = sessionToken;
    const { csrfToken } = await login.json();
    secrets['CSRF token'] = csrfToken;
    const viaSession = await fetch(`${base}/api/v1/api-keys`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'from-dashboard' }) });
    assert.equal(viaSession.status, 201);
    secrets['API key created in the dashboard'] = (await viaSession.json()).apiKey;

    // Tracking: a pixel and a click for the message's copy, signed for the public host.
    const list = await (await api('GET', '/messages?limit=5')).json().catch(() => undefined);
    const copyId: string = list?.data?.[0]?.recipients?.[0]?.id ?? 'cpy_unknown';
    const signer = new TokenSigner(keyringFromSecret(Buffer.from(SECRET), [1]));
    const openToken = signer.sign({ kind: 'open', copyId }, '127.0.0.1');
    const clickToken = signer.sign({ kind: 'click', copyId, linkIndex: 0, url: 'https://example.com/x' }, '127.0.0.1');
    secrets['open token'] = openToken;
    secrets['click token'] = clickToken;
    assert.equal(await rawGet(httpPort, `/o/${openToken}.gif`, { host: `127.0.0.1:${httpPort}`, 'user-agent': 'Mozilla/5.0', 'x-forwarded-for': '17.1.2.3' }), 200);
    assert.equal(await rawGet(httpPort, `/c/${clickToken}`, { host: `127.0.0.1:${httpPort}`, 'user-agent': 'Mozilla/5.0 (X11)' }), 302);

    serve.child.kill('SIGTERM');
    await exited(serve.child);
    stopped = true;

    const logs = serve.stdout() + serve.stderr();
    assert.ok(logs.length > 0);
    for (const [what, value] of Object.entries(secrets)) {
      assert.ok(value && value.length >= 8, `${what} is a real value`);
      assert.ok(!logs.includes(value), `the ${what} appears in the logs:\n${logs.split('\n').filter((l) => l.includes(value)).join('\n')}`);
    }
    // Stable structure: every stderr line is a JSON object with an event name.
    const lines = serve.stderr().split('\n').filter(Boolean);
    assert.ok(lines.length >= 10, `a debug-level session logs something (${lines.length} lines)`);
    for (const l of lines) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l);
      } catch {
        assert.fail(`not a JSON line: ${l}`);
      }
      assert.equal(typeof o.event, 'string', `no event name: ${l}`);
      assert.match(o.event as string, /^[a-z_]+\.[a-z_.]+$/, l);
      assert.notEqual(o.event, 'log.unnamed', `every line we write names its event: ${l}`);
    }
    const events = new Set(lines.map((l) => JSON.parse(l).event));
    for (const e of ['server.started', 'http.request', 'server.stopped']) assert.ok(events.has(e), `${e} logged`);
  } finally {
    if (!stopped) {
      serve.child.kill('SIGKILL');
      await exited(serve.child);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
