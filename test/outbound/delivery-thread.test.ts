// The delivery worker in its own thread (MAILBEACON_DELIVERY_THREAD, the default), on both stores: many
// messages submitted over concurrent SMTP sessions are all delivered to a real smtp-sink exactly once,
// DKIM-signed (dkimpy verifies), the thread's delivery counter shows in the main thread's /metrics, and a
// graceful stop ends the thread. With the setting off (or a test clock) the worker runs in-process.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodemailer from 'nodemailer';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { freePort } from '../helpers/spawn-cli.ts';
import { DIALECTS } from '../helpers/dialects.ts';
import type { NewAccountCredentials } from '../../src/accounts/account-service.ts';
import type { ThreadedWorkerService } from '../../src/outbound/delivery-thread.ts';
import { addDomain, dkimKeyPair, startDnsmasq, startSmtpSink, verifyWithDkimpy, waitFor } from './helpers.ts';

const N = 40;

for (const dialect of DIALECTS) {
  describe(`delivery thread on ${dialect}`, () => {
    let ts: TestServer;
    let acc: NewAccountCredentials;
    let sink: Awaited<ReturnType<typeof startSmtpSink>>;
    let dns: Awaited<ReturnType<typeof startDnsmasq>>;

    before(async () => {
      const sinkPort = await freePort();
      sink = await startSmtpSink([], sinkPort);
      ts = await startTestServer({ dialect, roles: ['http', 'smtp', 'worker'], env: { MAILBEACON_RELAY: `smtp://127.0.0.1:${sinkPort}`, MAILBEACON_RELAY_CONCURRENCY: '8' } });
      acc = await ts.account();
      await addDomain(ts.server.ctx.store, acc.accountId, 'example.test');
      dns = await startDnsmasq({ 'mb1._domainkey.example.test': `v=DKIM1; k=rsa; p=${dkimKeyPair().publicKeyB64}` });
    });
    after(async () => {
      await ts?.stop();
      await sink?.stop();
      await dns?.stop();
    });

    test(`${N} messages over 10 sessions: each delivered once, signed, counted in /metrics; stop ends the thread`, async () => {
      const worker = ts.server.services.find((s) => s.name === 'worker') as ThreadedWorkerService;
      assert.equal(typeof worker.threadId, 'number', 'the worker runs in a thread');
      const client = nodemailer.createTransport({ pool: true, maxConnections: 10, host: '127.0.0.1', port: ts.server.ports.smtp, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: acc.smtpUsername, pass: acc.smtpPassword } });
      await Promise.all(Array.from({ length: N }, (_, i) => client.sendMail({ from: 'news@example.test', to: `r${i}@example.net`, subject: `Threaded ${i}`, html: `<p>Hello ${i} <a href="https://example.org/${i}">link</a></p>` })));
      client.close();
      const files = await waitFor(async () => (sink.files().length >= N ? sink.files() : undefined), 60_000, `${N} files at the sink`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sink.files().length, N, 'nothing delivered twice');
      const subjects = files.map((f) => /^Subject: (.*)$/m.exec(fs.readFileSync(f, 'latin1'))?.[1]).sort();
      assert.deepEqual(subjects, Array.from({ length: N }, (_, i) => `Threaded ${i}`).sort());
      assert.equal(await verifyWithDkimpy(fs.readFileSync(files[0]), dns.port), 'PASS');
      const metrics = await waitFor(async () => {
        const text = await (await fetch(`${ts.baseUrl}/metrics`)).text();
        return new RegExp(`mailbeacon_deliveries_total\\{result="delivered"\\} ${N}\\b`).test(text) ? text : undefined;
      }, 10_000, 'the delivered counter in /metrics');
      assert.ok(metrics);
      const copies = await ts.server.ctx.store.messages.list(acc.accountId, { status: 'delivered', limit: 100 });
      assert.equal(copies.length, N);
      await worker.stop();
      assert.equal(worker.threadId, undefined, 'stopped');
    });
  });
}

test('MAILBEACON_DELIVERY_THREAD=false or a test clock keep the worker in-process', async () => {
  for (const opts of [{ env: { MAILBEACON_DELIVERY_THREAD: 'false' } }, { clock: { now: () => Date.now() } }]) {
    const ts = await startTestServer({ roles: ['worker'], ...opts });
    try {
      const worker = ts.server.services.find((s) => s.name === 'worker') as Partial<ThreadedWorkerService>;
      assert.ok(worker);
      assert.equal('threadId' in worker, false);
    } finally {
      await ts.stop();
    }
  }
});
