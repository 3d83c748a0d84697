// Two `mailbeacon serve` processes on one PostgreSQL schema with one secret share the work: mail submitted
// to either (API and SMTP) is delivered to the smarthost exactly once per recipient, by workers on both
// nodes; pixels loaded on either are recorded; each webhook event is sent once. A third process with
// `--roles tracking` serves pixels but no API, and `--roles http` no pixels.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import nodemailer, { type Transporter } from 'nodemailer';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/dialects.ts';
import { exited, freePort, runCli, spawnServe } from '../helpers/spawn-cli.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { addDomain, waitFor } from '../outbound/helpers.ts';
import { request } from '../tracking/helpers.ts';
import { startSink, type Sink } from './sink.ts';

const SECRET = 'cluster-secret-cluster-secret-cluster-0001';
const HOST = 'track.test';

interface Node { child: ChildProcess; http: number; smtp: number }

/** Every pixel token in a delivered message (quoted-printable soft breaks undone). */
export function pixelTokens(raw: string): string[] {
  const text = raw.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
  return [...text.matchAll(/\/o\/([A-Za-z0-9_-]+)\.gif/g)].map((m) => m[1]);
}

describe('two nodes on one PostgreSQL', () => {
  let db: TestDatabase;
  let store: Store;
  let sink: Sink;
  let hooks: http.Server;
  const hookIds: string[] = [];
  const nodes: Node[] = [];
  let env: Record<string, string>;
  let apiKey = '';
  let dataDir = '';

  const start = async (roles?: string): Promise<Node> => {
    const n = { http: await freePort(), smtp: await freePort() } as Node;
    const s = await spawnServe({ ...env, MAILBEACON_HTTP_PORT: String(n.http), MAILBEACON_SMTP_PORT: String(n.smtp) }, roles ? ['--roles', roles] : []);
    n.child = s.child;
    nodes.push(n);
    return n;
  };

  before(async () => {
    db = await createTestDatabase('postgres');
    sink = await startSink();
    hooks = http.createServer((req, res) => {
      hookIds.push(String(req.headers['x-mailbeacon-id']));
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-cluster-'));
    const base = { MAILBEACON_DATABASE_URL: db.url, MAILBEACON_DATA_DIR: dataDir, MAILBEACON_SECRET: SECRET, MAILBEACON_LOG_LEVEL: 'warn' };
    const created = await runCli(['account', 'create', '--email', 'cluster@example.test', '--password', 'correct horse battery'], base);
    assert.equal(created.code, 0, created.stderr);
    const acc = JSON.parse(created.stdout);
    apiKey = acc.apiKey;
    store = await openStore(db.url, { migrate: false });
    // Validated as after DNS verification, and checked just now (no DNS here for the periodic re-check to ask).
    await addDomain(store, acc.accountId, 'cluster.example.test', { lastCheckedAt: Date.now() });
    env = {
      ...base,
      MAILBEACON_PUBLIC_URL: `http://${HOST}`,
      MAILBEACON_RELAY: `smtp://127.0.0.1:${sink.port}`,
      MAILBEACON_SMTP_TRUSTED_NETWORKS: '127.0.0.1/32',
      MAILBEACON_SMTP_TRUSTED_ACCOUNT: acc.accountId,
      MAILBEACON_WEBHOOK_ALLOW_PRIVATE: 'true',
      MAILBEACON_WEBHOOK_POLL_INTERVAL: '100',
      MAILBEACON_PREFETCH_SECONDS: '0',
      MAILBEACON_RELAY_CONCURRENCY: '4',
    };
    await start();
    await start();
  });
  after(async () => {
    for (const n of nodes) {
      n.child.kill('SIGTERM');
      await exited(n.child);
    }
    await store?.close();
    await sink?.close();
    await new Promise((r) => hooks?.close(r));
    await db?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('mail to either node is delivered exactly once, by both nodes\' workers; pixels on either are recorded; each webhook event sent once', async () => {
    const [n1, n2] = nodes;
    const hook = await fetch(`http://127.0.0.1:${n1.http}/api/v1/webhooks`, {
      method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`, events: ['open'] }),
    });
    assert.equal(hook.status, 201, await hook.text());

    const PER_NODE = 12;
    const expected = new Set<string>();
    const sends: Promise<void>[] = [];
    const transports: Transporter[] = [];
    for (const [i, n] of [n1, n2].entries()) {
      const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: n.smtp, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 });
      for (let k = 0; k < PER_NODE; k++) {
        const to = [`r${i}-${k}-a@example.net`, `r${i}-${k}-b@example.net`];
        const html = `<html><body><p>Hello ${i}-${k}</p></body></html>`;
        if (k % 2 === 0) {
          sends.push(fetch(`http://127.0.0.1:${n.http}/api/v1/messages`, {
            method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ from: 'news@cluster.example.test', to, subject: `api ${i}-${k}`, html }),
          }).then(async (r) => {
            const j = await r.json() as any;
            assert.equal(r.status, 202, JSON.stringify(j));
            for (const t of to) expected.add(`${j.messageId} ${t}`);
          }));
        } else {
          const messageId = `<smtp-${i}-${k}@cluster.example.test>`;
          sends.push(smtp.sendMail({ from: 'news@cluster.example.test', to, subject: `smtp ${i}-${k}`, html, messageId }).then(() => {
            for (const t of to) expected.add(`${messageId} ${t}`);
          }));
        }
      }
      transports.push(smtp);
    }
    await Promise.all(sends);
    for (const t of transports) t.close();
    assert.equal(expected.size, 2 * PER_NODE * 2);
    await waitFor(async () => sink.deliveries.length >= expected.size, 60_000, `${expected.size} deliveries (have ${sink.deliveries.length})`);
    await new Promise((r) => setTimeout(r, 1000)); // a late duplicate would show up now
    const counts = sink.counts();
    const dups = [...counts].filter(([, c]) => c > 1);
    assert.deepEqual(dups, [], 'no copy delivered twice');
    assert.deepEqual([...expected].filter((k) => !counts.has(k)), [], 'every accepted copy delivered');
    assert.equal(sink.deliveries.length, expected.size);
    const attempts = await store.db.kysely.selectFrom('deliveryAttempts').select(['copyId', 'nodeId']).execute();
    assert.equal(attempts.length, expected.size, 'one attempt per copy');
    const byNode = new Set(attempts.map((a) => a.nodeId));
    assert.equal(byNode.size, 2, `both nodes' workers delivered (${[...byNode].join(', ')})`);

    // Pixels: every copy's pixel once, alternating nodes.
    const tokens = sink.deliveries.flatMap((d) => pixelTokens(d.raw));
    assert.equal(tokens.length, expected.size, `one pixel per delivered copy, e.g. in:\n${sink.deliveries[0].raw}`);
    let i = 0;
    for (const t of tokens) {
      const r = await request([n1, n2][i++ % 2].http, `/o/${t}.gif`, { host: HOST, headers: { 'user-agent': 'Mozilla/5.0 Thunderbird/115.0' } });
      assert.equal(r.status, 200);
    }
    const opens = await store.db.kysely.selectFrom('events').select(['id']).where('type', '=', 'open').execute();
    assert.equal(opens.length, tokens.length, 'every 200 is an open event');
    await waitFor(async () => hookIds.length >= opens.length, 30_000, `${opens.length} webhook deliveries (have ${hookIds.length})`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(hookIds.length, opens.length, 'each open event sent once');
    assert.equal(new Set(hookIds).size, hookIds.length, 'no event id sent twice');
  });

  test('--roles: a tracking node serves pixels but no API or dashboard; an http node serves no pixels', async () => {
    const t = await start('tracking');
    const h = await start('http');
    const token = pixelTokens(sink.deliveries[0].raw)[0];
    const before = (await store.db.kysely.selectFrom('events').select('id').where('type', '=', 'open').execute()).length;
    assert.equal((await request(t.http, `/o/${token}.gif`, { host: HOST })).status, 200);
    assert.equal((await store.db.kysely.selectFrom('events').select('id').where('type', '=', 'open').execute()).length, before + 1);
    assert.equal((await fetch(`http://127.0.0.1:${t.http}/api/v1/account`, { headers: { authorization: `Bearer ${apiKey}` } })).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${t.http}/`)).status, 404);
    assert.equal((await request(h.http, `/o/${token}.gif`, { host: HOST })).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${h.http}/api/v1/account`, { headers: { authorization: `Bearer ${apiKey}` } })).status, 200);
    // Neither runs SMTP.
    await assert.rejects(nodemailer.createTransport({ host: '127.0.0.1', port: t.smtp, ignoreTLS: true, connectionTimeout: 2000 }).verify());
  });
});
