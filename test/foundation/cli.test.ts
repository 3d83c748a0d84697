import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, spawnServe, exited, freePort } from '../helpers/spawn-cli.ts';
import { createTestDatabase, DIALECTS } from '../helpers/dialects.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-cli-'));
  dirs.push(d);
  return d;
}

describe('mailbeacon CLI', () => {
  for (const dialect of DIALECTS) {
    test(`account create prints exactly one JSON object, and its key authenticates (${dialect})`, async () => {
      const tdb = await createTestDatabase(dialect);
      const dir = tmp();
      const env = { MAILBEACON_DATABASE_URL: tdb.url, MAILBEACON_DATA_DIR: dir, MAILBEACON_LOG_LEVEL: 'silent' };
      try {
        const r = await runCli(['account', 'create', '--email', 'cli@example.test', '--password', 'hunter2hunter2'], env);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split('\n');
        assert.equal(lines.length, 1);
        const obj = JSON.parse(lines[0]);
        assert.deepEqual(Object.keys(obj).sort(), ['accountId', 'apiKey', 'smtpPassword', 'smtpUsername']);
        const port = await freePort();
        const srv = await spawnServe({ ...env, MAILBEACON_HTTP_PORT: String(port), MAILBEACON_SMTP_PORT: String(await freePort()) });
        try {
          const ok = await fetch(`http://127.0.0.1:${port}/api/v1/account`, { headers: { authorization: `Bearer ${obj.apiKey}` } });
          assert.equal(ok.status, 200);
          assert.equal((await ok.json()).id, obj.accountId);
          const bad = await fetch(`http://127.0.0.1:${port}/api/v1/account`, { headers: { authorization: 'Bearer mb_wrong' } });
          assert.equal(bad.status, 401);
          assert.equal((await bad.json()).error.code, 'unauthorized');
        } finally {
          srv.child.kill('SIGTERM');
          assert.equal(await exited(srv.child), 0);
        }
      } finally {
        await tdb.cleanup();
      }
    });
  }

  test('first serve on an empty store prints the demo account once; the secret is kept in the data dir', async () => {
    const dir = tmp();
    const env = { MAILBEACON_DATABASE_URL: `sqlite:${dir}/mb.db`, MAILBEACON_DATA_DIR: dir, MAILBEACON_HTTP_PORT: String(await freePort()), MAILBEACON_SMTP_PORT: String(await freePort()) };
    const first = await spawnServe(env);
    first.child.kill('SIGTERM');
    assert.equal(await exited(first.child), 0);
    assert.match(first.stdout(), /demo@mailbeacon\.local/);
    const key = /API key:\s+(mb_\S+)/.exec(first.stdout())?.[1];
    assert.ok(key);
    assert.ok(fs.statSync(path.join(dir, 'secret')).mode & 0o600);
    const secret = fs.readFileSync(path.join(dir, 'secret'), 'utf8').trim();
    assert.ok(!first.stderr().includes(secret), 'the secret is never logged');
    assert.ok(!first.stderr().includes(key), 'the API key is not in the logs');
    const second = await spawnServe(env);
    try {
      assert.doesNotMatch(second.stdout(), /demo@mailbeacon\.local/);
      const r = await fetch(`http://127.0.0.1:${env.MAILBEACON_HTTP_PORT}/api/v1/account`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(r.status, 200);
    } finally {
      second.child.kill('SIGINT');
      assert.equal(await exited(second.child), 0);
    }
  });

  test('a bad configuration exits non-zero naming the variable', async () => {
    const r = await runCli(['serve'], { MAILBEACON_HTTP_PORT: 'eighty', MAILBEACON_DATA_DIR: tmp() });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /MAILBEACON_HTTP_PORT/);
  });

  test('migrate applies, then has nothing to do; --dry-run lists pending', async () => {
    const dir = tmp();
    const env = { MAILBEACON_DATABASE_URL: `sqlite:${dir}/m.db`, MAILBEACON_DATA_DIR: dir };
    const dry = await runCli(['migrate', '--dry-run'], env);
    assert.match(dry.stdout, /would run 0001-foundation/);
    const r1 = await runCli(['migrate'], env);
    assert.match(r1.stdout, /applied 0001-foundation/);
    const r2 = await runCli(['migrate'], env);
    assert.match(r2.stdout, /nothing to migrate/);
  });

  test('unknown command and help', async () => {
    const r = await runCli(['frobnicate'], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command/);
    const h = await runCli(['help'], {});
    assert.equal(h.code, 0);
    assert.match(h.stdout, /serve/);
  });
});
