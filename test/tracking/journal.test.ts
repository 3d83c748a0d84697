// The event journal against a real SQLite store: records written by JournalWriter are ingested exactly once
// (checkpoint in the events' transaction) across restarts and with two ingesters at once, torn records are
// skipped and counted, a failed write leaves no partial record, and ingested segments are deleted.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/store.ts';
import { EventWriter, type TrackHit } from '../../src/tracking/event-writer.ts';
import { JournalIngester, JournalWriter, decodeHit, encodeHit, journalDirFor, listSegments, CHECKPOINT_KEY } from '../../src/tracking/journal.ts';
import { seedCopies } from './helpers.ts';

const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1';
const opts = { prefetchSeconds: 10 };

function batch(hits: TrackHit[]): Buffer {
  return Buffer.from(hits.map((h) => `${encodeHit(h)}\n`).join(''));
}

describe('event journal (SQLite)', () => {
  let dir: string;
  let file: string;
  let store: Store;
  let copyIds: string[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-journal-'));
    file = path.join(dir, 'mb.db');
    store = await openStore(`sqlite:${file}`);
    ({ copyIds } = await seedCopies(store, 50));
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ingester = (s = store, maxHits = 7, torn?: (seq: number, offset: number, bytes: number) => void) =>
    new JournalIngester(journalDirFor(file), s.tracking, new EventWriter(s.tracking, opts, () => Date.now()), { maxHits, onTorn: torn });
  const count = async (copies: string[]) => (await store.db.kysely.selectFrom('events').select('copyId').where('copyId', 'in', copies).execute()).length;
  const opensRollup = async (accountId: string) => {
    const r = await store.db.kysely.selectFrom('rollupsHourly').select((eb) => [eb.fn.sum<number>('opens').as('o'), eb.fn.sum<number>('uniqueOpens').as('u')]).where('accountId', '=', accountId).executeTakeFirstOrThrow();
    return [Number(r.o), Number(r.u)];
  };

  test('records round-trip, whatever their strings hold', () => {
    const hits: TrackHit[] = [
      { kind: 'open', method: 'GET', copyId: 'cpy_1', at: 1732000000123, ip: '2001:db8::1', userAgent: 'a "quoted"\nline\u2028' },
      { kind: 'open', method: 'HEAD', copyId: 'wéird "id"', at: 1, ip: '1.2.3.4', userAgent: '' },
      { kind: 'click', method: 'GET', copyId: 'c', at: 2, ip: '::1', userAgent: 'ua', linkIndex: 300, url: 'https://e.test/"a"\n' },
    ];
    for (const h of hits) {
      const line = encodeHit(h);
      assert.ok(!line.includes('\n'));
      assert.deepEqual(decodeHit(line), h);
    }
    for (const bad of ['', '[', '[0,0,"c",1,"ip"]', '[2,0,"c",1,"ip","ua"]', '{"a":1}', '[1,0,"c",1,"ip","ua"]']) assert.equal(decodeHit(bad), undefined, bad);
  });

  test('ingested exactly once across restarts and two ingesters at once; rollups match; segments deleted', async () => {
    const { accountId, copyIds: ids } = await seedCopies(store, 40);
    const w = new JournalWriter(journalDirFor(file), 2000);
    const hits: TrackHit[] = ids.map((copyId, i) => ({ kind: 'open', method: 'GET', copyId, at: Date.now() - i, ip: '192.0.2.1', userAgent: UA }));
    // 40 hits in batches of 5 over small segments: several segments, rotation included.
    for (let i = 0; i < hits.length; i += 5) w.append(batch(hits.slice(i, i + 5)));
    assert.ok(listSegments(journalDirFor(file)).length > 1, 'the writer rotated');
    // A first ingester takes a few steps, then "crashes" (is dropped); two fresh ones interleave.
    const first = ingester();
    first.step();
    first.step();
    const a = ingester(store, 3);
    const other = await openStore(`sqlite:${file}`, { migrate: false });
    try {
      const b = ingester(other, 4);
      for (let i = 0; i < 100; i++) {
        const ra = a.step();
        const rb = b.step();
        if (!ra.progressed && !rb.progressed) break;
      }
    } finally {
      await other.close();
    }
    assert.equal(await count(ids), 40, 'every record once');
    assert.deepEqual(await opensRollup(accountId), [40, 40]);
    assert.deepEqual(listSegments(journalDirFor(file)), [w.seq], 'only the segment being written is left');
    const cp = await store.kv.get(CHECKPOINT_KEY);
    assert.equal(cp, `${w.seq}:${w.offset}`);
    // Nothing left: a further step changes nothing.
    assert.equal(ingester().step().progressed, false);
    assert.equal(await count(ids), 40);
    w.close();
  });

  test('a torn last record of a sealed segment is skipped and counted; what follows is ingested', async () => {
    const { copyIds: ids } = await seedCopies(store, 3);
    const jdir = journalDirFor(file);
    const w = new JournalWriter(jdir);
    w.append(batch([{ kind: 'open', method: 'GET', copyId: ids[0], at: Date.now(), ip: '192.0.2.1', userAgent: UA }]));
    // A crash in the middle of a write: half a record, no line end.
    const half = batch([{ kind: 'open', method: 'GET', copyId: ids[1], at: Date.now(), ip: '192.0.2.1', userAgent: UA }]);
    fs.appendFileSync(path.join(jdir, `${String(w.seq).padStart(12, '0')}.seg`), half.subarray(0, 20));
    w.close();
    // The next start writes a new segment: the old one is sealed.
    const w2 = new JournalWriter(jdir);
    w2.append(batch([{ kind: 'open', method: 'GET', copyId: ids[2], at: Date.now(), ip: '192.0.2.1', userAgent: UA }]));
    const torn: number[] = [];
    const r = ingester(store, 100, (_seq, _off, bytes) => torn.push(bytes)).drain();
    assert.deepEqual(torn, [20]);
    assert.equal(r.torn, 1);
    assert.equal(await count([ids[0]]), 1);
    assert.equal(await count([ids[1]]), 0);
    assert.equal(await count([ids[2]]), 1);
    w2.close();
  });

  test('a failed write leaves no partial record behind and the next write works', async () => {
    const { copyIds: ids } = await seedCopies(store, 2);
    const w = new JournalWriter(journalDirFor(file));
    // Break the file descriptor under the writer: the write fails, the cut-back fails, a new segment starts.
    fs.closeSync((w as unknown as { fd: number }).fd);
    assert.throws(() => w.append(batch([{ kind: 'open', method: 'GET', copyId: ids[0], at: Date.now(), ip: '192.0.2.1', userAgent: UA }])));
    w.append(batch([{ kind: 'open', method: 'GET', copyId: ids[1], at: Date.now(), ip: '192.0.2.1', userAgent: UA }]));
    ingester(store, 100).drain();
    assert.equal(await count([ids[0]]), 0, 'the failed hit was not written (its request is counted as lost)');
    assert.equal(await count([ids[1]]), 1);
    w.close();
  });

  test('a copy that does not exist records nothing, but its record is consumed', async () => {
    const w = new JournalWriter(journalDirFor(file));
    w.append(batch([{ kind: 'open', method: 'GET', copyId: 'cpy-missing', at: Date.now(), ip: '192.0.2.1', userAgent: UA }, { kind: 'open', method: 'GET', copyId: copyIds[0], at: Date.now(), ip: '192.0.2.1', userAgent: UA }]));
    const r = ingester(store, 100).drain();
    assert.equal(r.pixelUnknown, 1);
    assert.equal(r.pixelRecorded, 1);
    assert.equal(await count(['cpy-missing']), 0);
    w.close();
  });
});

test('mailbeacon backup drains the event journal first; restore keeps the old journal aside', async () => {
  const { backupSqlite, restoreSqlite } = await import('../../src/ops/sqlite-backup.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-journal-backup-'));
  try {
    const file = path.join(dir, 'mb.db');
    const store = await openStore(`sqlite:${file}`);
    const { copyIds } = await seedCopies(store, 3);
    await store.close();
    const w = new JournalWriter(journalDirFor(file));
    w.append(batch(copyIds.map((copyId) => ({ kind: 'open', method: 'GET', copyId, at: Date.now(), ip: '192.0.2.1', userAgent: UA }))));
    const out = path.join(dir, 'backup.db');
    const r = await backupSqlite(file, out, opts);
    assert.equal(r.journalIngested, 3);
    const copy = await openStore(`sqlite:${out}`, { migrate: false });
    try {
      assert.equal((await copy.db.kysely.selectFrom('events').select('id').execute()).length, 3, 'the backup holds the journaled hits');
    } finally {
      await copy.close();
    }
    w.close();
    const restored = restoreSqlite(out, file, true);
    assert.ok(restored.journalKept && fs.existsSync(restored.journalKept));
    assert.equal(fs.existsSync(journalDirFor(file)), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a second live process cannot write the same journal', async () => {
  const { spawn } = await import('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-journal-owner-'));
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    const jdir = path.join(dir, 'j');
    fs.mkdirSync(jdir);
    fs.writeFileSync(path.join(jdir, 'owner'), `${child.pid}\n`);
    assert.throws(() => new JournalWriter(jdir), /is writing the tracking event journal/);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Its owner gone (killed), the journal is taken over.
    new JournalWriter(jdir).close();
    assert.equal(fs.readFileSync(path.join(jdir, 'owner'), 'utf8').trim(), String(process.pid));
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
