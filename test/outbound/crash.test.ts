// A message answered with 250 belongs to us: kill -9 the server before it is delivered, start it again, and
// it is delivered. Also: trusted networks send without AUTH, as the named account (like Postfix mynetworks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exited, freePort, spawnServe } from '../helpers/spawn-cli.ts';
import { rawSmtp, waitFor } from './helpers.ts';

test('a message accepted with 250 survives kill -9 before delivery and is delivered after restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-crash-'));
  const httpPort = await freePort();
  const smtpPort = await freePort();
  const env = {
    MAILBEACON_DATABASE_URL: `sqlite:${dir}/mb.db`,
    MAILBEACON_DATA_DIR: dir,
    MAILBEACON_HTTP_PORT: String(httpPort),
    MAILBEACON_SMTP_PORT: String(smtpPort),
    MAILBEACON_RELAY: 'outbox',
    MAILBEACON_LOG_LEVEL: 'warn',
    MAILBEACON_SMTP_TRUSTED_NETWORKS: '127.0.0.0/8',
    MAILBEACON_SMTP_TRUSTED_ACCOUNT: 'demo@mailbeacon.local',
  };
  try {
    // First life: front doors only, no worker, so nothing can be delivered before the kill.
    // Generous start-up deadline: the machine is shared and tsx compiles the app at every start.
    const first = await spawnServe(env, ['--roles', 'http,smtp'], 120_000);
    const key = /API key:\s+(mb_\S+)/.exec(first.stdout())?.[1];
    assert.ok(key, first.stdout());
    const api = (p: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${httpPort}/api/v1${p}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    assert.equal((await api('/account', { method: 'PATCH', body: JSON.stringify({ sendingMode: 'any' }) })).status, 200);

    const c = await rawSmtp(smtpPort);
    assert.match(await c.reply(), /^220 /);
    await c.cmd('EHLO app.test\r\n');
    // No AUTH: the client is on a trusted network.
    assert.match(await c.cmd('MAIL FROM:<app@shop.test>\r\n'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<buyer@example.net>\r\n'), /^250 /);
    assert.match(await c.cmd('DATA\r\n'), /^354 /);
    const reply = await c.cmd('From: app@shop.test\r\nTo: buyer@example.net\r\nSubject: Survives kill -9\r\n\r\nPlease keep me.\r\n.\r\n');
    const id = /^250 .*queued as (msg_\w+)/.exec(reply)?.[1];
    assert.ok(id, reply);
    first.child.kill('SIGKILL');
    await exited(first.child);
    c.close();

    // Second life: every role; the worker finds the queued copy.
    const second = await spawnServe(env, [], 120_000);
    try {
      const detail = await waitFor(async () => {
        const d = await (await api(`/messages/${id}`)).json();
        return d.recipients?.[0]?.status === 'delivered' ? d : undefined;
      }, 60_000, 'delivery after restart');
      assert.equal(detail.subject, 'Survives kill -9');
      const ob = (await (await api(`/outbox?messageId=${id}`)).json()).data;
      assert.equal(ob.length, 1);
      const raw = await (await api(`/outbox/${ob[0].id}/raw`)).text();
      assert.match(raw, /Please keep me\./);
      // The account's "any" mode created the shop.test domain row, so the copy is DKIM-signed with its key.
      assert.match(raw, /^DKIM-Signature: .*d=shop\.test;/s);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await exited(second.child), 0);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
