// The send, messages and outbox APIs over real HTTP on both dialects, and every `sh` example of
// docs/sending-api.md replayed with curl against the running server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import type { NewAccountCredentials } from '../../src/accounts/account-service.ts';
import { DIALECTS } from '../helpers/dialects.ts';
import { addDomain, dkimKeyPair, waitFor } from './helpers.ts';

function shBlocks(md: string): string[] {
  return [...md.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function runSh(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

async function mailauthVerify(raw: Buffer): Promise<string[]> {
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const txt = `v=DKIM1; k=rsa; p=${dkimKeyPair().publicKeyB64}`;
  const resolver = async (name: string, type: string) => {
    if (type === 'TXT' && name.endsWith('._domainkey.example.com')) return [[txt]];
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  };
  const res = await dkimVerify(raw, { resolver } as any);
  return res.results.map((r: any) => r.status.result);
}

for (const dialect of DIALECTS) {
  describe(`send and messages API on ${dialect}`, () => {
    let ts: TestServer;
    let acc: NewAccountCredentials;
    let other: NewAccountCredentials;
    const api = (path: string, init: RequestInit = {}, key = acc.apiKey) =>
      fetch(`${ts.baseUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    const send = (body: unknown, key?: string) => api('/messages', { method: 'POST', body: JSON.stringify(body) }, key);

    before(async () => {
      ts = await startTestServer({ dialect, roles: ['http', 'worker'], env: { MAILBEACON_RELAY: 'outbox' } });
      acc = await ts.account();
      other = await ts.account();
      await addDomain(ts.server.ctx.store, acc.accountId, 'example.com');
    });
    after(async () => { await ts?.stop(); });

    async function outboxOf(id: string, recipient: string): Promise<string> {
      const entry = await waitFor(async () => {
        const r = await (await api(`/outbox?messageId=${id}`)).json();
        return r.data.find((x: any) => x.recipient === recipient);
      }, 30_000, `outbox copy for ${recipient}`);
      const raw = await api(`/outbox/${entry.id}/raw`);
      assert.equal(raw.headers.get('content-type'), 'message/rfc822');
      return Buffer.from(await raw.arrayBuffer()).toString('latin1');
    }

    test('JSON form: 202 after commit, tracked and DKIM-signed copies, Bcc unseen, per-recipient status and events', async () => {
      const r = await send({
        from: 'Shop <news@example.com>', to: ['Reader <reader@example.net>'], bcc: ['audit@example.org'], subject: 'Your receipt',
        html: '<html><body><p>Thanks for <a href="https://example.com/orders/42">your order</a>.</p></body></html>', text: 'Thanks',
        attachments: [{ filename: 'r.txt', contentType: 'text/plain', content: Buffer.from('Order 42').toString('base64') }], track: { opens: true, clicks: true },
      });
      assert.equal(r.status, 202);
      const body = await r.json();
      assert.match(body.id, /^msg_/);
      assert.match(body.messageId, /@example\.com>$/);
      assert.deepEqual(body.recipients.map((x: any) => x.email), ['reader@example.net', 'audit@example.org']);

      const reader = await outboxOf(body.id, 'reader@example.net');
      const audit = await outboxOf(body.id, 'audit@example.org');
      const base = ts.server.ctx.config.publicUrl;
      for (const raw of [reader, audit]) {
        const head = raw.split('\r\n\r\n')[0];
        assert.ok(!/audit@example\.org/.test(head), 'Bcc not in the headers');
        // Quoted-printable soft line breaks can fall inside a URL (where depends on the random copy id).
        const flat = raw.replace(/=\r\n/g, '');
        assert.ok(flat.includes(`${base}/o/`), 'open pixel injected');
        assert.ok(flat.includes(`${base}/c/`), 'link rewritten');
        assert.ok(!flat.includes('href="https://example.com/orders/42"') && !flat.includes('href=3D"https://example.com/orders/42"'), 'original href replaced');
        assert.deepEqual(await mailauthVerify(Buffer.from(raw, 'latin1')), ['pass']);
      }
      // Each copy has its own tokens.
      const pix = (s: string) => /\/o\/([A-Za-z0-9_=-]+)\.gif/.exec(s.replace(/=\r\n/g, ''))?.[1];
      assert.notEqual(pix(reader), pix(audit));

      const detail = await (await api(`/messages/${body.id}`)).json();
      assert.equal(detail.subject, 'Your receipt');
      for (const rc of detail.recipients) {
        assert.equal(rc.status, 'delivered');
        assert.equal(rc.attempts, 1);
        assert.equal(rc.trackingBase, base);
        assert.deepEqual(rc.events.map((e: any) => e.type), ['accepted', 'delivered']);
        assert.equal(rc.attemptLog[0].relay, 'outbox');
        assert.equal(rc.attemptLog[0].smtpCode, 250);
      }
      const roll = await ts.server.ctx.store.db.kysely.selectFrom('rollupsHourly').select(['delivered']).where('accountId', '=', acc.accountId).execute();
      assert.equal(roll.reduce((n, x) => n + x.delivered, 0), 2);
    });

    test('track flags and X-Mailbeacon-Track only turn tracking off; the header never leaves', async () => {
      const r = await send({ from: 'news@example.com', to: ['a@example.net'], subject: 'no opens', html: '<p><a href="https://example.com/x">x</a></p>', track: { opens: false } });
      assert.equal(r.status, 202);
      const raw = (await outboxOf((await r.json()).id, 'a@example.net')).replace(/=\r\n/g, '');
      assert.ok(!raw.includes('/o/'), 'no pixel');
      assert.ok(raw.includes('/c/'), 'links still tracked');
      const rawMsg = 'From: news@example.com\r\nTo: b@example.net\r\nSubject: opt out\r\nX-Mailbeacon-Track: no\r\nContent-Type: text/html\r\n\r\n<p><a href="https://example.com/y">y</a></p>\r\n';
      const r2 = await send({ raw: Buffer.from(rawMsg).toString('base64'), envelope: { from: 'bounce@example.com', to: ['b@example.net'] } });
      assert.equal(r2.status, 202);
      const out2 = await outboxOf((await r2.json()).id, 'b@example.net');
      assert.ok(!/x-mailbeacon-track/i.test(out2));
      assert.ok(out2.includes('href="https://example.com/y"'), 'untouched');
      assert.match(out2, /^DKIM-Signature:/);
      assert.match(out2, /\r\nMessage-ID: <[^>]+@example\.com>\r\n/i, 'a missing Message-ID is added');
    });

    test('422 per field, header injection refused, 403 for a foreign sender domain, other accounts get 404', async () => {
      const bad = await send({ from: 'news@example.com', to: ['nope', 'ok@example.net'], subject: 'x\r\nBcc: v@example.org', text: 'x', headers: { 'X-A': 'a\nBcc: v@example.org', 'Bad Name': 'v' } });
      assert.equal(bad.status, 422);
      const e = (await bad.json()).error;
      assert.equal(e.code, 'invalid_request');
      assert.deepEqual(Object.keys(e.fields).sort(), ['headers.Bad Name', 'headers.X-A', 'subject', 'to.0']);
      const noRcpt = await send({ from: 'news@example.com', text: 'x' });
      assert.equal(noRcpt.status, 422);
      assert.ok((await noRcpt.json()).error.fields.to);
      const rawNoEnv = await send({ raw: 'RnJvbTogYUBiLmM=' });
      assert.equal(rawNoEnv.status, 422);
      assert.ok((await rawNoEnv.json()).error.fields.envelope);
      const wrongType = await send({ from: 'news@example.com', to: ['a@example.net'], text: 'x', track: { opens: 'yes' } });
      assert.equal(wrongType.status, 422);

      const foreign = await send({ from: 'ceo@elsewhere.test', to: ['a@example.net'], text: 'x' });
      assert.equal(foreign.status, 403);
      const fe = (await foreign.json()).error;
      assert.equal(fe.code, 'sender_domain_not_allowed');
      assert.match(fe.message, /elsewhere\.test/);
      // The other account may not send as example.com either.
      assert.equal((await send({ from: 'news@example.com', to: ['a@example.net'], text: 'x' }, other.apiKey)).status, 403);

      const mine = await (await send({ from: 'news@example.com', to: ['c@example.net'], subject: 'private', text: 'x' })).json();
      const ob = await waitFor(async () => (await (await api(`/outbox?messageId=${mine.id}`)).json()).data[0]);
      assert.equal((await api(`/messages/${mine.id}`, {}, other.apiKey)).status, 404);
      assert.equal((await api(`/outbox/${ob.id}/raw`, {}, other.apiKey)).status, 404);
      assert.equal((await (await api('/outbox', {}, other.apiKey)).json()).data.length, 0);
      assert.equal((await (await api('/messages', {}, other.apiKey)).json()).data.length, 0);
    });

    test('list filters and cursor paging', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await send({ from: 'news@example.com', to: [`page${i}@example.net`], subject: `Paging ${i}`, text: 'x' })).status, 202);
      const p1 = await (await api('/messages?subject=paging&limit=2')).json();
      assert.deepEqual(p1.data.map((m: any) => m.subject), ['Paging 2', 'Paging 1']);
      assert.ok(p1.nextCursor);
      const p2 = await (await api(`/messages?subject=paging&limit=2&cursor=${p1.nextCursor}`)).json();
      assert.deepEqual(p2.data.map((m: any) => m.subject), ['Paging 0']);
      assert.equal(p2.nextCursor, null);
      const byRcpt = await (await api('/messages?recipient=page1@example.net')).json();
      assert.deepEqual(byRcpt.data.map((m: any) => m.subject), ['Paging 1']);
      await waitFor(async () => (await (await api('/messages?subject=paging&status=delivered')).json()).data.length === 3);
      assert.equal((await (await api('/messages?subject=paging&status=bounced')).json()).data.length, 0);
      assert.equal((await api('/messages?status=lost')).status, 422);
      assert.equal((await api('/messages?since=yesterday')).status, 422);
      const future = await (await api(`/messages?since=${new Date(Date.now() + 3_600_000).toISOString()}`)).json();
      assert.equal(future.data.length, 0);
    });

    if (dialect === 'sqlite') {
      test('every sh example of docs/sending-api.md works with curl', async () => {
        const blocks = shBlocks(fs.readFileSync('docs/sending-api.md', 'utf8'));
        assert.ok(blocks.length >= 6);
        const env = { MB: ts.baseUrl, KEY: acc.apiKey, ID: '' };
        const outs: any[] = [];
        for (const b of blocks) {
          const r = await runSh(b, env);
          assert.equal(r.code, 0, `${b}\n${r.out}`);
          const json = JSON.parse(r.out);
          outs.push(json);
          if (!env.ID && json.id) env.ID = json.id;
        }
        assert.match(outs[0].id, /^msg_/);
        assert.deepEqual(outs[0].recipients.map((x: any) => x.email), ['reader@example.net', 'audit@example.org']);
        assert.deepEqual(Object.keys(outs[1].error.fields).sort(), ['subject', 'to.0']);
        assert.match(outs[2].id, /^msg_/);
        assert.equal(outs[3].id, outs[0].id);
        assert.ok(outs[4].data.some((m: any) => m.id === outs[0].id));
        assert.ok(Array.isArray(outs[5].data));
      });
    }
  });
}
