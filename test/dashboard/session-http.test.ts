// The dashboard's session layer over real HTTP: login, cookie flags, rate limit, CSRF, tenant scoping,
// logout, password change, the page's security headers, and live events over SSE.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createTestDatabase } from '../helpers/dialects.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createContext } from '../../src/server/create-context.ts';
import { startServer, type RunningServer } from '../../src/server/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createAccount } from '../../src/accounts/account-service.ts';

const PASSWORD = 'correct horse battery';

interface Login { status: number; cookie?: string; setCookie?: string; body: any }

async function login(s: TestServer, email: string, password: string, ip = '203.0.113.1'): Promise<Login> {
  const r = await fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify({ email, password }) });
  const setCookie = r.headers.get('set-cookie') ?? undefined;
  return { status: r.status, setCookie, cookie: setCookie?.split(';')[0], body: await r.json() };
}

/** Reads the stream until `needle` shows up; fails after `ms` (a missed event must not wait for a keepalive). */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, needle: string, ms: number): Promise<string> {
  let text = '';
  const deadline = Date.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${needle} not in the stream within ${ms} ms: ${JSON.stringify(text)}`)), ms);
  });
  try {
    while (!text.includes(needle) && Date.now() < deadline) {
      const { value, done } = await Promise.race([reader.read(), late]);
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return text;
}

describe('dashboard sessions over HTTP', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { MAILBEACON_LOGIN_MAX_ATTEMPTS: '3', MAILBEACON_TRUSTED_PROXIES: '127.0.0.1/32' } });
  });
  after(async () => { await s.stop(); });

  test('login sets an HttpOnly SameSite cookie (not Secure on http) and returns a CSRF token; wrong password is 401', async () => {
    const a = await s.account('login-ok@example.test');
    const bad = await login(s, 'login-ok@example.test', 'nope nope nope', '203.0.113.10');
    assert.equal(bad.status, 401);
    assert.equal(bad.setCookie, undefined);
    const ok = await login(s, 'Login-OK@example.test', PASSWORD, '203.0.113.10');
    assert.equal(ok.status, 200);
    assert.match(ok.setCookie!, /^mb_session=[A-Za-z0-9_-]{40,};/);
    assert.match(ok.setCookie!, /; HttpOnly/);
    assert.match(ok.setCookie!, /; SameSite=Lax/);
    assert.match(ok.setCookie!, /; Path=\//);
    assert.doesNotMatch(ok.setCookie!, /Secure/);
    assert.equal(ok.body.account.id, a.accountId);
    assert.equal(ok.body.user.email, 'login-ok@example.test');
    assert.ok(ok.body.csrfToken.length >= 20);
    // The cookie authenticates /api/v1 and /auth/session; the stored id is a hash, not the cookie value.
    const me = await fetch(`${s.baseUrl}/api/v1/account`, { headers: { cookie: ok.cookie! } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).id, a.accountId);
    const sess = await fetch(`${s.baseUrl}/auth/session`, { headers: { cookie: ok.cookie! } });
    assert.equal((await sess.json()).csrfToken, ok.body.csrfToken);
    assert.deepEqual(await (await fetch(`${s.baseUrl}/auth/session`)).json(), { authenticated: false });
    const token = ok.cookie!.split('=')[1];
    const row = await s.server.ctx.store.db.kysely.selectFrom('sessions').selectAll().where('userId', '=', a.userId).executeTakeFirstOrThrow();
    assert.notEqual(row.id, token);
    // A forged cookie is not a session.
    assert.equal((await fetch(`${s.baseUrl}/api/v1/account`, { headers: { cookie: `mb_session=${token}x` } })).status, 401);
  });

  test('login CSRF: a cross-site form cannot log a browser in (only JSON is accepted, which needs CORS)', async () => {
    await s.account('formpost@example.test');
    for (const [type, body] of [['application/x-www-form-urlencoded', 'email=formpost%40example.test&password=correct+horse+battery'], ['text/plain', '{"email":"formpost@example.test","password":"correct horse battery"}'], ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nformpost@example.test\r\n--x--\r\n']]) {
      const r = await fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': type, origin: 'https://evil.example' }, body });
      assert.ok(r.status === 415 || r.status === 422, `${type}: ${r.status}`);
      assert.equal(r.headers.get('set-cookie'), null);
      assert.equal(r.headers.get('access-control-allow-origin'), null);
    }
  });

  test('login is rate-limited per email and per address (429 with Retry-After), before the password is checked', async () => {
    await s.account('victim@example.test');
    for (let i = 0; i < 3; i++) assert.equal((await login(s, 'victim@example.test', `guess-${i}-guess`, `198.51.100.${i + 1}`)).status, 401);
    // Per email: the right password from a fresh address is refused now.
    const limited = await fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.50' }, body: JSON.stringify({ email: 'victim@example.test', password: PASSWORD }) });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await limited.json()).error.code, 'rate_limited');
    // Per address: one address spraying several emails.
    await s.account('other@example.test');
    for (let i = 0; i < 3; i++) assert.equal((await login(s, `nobody${i}@example.test`, 'whatever-password', '192.0.2.77')).status, 401);
    assert.equal((await login(s, 'other@example.test', PASSWORD, '192.0.2.77')).status, 429);
    // Other addresses and emails are unaffected.
    assert.equal((await login(s, 'other@example.test', PASSWORD, '192.0.2.78')).status, 200);
  });

  test('CSRF: a cookie-authenticated state change needs the session token in X-CSRF-Token', async () => {
    await s.account('csrf@example.test');
    const l = await login(s, 'csrf@example.test', PASSWORD, '203.0.113.20');
    const post = (headers: Record<string, string>) => fetch(`${s.baseUrl}/api/v1/api-keys`, { method: 'POST', headers: { cookie: l.cookie!, 'content-type': 'application/json', ...headers }, body: '{"name":"x"}' });
    const none = await post({});
    assert.equal(none.status, 403);
    assert.equal((await none.json()).error.code, 'csrf_failed');
    assert.equal((await post({ 'x-csrf-token': 'not-the-token' })).status, 403);
    const other = await login(s, 'csrf@example.test', PASSWORD, '203.0.113.20');
    assert.equal((await post({ 'x-csrf-token': other.body.csrfToken })).status, 403, "another session's token does not count");
    assert.equal((await post({ 'x-csrf-token': l.body.csrfToken })).status, 201);
    // GET needs no token; logout needs it.
    assert.equal((await fetch(`${s.baseUrl}/api/v1/api-keys`, { headers: { cookie: l.cookie! } })).status, 200);
    assert.equal((await fetch(`${s.baseUrl}/auth/logout`, { method: 'POST', headers: { cookie: l.cookie! } })).status, 403);
  });

  test("another account's objects answer 404 through the session", async () => {
    const a = await s.account('tenant-a@example.test');
    const b = await s.account('tenant-b@example.test');
    const keyB = await (await fetch(`${s.baseUrl}/api/v1/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${b.apiKey}`, 'content-type': 'application/json' }, body: '{"name":"b"}' })).json();
    const l = await login(s, 'tenant-a@example.test', PASSWORD, '203.0.113.30');
    const del = await fetch(`${s.baseUrl}/api/v1/api-keys/${keyB.id}`, { method: 'DELETE', headers: { cookie: l.cookie!, 'x-csrf-token': l.body.csrfToken } });
    assert.equal(del.status, 404);
    const list = await (await fetch(`${s.baseUrl}/api/v1/api-keys`, { headers: { cookie: l.cookie! } })).json();
    assert.ok(list.data.every((k: any) => k.id !== keyB.id));
    assert.ok(a.accountId !== b.accountId);
    // B's message: its timeline is 404 for A, its copies' activity is empty for A, and both work for B.
    const db = s.server.ctx.store.db.kysely;
    const now = Date.now();
    await db.insertInto('messages').values({ id: 'msg_b1', accountId: b.accountId, domainId: null, messageIdHeader: '<b1@x>', fromAddress: 'b@x.test', subject: 'b', source: 'api', size: 1, trackOpens: null, trackClicks: null, raw: Buffer.from('x'), createdAt: now } as any).execute();
    await db.insertInto('messageCopies').values({ id: 'cpy_b1', messageId: 'msg_b1', accountId: b.accountId, domainId: null, recipient: 'r@x.test', status: 'delivered', attempts: 1, nextAttemptAt: now, lockedBy: null, lockedUntil: null, lastError: null, trackingBase: null, deliveredAt: now, createdAt: now } as any).execute();
    await db.insertInto('events').values({ accountId: b.accountId, domainId: null, messageId: 'msg_b1', copyId: 'cpy_b1', type: 'open', createdAt: now, isFirst: 1, classification: 'human' }).execute();
    assert.equal((await fetch(`${s.baseUrl}/api/v1/messages/msg_b1/timeline`, { headers: { cookie: l.cookie! } })).status, 404);
    const actA = await (await fetch(`${s.baseUrl}/api/v1/copies/activity?ids=cpy_b1`, { headers: { cookie: l.cookie! } })).json();
    assert.deepEqual(actA.data, { cpy_b1: { opens: 0, humanOpens: 0, clicks: 0 } });
    const hb = { authorization: `Bearer ${b.apiKey}` };
    const tl = await (await fetch(`${s.baseUrl}/api/v1/messages/msg_b1/timeline`, { headers: hb })).json();
    assert.deepEqual(tl.data.map((e: any) => e.type), ['open']);
    const actB = await (await fetch(`${s.baseUrl}/api/v1/copies/activity?ids=cpy_b1`, { headers: hb })).json();
    assert.deepEqual(actB.data, { cpy_b1: { opens: 1, humanOpens: 1, clicks: 0 } });
  });

  test('logout ends the session; password change keeps this session and ends the others', async () => {
    await s.account('pw@example.test');
    const one = await login(s, 'pw@example.test', PASSWORD, '203.0.113.40');
    const two = await login(s, 'pw@example.test', PASSWORD, '203.0.113.40');
    const change = (l: Login, body: object) => fetch(`${s.baseUrl}/api/v1/account/password`, { method: 'POST', headers: { cookie: l.cookie!, 'x-csrf-token': l.body.csrfToken, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const wrong = await change(one, { currentPassword: 'not it at all', newPassword: 'a new password' });
    assert.equal(wrong.status, 422);
    assert.equal((await change(one, { currentPassword: PASSWORD, newPassword: 'short' })).status, 422);
    assert.equal((await change(one, { currentPassword: PASSWORD, newPassword: 'a brand new password' })).status, 204);
    assert.equal((await fetch(`${s.baseUrl}/api/v1/account`, { headers: { cookie: one.cookie! } })).status, 200);
    assert.equal((await fetch(`${s.baseUrl}/api/v1/account`, { headers: { cookie: two.cookie! } })).status, 401);
    assert.equal((await login(s, 'pw@example.test', PASSWORD, '203.0.113.41')).status, 401);
    assert.equal((await login(s, 'pw@example.test', 'a brand new password', '203.0.113.41')).status, 200);
    // API keys cannot change a password.
    const acc = await s.account('pw-key@example.test');
    const viaKey = await fetch(`${s.baseUrl}/api/v1/account/password`, { method: 'POST', headers: { authorization: `Bearer ${acc.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ currentPassword: PASSWORD, newPassword: 'whatever else' }) });
    assert.equal(viaKey.status, 403);
    const out = await fetch(`${s.baseUrl}/auth/logout`, { method: 'POST', headers: { cookie: one.cookie!, 'x-csrf-token': one.body.csrfToken } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((await fetch(`${s.baseUrl}/api/v1/account`, { headers: { cookie: one.cookie! } })).status, 401);
  });

  test('the page and its assets carry a strict CSP; no inline script in the HTML', async () => {
    const r = await fetch(`${s.baseUrl}/`);
    assert.equal(r.status, 200);
    const csp = r.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    const html = await r.text();
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /src="\/assets\//);
      assert.equal(m[2].trim(), '');
    }
    const js = await fetch(`${s.baseUrl}/assets/js/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type')!, /javascript/);
    const etag = js.headers.get('etag')!;
    assert.equal((await fetch(`${s.baseUrl}/assets/js/app.js`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${s.baseUrl}/assets/vendor/uPlot.esm.js`)).status, 200);
    assert.equal((await fetch(`${s.baseUrl}/assets/../dashboard-http.ts`)).status, 404);
    assert.equal((await fetch(`${s.baseUrl}/assets/%2e%2e/dashboard-http.ts`)).status, 404);
  });

  test('live events: the SSE stream delivers new events of the account only', async () => {
    const a = await s.account('live-a@example.test');
    const b = await s.account('live-b@example.test');
    const l = await login(s, 'live-a@example.test', PASSWORD, '203.0.113.50');
    const ac = new AbortController();
    const r = await fetch(`${s.baseUrl}/api/v1/live`, { headers: { cookie: l.cookie! }, signal: ac.signal });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /text\/event-stream/);
    const reader = r.body!.getReader();
    const events = s.server.ctx.store.db.kysely;
    const base = { createdAt: Date.now(), isFirst: 1, domainId: null, messageId: 'msg_1', copyId: 'cpy_1' } as const;
    await events.insertInto('events').values({ ...base, accountId: b.accountId, type: 'open', recipient: 'not-mine@example.test' }).execute();
    await events.insertInto('events').values({ ...base, accountId: a.accountId, type: 'open', recipient: 'mine@example.test', userAgent: '<img src=x onerror=alert(1)>' }).execute();
    const text = await readUntil(reader, 'mine@example.test', 5000);
    ac.abort();
    assert.match(text, /id: \d+\ndata: \{"id":\d+,"type":"open"/);
    assert.ok(text.includes('"recipient":"mine@example.test"'));
    assert.ok(!text.includes('not-mine'));
    // Without a session: 401.
    assert.equal((await fetch(`${s.baseUrl}/api/v1/live`)).status, 401);
  });
});

describe('dashboard cookie under https', () => {
  test('Secure and __Host- prefix when MAILBEACON_PUBLIC_URL is https', async () => {
    const s = await startTestServer({ env: { MAILBEACON_PUBLIC_URL: 'https://mail.example.test' } });
    try {
      await s.account('secure@example.test');
      const l = await login(s, 'secure@example.test', PASSWORD);
      assert.equal(l.status, 200);
      assert.match(l.setCookie!, /^__Host-mb_session=/);
      assert.match(l.setCookie!, /; Secure/);
      assert.match(l.setCookie!, /; HttpOnly/);
    } finally {
      await s.stop();
    }
  });
});

describe('dashboard with two nodes on one PostgreSQL', () => {
  test('a session made on one node works on the other; the live stream on node A shows an event written by node B', async () => {
    const tdb = await createTestDatabase('postgres');
    const dirs: string[] = [];
    const nodes: RunningServer[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-node-'));
        dirs.push(dataDir);
        const config = loadConfig({ MAILBEACON_DATABASE_URL: tdb.url, MAILBEACON_DATA_DIR: dataDir, MAILBEACON_HTTP_PORT: '0', MAILBEACON_SMTP_PORT: '0', MAILBEACON_LOG_LEVEL: 'silent', MAILBEACON_SECRET: 'test-secret-test-secret-test-secret-0123' });
        const ctx = await createContext(config, { log: createLogger('silent') });
        nodes.push(await startServer(ctx, { roles: ['http'], demoAccount: false }));
      }
      const [a, b] = nodes;
      const acc = await createAccount(a.ctx.store, { email: 'two-nodes@example.test', password: PASSWORD });
      const login = await fetch(`http://127.0.0.1:${a.httpPort}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'two-nodes@example.test', password: PASSWORD }) });
      assert.equal(login.status, 200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      const csrf = (await login.json()).csrfToken;
      const onB = await fetch(`http://127.0.0.1:${b.httpPort}/api/v1/api-keys`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: '{"name":"via b"}' });
      assert.equal(onB.status, 201, 'the session and its CSRF token are in the store, not in one process');
      const ac = new AbortController();
      const r = await fetch(`http://127.0.0.1:${a.httpPort}/api/v1/live`, { headers: { cookie }, signal: ac.signal });
      const reader = r.body!.getReader();
      await reader.read();
      await b.ctx.store.db.kysely.insertInto('events').values({ accountId: acc.accountId, domainId: null, messageId: 'msg_x', copyId: 'cpy_x', type: 'click', createdAt: Date.now(), isFirst: 1, recipient: 'via-node-b@example.test', url: 'https://example.com/' }).execute();
      const text = await readUntil(reader, 'via-node-b@example.test', 8000);
      ac.abort();
      assert.ok(text.includes('"type":"click"') && text.includes('via-node-b@example.test'));
    } finally {
      for (const n of nodes) await n.stop();
      await tdb.cleanup();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
