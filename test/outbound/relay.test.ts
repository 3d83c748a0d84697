// Delivery to a real smarthost: Postfix's smtp-sink, normal and in its fault modes (-r soft reject, -f hard
// reject, -Q 421 and disconnect, -q disconnect without reply). Retries follow the schedule on a test clock;
// the delivered bytes carry a DKIM signature that dkimpy verifies.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { freePort } from '../helpers/spawn-cli.ts';
import type { NewAccountCredentials } from '../../src/accounts/account-service.ts';
import { queueSignal } from '../../src/outbound/queue-signal.ts';
import { addDomain, dkimKeyPair, startDnsmasq, startSmtpSink, verifyWithDkimpy, waitFor } from './helpers.ts';

describe('relay to smtp-sink', () => {
  let ts: TestServer;
  let acc: NewAccountCredentials;
  let sinkPort: number;
  let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
  let dns: Awaited<ReturnType<typeof startDnsmasq>>;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  const store = () => ts.server.ctx.store;

  async function useSink(flags: string[]) {
    await sink?.stop();
    sink = await startSmtpSink(flags, sinkPort);
  }

  async function submit(to: string[], subject: string): Promise<string> {
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: ts.server.ports.smtp, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: acc.smtpUsername, pass: acc.smtpPassword } });
    const info = await client.sendMail({ from: 'news@example.test', to, subject, text: `Body of ${subject}\nwith two lines` });
    client.close();
    const id = /queued as (msg_\w+)/.exec(info.response)?.[1];
    assert.ok(id, info.response);
    return id;
  }

  const copies = async (id: string) => store().messages.copiesOf(acc.accountId, [id]);
  const settled = (id: string, status: string, n = 1) => waitFor(async () => {
    const cs = await copies(id);
    return cs.length === n && cs.every((c) => c.status === status) ? cs : undefined;
  }, 30_000, `${id} ${status}`);

  before(async () => {
    sinkPort = await freePort();
    ts = await startTestServer({
      roles: ['smtp', 'worker'],
      clock,
      env: { MAILBEACON_RELAY: `smtp://127.0.0.1:${sinkPort}`, MAILBEACON_RELAY_CONCURRENCY: '4', MAILBEACON_RETRY_SCHEDULE: '60,300', MAILBEACON_GIVE_UP_AFTER: '3600' },
    });
    acc = await ts.account();
    await addDomain(store(), acc.accountId, 'example.test');
    dns = await startDnsmasq({ 'mb1._domainkey.example.test': `v=DKIM1; k=rsa; p=${dkimKeyPair().publicKeyB64}` });
  });
  after(async () => {
    await ts?.stop();
    await sink?.stop();
    await dns?.stop();
  });

  test('delivers every recipient through the pool; the sink gets DKIM-signed bytes dkimpy verifies', async () => {
    await useSink([]);
    const id = await submit(['one@example.net', 'two@example.net'], 'Relayed');
    const cs = await settled(id, 'delivered', 2);
    assert.ok(cs.every((c) => c.attempts === 1 && c.deliveredAt));
    const files = await waitFor(async () => (sink!.files().length >= 2 ? sink!.files() : undefined));
    for (const f of files) {
      const raw = fs.readFileSync(f);
      assert.match(raw.toString('latin1'), /Subject: Relayed/);
      assert.equal(await verifyWithDkimpy(raw, dns.port), 'PASS');
    }
    const attempts = await store().messages.attemptsOf(acc.accountId, id);
    assert.deepEqual(attempts.map((a) => [a.result, a.smtpCode, a.relay]), [['delivered', 250, `127.0.0.1:${sinkPort}`], ['delivered', 250, `127.0.0.1:${sinkPort}`]]);
  });

  test('4xx (-r RCPT) defers on the schedule, then delivers when the sink recovers', async () => {
    await useSink(['-r', 'RCPT']);
    const t0 = clock.now();
    const id = await submit(['soft@example.net'], 'Soft');
    const [c] = await settled(id, 'deferred');
    assert.equal(c.attempts, 1);
    assert.match(c.lastError ?? '', /^4\d\d/);
    assert.ok(c.nextAttemptAt >= t0 + 60_000 && c.nextAttemptAt <= clock.now() + 60_000, 'first retry after 60 s');
    await useSink([]);
    offset += 61_000;
    queueSignal(ts.server.ctx).emit('due');
    const [d] = await settled(id, 'delivered');
    assert.equal(d.attempts, 2);
    const ev = await store().messages.eventsOf(acc.accountId, id);
    assert.deepEqual(ev.map((e) => e.type), ['accepted', 'deferred', 'delivered']);
    assert.match(JSON.parse(ev[1].data!).response, /^4\d\d/);
  });

  test('5xx (-f RCPT) bounces at once', async () => {
    await useSink(['-f', 'RCPT']);
    const id = await submit(['hard@example.net'], 'Hard');
    const [c] = await settled(id, 'bounced');
    assert.equal(c.attempts, 1);
    assert.match(c.lastError ?? '', /5\d\d/);
  });

  test('421 and disconnect (-Q MAIL) and a silent disconnect (-q DATA) defer; past the give-up age it bounces', async () => {
    await useSink(['-Q', 'MAIL']);
    const a = await submit(['q421@example.net'], 'Q421');
    const [ca] = await settled(a, 'deferred');
    assert.match(ca.lastError ?? '', /421/);
    await useSink(['-q', 'DATA']);
    const b = await submit(['qsilent@example.net'], 'Qsilent');
    const [cb] = await settled(b, 'deferred');
    assert.ok(cb.lastError);
    // Still failing an hour later: both give up and bounce.
    offset += 3_601_000;
    queueSignal(ts.server.ctx).emit('due');
    const [fa] = await settled(a, 'bounced');
    const [fb] = await settled(b, 'bounced');
    assert.match(fa.lastError ?? '', /gave up/);
    assert.match(fb.lastError ?? '', /gave up/);
    assert.equal(fa.attempts, 2);
  });
});
