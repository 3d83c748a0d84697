// `mailbeacon backup` while a real server takes writes, then `mailbeacon restore`: the copy passes the
// integrity check and holds every row acknowledged before the backup started. Refusals are tested too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { runCli, spawnServe, exited, freePort } from '../helpers/spawn-cli.ts';
import { cliInProcess as cli } from '../helpers/cli-in-process.ts';

test('backup under write load restores to a complete, intact store; restore refuses to overwrite without --force', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-backup-'));
  const store = path.join(dir, 'live', 'mailbeacon.db');
  const env = {
    MAILBEACON_DATABASE_URL: `sqlite:${store}`,
    MAILBEACON_DATA_DIR: path.join(dir, 'live'),
    MAILBEACON_SECRET: 'backup-test-secret-backup-test-secret-0123',
    MAILBEACON_HTTP_PORT: String(await freePort()),
    MAILBEACON_SMTP_PORT: String(await freePort()),
    MAILBEACON_ROLES: 'http',
    MAILBEACON_LOG_LEVEL: 'warn',
    // The writers below are the load: the per-key API rate limit must not throttle them.
    MAILBEACON_API_RATE_LIMIT: '0',
  };
  const created = await cli(['account', 'create', '--email', 'backup@example.test', '--password', 'correct horse battery'], env);
  assert.equal(created.code, 0, created.stderr);
  const { apiKey } = JSON.parse(created.stdout);
  const serve = await spawnServe(env);
  const base = `http://127.0.0.1:${env.MAILBEACON_HTTP_PORT}`;
  try {
    // Writers: each 201 is an acknowledged, committed row.
    const acked: { id: string; at: number }[] = [];
    let stop = false;
    let seq = 0;
    const writer = async () => {
      while (!stop) {
        const r = await fetch(`${base}/api/v1/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `load-${seq++}` }) });
        assert.equal(r.status, 201);
        const body = await r.json();
        acked.push({ id: body.id, at: Date.now() });
      }
    };
    // A failing writer stops the load and fails the test (after the others finish), never unhandled.
    const writers = [writer(), writer(), writer()].map((w) => w.catch((e) => { stop = true; return e as Error; }));
    while (acked.length < 60 && !stop) await new Promise((r) => setTimeout(r, 20));
    if (stop) assert.fail(`the writers failed: ${(await Promise.all(writers)).find(Boolean)}`);

    const backupFile = path.join(dir, 'backups', 'mb.db');
    const before = new Set(acked.map((a) => a.id));
    const startedAt = Date.now();
    // A separate process, as an operator would run it (and so the writers here keep going meanwhile).
    const backup = await runCli(['backup', '--out', backupFile], env);
    const endedAt = Date.now();
    const duringBackup = acked.filter((a) => a.at > startedAt && a.at < endedAt).length;
    stop = true;
    assert.deepEqual((await Promise.all(writers)).filter(Boolean), [], 'every write was acknowledged');
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /backup written to .*mb\.db .*integrity check ok/);
    assert.ok(duringBackup > 0, 'the server kept acknowledging writes while the backup ran');
    // The command reports when its snapshot began: every write acknowledged before then must be in it
    // (a stricter set than `before`, which is taken when the command was launched).
    const snapshotAt = Date.parse(/snapshot of (\S+),/.exec(backup.stdout)?.[1] ?? '');
    assert.ok(snapshotAt >= startedAt && snapshotAt <= endedAt, backup.stdout);
    const ackedBeforeSnapshot = acked.filter((a) => a.at < snapshotAt).map((a) => a.id);

    // The same name again is refused; a PostgreSQL store is pointed at pg_dump.
    const again = await cli(['backup', '--out', backupFile], env);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
    const pgb = await cli(['backup', '--out', path.join(dir, 'pg.db')], { ...env, MAILBEACON_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    assert.equal(pgb.code, 1);
    assert.match(pgb.stderr, /pg_dump/);

    // Restore into a fresh location (the way a new machine would).
    const restoredStore = path.join(dir, 'restored', 'mailbeacon.db');
    const renv = { ...env, MAILBEACON_DATABASE_URL: `sqlite:${restoredStore}`, MAILBEACON_DATA_DIR: path.join(dir, 'restored') };
    const restore = await cli(['restore', '--from', backupFile], renv);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /restored .* integrity check ok/);
    const db = new SQLite(restoredStore, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const ids = new Set(db.prepare('select id from api_keys').pluck().all() as string[]);
      assert.deepEqual([...before].filter((id) => !ids.has(id)), [], 'every row acknowledged before the backup was launched is in it');
      assert.deepEqual(ackedBeforeSnapshot.filter((id) => !ids.has(id)), [], 'every row acknowledged before the snapshot began is in it');
      assert.ok(ids.size >= before.size + 1, 'the account\'s own key is there too');
    } finally {
      db.close();
    }

    // Overwriting needs --force; the replaced store is kept.
    const refuse = await cli(['restore', '--from', backupFile], renv);
    assert.notEqual(refuse.code, 0);
    assert.match(refuse.stderr, /already exists .*--force/);
    const forced = await cli(['restore', '--from', backupFile, '--force'], renv);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /previous store is kept as .*replaced-/);
    assert.equal(fs.readdirSync(path.join(dir, 'restored')).filter((f) => f.includes('.replaced-')).length, 1);

    // A damaged backup is refused before anything is touched.
    const damaged = path.join(dir, 'damaged.db');
    const bytes = fs.readFileSync(backupFile);
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    bytes.fill(0xa5, pageSize * 2, pageSize * 2 + pageSize); // scribble over an interior page
    fs.writeFileSync(damaged, bytes);
    const bad = await cli(['restore', '--from', damaged, '--force'], renv);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /integrity_check|not a usable SQLite|malformed/);
    fs.writeFileSync(path.join(dir, 'garbage.db'), 'this is not a database at all, just text padding it out '.repeat(100));
    const garbage = await cli(['restore', '--from', path.join(dir, 'garbage.db'), '--force'], renv);
    assert.notEqual(garbage.code, 0);
    assert.match(garbage.stderr, /not a (usable )?SQLite database|not a database/);
  } finally {
    serve.child.kill('SIGTERM');
    await exited(serve.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
