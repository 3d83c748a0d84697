// SMTP submission end to end, with real peers: swaks (AUTH over STARTTLS), a raw socket for smuggling and
// pipelining, dnsmasq publishing the DKIM key, mailauth and dkimpy verifying the delivered (outbox) bytes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import type { NewAccountCredentials } from '../../src/accounts/account-service.ts';
import { addDomain, dkimKeyPair, rawSmtp, startDnsmasq, swaks, verifyWithDkimpy, verifyWithMailauth, waitFor } from './helpers.ts';

const MAX = 60_000;

describe('SMTP submission', () => {
  let ts: TestServer;
  let acc: NewAccountCredentials;
  let port: number;
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  const store = () => ts.server.ctx.store;
  const plainAuth = () => Buffer.from(`\0${acc.smtpUsername}\0${acc.smtpPassword}`).toString('base64');

  before(async () => {
    ts = await startTestServer({ roles: ['http', 'smtp', 'worker'], env: { MAILBEACON_SMTP_MAX_SIZE: String(MAX), MAILBEACON_RELAY: 'outbox' } });
    acc = await ts.account();
    await addDomain(store(), acc.accountId, 'example.test');
    port = ts.server.ports.smtp;
    dns = await startDnsmasq({ 'mb1._domainkey.example.test': `v=DKIM1; k=rsa; p=${dkimKeyPair().publicKeyB64}` });
  });
  after(async () => {
    await dns?.stop();
    await ts?.stop();
  });

  async function delivered(messageId: string, recipient: string): Promise<Buffer> {
    const row = await waitFor(async () => (await store().messages.listOutbox(acc.accountId, { limit: 50, messageId })).find((r) => r.recipient === recipient), 30_000, `delivery to ${recipient}`);
    return Buffer.from((await store().messages.outboxEntry(acc.accountId, row.id))!.raw);
  }

  test('swaks: AUTH PLAIN over STARTTLS, 250 after commit, Bcc delivered unseen, DKIM verified by mailauth and dkimpy', async () => {
    const r = await swaks([
      '--server', `127.0.0.1:${port}`, '--tls', '--auth', 'PLAIN', '--auth-user', acc.smtpUsername, '--auth-password', acc.smtpPassword,
      '--from', 'news@example.test', '--to', 'reader@example.net,hidden@example.org',
      '--header', 'To: reader@example.net', '--header', 'Subject: Hello from swaks', '--header', 'X-Mailbeacon-Track: no',
      '--body', 'Plain body line\nsecond line',
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /<- {2}220 .*TLS/i);
    assert.match(r.out, /<~ {2}235 /);
    const id = /250 2\.0\.0 OK: queued as (msg_\w+)/.exec(r.out)?.[1];
    assert.ok(id, r.out);
    // Committed before the 250: the row is there the moment swaks returns.
    const msg = await store().messages.get(acc.accountId, id);
    assert.equal(msg?.subject, 'Hello from swaks');
    assert.equal(msg?.trackOpens, 0, 'X-Mailbeacon-Track: no is recorded');

    const visible = await delivered(id, 'reader@example.net');
    const hidden = await delivered(id, 'hidden@example.org');
    for (const raw of [visible, hidden]) {
      const text = raw.toString('latin1');
      assert.ok(!/hidden@example\.org/i.test(text.split('\r\n\r\n')[0]), 'the Bcc recipient does not appear in the headers');
      assert.ok(!/^x-mailbeacon-track:/im.test(text), 'the tracking header never leaves');
      assert.match(text, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.test;/);
      assert.ok(!/;\s*l=/.test(text.split('\r\n\r\n')[0]), 'no l= tag');
      assert.ok(!/(^|[^\r])\n/.test(text), 'CRLF line endings only');
      const ma = await verifyWithMailauth(raw, dns.port);
      assert.deepEqual(ma.map((x) => [x.status, x.domain]), [['pass', 'example.test']], JSON.stringify(ma));
      assert.equal(await verifyWithDkimpy(raw, dns.port), 'PASS');
    }
    // A tampered copy fails both verifiers (the checks can fail).
    const tampered = Buffer.from(visible.toString('latin1').replace('second line', 'second line!'), 'latin1');
    assert.notEqual((await verifyWithMailauth(tampered, dns.port))[0].status, 'pass');
    assert.equal(await verifyWithDkimpy(tampered, dns.port), 'FAIL');

    const detail = await (await fetch(`${ts.baseUrl}/api/v1/messages/${id}`, { headers: { authorization: `Bearer ${acc.apiKey}` } })).json();
    assert.deepEqual(detail.recipients.map((x: any) => [x.email, x.status, x.attempts]).sort(), [['hidden@example.org', 'delivered', 1], ['reader@example.net', 'delivered', 1]]);
    assert.deepEqual(detail.recipients[0].events.map((e: any) => e.type), ['accepted', 'delivered']);
  });

  test('wrong password → 535; no AUTH → 530; foreign envelope or From: domain → 550 saying so', async () => {
    const bad = await swaks(['--server', `127.0.0.1:${port}`, '--tls', '--auth', 'PLAIN', '--auth-user', acc.smtpUsername, '--auth-password', 'wrong', '--from', 'a@example.test', '--to', 'x@example.net']);
    assert.match(bad.out, /<~\* {1,2}535 /);
    const c = await rawSmtp(port);
    assert.match(await c.reply(), /^220 /);
    assert.match(await c.cmd('EHLO client.test\r\n'), /^250[- ]/);
    assert.match(await c.cmd('MAIL FROM:<a@example.test>\r\n'), /^530 /);
    // AUTH in clear text is fine from loopback.
    assert.match(await c.cmd(`AUTH PLAIN ${plainAuth()}\r\n`), /^235 /);
    assert.match(await c.cmd('MAIL FROM:<a@not-mine.test>\r\n'), /^550 5\.7\.1 Envelope sender domain not-mine\.test does not belong to your account/);
    assert.match(await c.cmd('MAIL FROM:<a@example.test>\r\n'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<x@example.net>\r\n'), /^250 /);
    assert.match(await c.cmd('DATA\r\n'), /^354 /);
    assert.match(await c.cmd('From: boss@not-mine.test\r\nSubject: spoof\r\n\r\nhi\r\n.\r\n'), /^550 5\.7\.1 From: domain not-mine\.test does not belong to this account/);
    c.close();
  });

  test('SMTP smuggling sequences and bare line endings are refused, nothing is queued', async () => {
    const before = (await store().messages.list(acc.accountId, { limit: 200 })).length;
    const cases: [string, string][] = [
      ['<LF>.<LF>', 'Subject: a\r\n\r\nbody\n.\nMAIL FROM:<a@example.test>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n'],
      ['<LF>.<CR><LF>', 'Subject: b\r\n\r\nbody\n.\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n'],
      ['<CR>.<CR>', 'Subject: c\r\n\r\nbody\r.\rMAIL FROM:<a@example.test>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n'],
      ['bare LF header', 'Subject: d\nFrom: a@example.test\r\n\r\nok\r\n.\r\n'],
    ];
    for (const [name, data] of cases) {
      const c = await rawSmtp(port);
      await c.reply();
      await c.cmd('EHLO client.test\r\n');
      assert.match(await c.cmd(`AUTH PLAIN ${plainAuth()}\r\n`), /^235 /);
      assert.match(await c.cmd('MAIL FROM:<a@example.test>\r\n'), /^250 /);
      assert.match(await c.cmd('RCPT TO:<x@example.net>\r\n'), /^250 /);
      assert.match(await c.cmd('DATA\r\n'), /^354 /);
      const reply = await c.cmd(data);
      assert.match(reply, /^550 5\.5\.2 Error: bare <(CR|LF)> received/, `${name}: ${reply}`);
      // The connection is back in command mode and the smuggled commands were data, not commands.
      assert.match(await c.cmd('NOOP\r\n'), /^250 /, name);
      c.close();
    }
    assert.equal((await store().messages.list(acc.accountId, { limit: 200 })).length, before);
  });

  test('commands pipelined before the 354 are refused; oversize gets 552 (declared and actual)', async () => {
    const c = await rawSmtp(port);
    await c.reply();
    await c.cmd('EHLO client.test\r\n');
    await c.cmd(`AUTH PLAIN ${plainAuth()}\r\n`);
    assert.match(await c.cmd('MAIL FROM:<a@example.test>\r\n'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<x@example.net>\r\n'), /^250 /);
    c.write('DATA\r\nFrom: a@example.test\r\nSubject: early\r\n\r\nno wait\r\n.\r\n');
    assert.match(await c.reply(), /^354 /);
    assert.match(await c.reply(), /^554 5\.5\.0 Error: improper command pipelining/);

    assert.match(await c.cmd(`MAIL FROM:<a@example.test> SIZE=${MAX + 1}\r\n`), /^552 /);
    assert.match(await c.cmd('MAIL FROM:<a@example.test>\r\n'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<x@example.net>\r\n'), /^250 /);
    assert.match(await c.cmd('DATA\r\n'), /^354 /);
    const line = 'x'.repeat(998) + '\r\n';
    c.write('From: a@example.test\r\nSubject: big\r\n\r\n');
    for (let n = 0; n < Math.ceil(MAX / line.length) + 5; n++) c.write(line);
    assert.match(await c.cmd('.\r\n'), /^552 /);
    // Still usable afterwards.
    assert.match(await c.cmd('RSET\r\n'), /^250 /);
    c.close();
    assert.equal((await store().messages.list(acc.accountId, { subject: 'big', limit: 5 })).length, 0);
    assert.equal((await store().messages.list(acc.accountId, { subject: 'early', limit: 5 })).length, 0);
  });

  // smtp-server alone waits 100 ms before every greeting; with one connection per message that capped 20
  // sessions at 200 messages/s (src/smtp/greeting.ts). Best of five, so a busy machine does not flake it.
  test('the 220 greeting comes at once, with no 100 ms early-talker wait', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const c = await rawSmtp(port);
      assert.match(await c.reply(), /^220 /);
      times.push(performance.now() - t0);
      c.close();
    }
    assert.ok(Math.min(...times) < 50, `greeting times ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
  });
});
