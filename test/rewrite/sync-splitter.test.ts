// The synchronous Splitter driver (src/rewrite/sync-splitter.ts) is a port of mailsplit's own _transform:
// it must produce exactly the objects the library's stream produces (same nodes, same header blocks, same
// body and data pieces, in the same order) for the corpus, for mutated messages, and whatever the chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mailsplit, { type MimeNode, type SplitterObject } from 'mailsplit';
import { createSyncSplitter, finishSync, splitSync } from '../../src/rewrite/sync-splitter.ts';
import { CORPUS, corpusFiles, htmlMessage } from './helpers.ts';
import { mutate } from './mutate.ts';
import { int, prng, randomChunks } from './random.ts';

const CONFIG = { ignoreEmbedded: true, maxChildNodes: 10_000 };

/** A comparable trace of splitter objects: kind, node number, parent number, content type, bytes. */
function tracer() {
  const ids = new Map<MimeNode, number>();
  const trace: string[] = [];
  const id = (n: MimeNode | false) => (n ? (ids.get(n) ?? -2) : -1);
  const add = (obj: SplitterObject) => {
    if (obj.type === 'node') {
      ids.set(obj, ids.size);
      const h = obj.headers.headers;
      const header = Buffer.isBuffer(h) ? h : Buffer.from(String(h), 'binary');
      trace.push(`node#${id(obj)} parent#${id(obj.parentNode)} ${obj.contentType} ${obj.encoding} ${obj.multipart} ${header.toString('base64')}`);
    } else {
      trace.push(`${obj.type} of #${id(obj.node)} ${(obj.value ?? Buffer.alloc(0)).toString('base64')}`);
    }
  };
  return { trace, add };
}

async function viaLibrary(chunks: Buffer[]): Promise<{ trace: string[]; error?: string }> {
  const t = tracer();
  try {
    await pipeline(
      Readable.from(chunks),
      new mailsplit.Splitter(CONFIG),
      new Writable({
        objectMode: true,
        write(obj: SplitterObject, _e, cb) {
          t.add(obj);
          cb();
        },
      }),
    );
    return { trace: t.trace };
  } catch (e) {
    return { trace: t.trace, error: (e as Error).message };
  }
}

function viaSyncDriver(chunks: Buffer[]): { trace: string[]; error?: string } {
  const t = tracer();
  const s = createSyncSplitter(t.add, CONFIG);
  try {
    for (const c of chunks) splitSync(s, c);
    finishSync(s);
    return { trace: t.trace };
  } catch (e) {
    return { trace: t.trace, error: (e as Error).message };
  }
}

/** Chunks that each end with a line break (what the rewriter feeds), from random cut points. */
function lineChunks(buf: Buffer, rand: () => number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const c of randomChunks(buf, rand, 4096)) {
    const end = c.byteOffset - buf.byteOffset + c.length;
    const lf = buf.lastIndexOf(0x0a, end - 1);
    if (lf >= start) {
      out.push(buf.subarray(start, lf + 1));
      start = lf + 1;
    }
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

async function assertSame(label: string, chunks: Buffer[]) {
  const lib = await viaLibrary(chunks);
  const ours = viaSyncDriver(chunks);
  assert.equal(ours.error, lib.error, `${label}: same error`);
  assert.equal(ours.trace.length, lib.trace.length, `${label}: same number of objects`);
  assert.deepEqual(ours.trace, lib.trace, `${label}: same objects`);
  return lib.trace.length;
}

const sources = (): [string, Buffer][] => [
  ...corpusFiles().map((f) => [path.relative(CORPUS, f), fs.readFileSync(f)] as [string, Buffer]),
  ['crafted html', htmlMessage('<html><body><a href="https://example.test/a">a</a></body></html>', { cte: 'quoted-printable' })],
  ['crafted LF-only', htmlMessage('<p>hi</p>\n<p>there</p>', { eol: '\n' })],
];

test('sync splitter: the same objects as mailsplit for every corpus message, whole and in line chunks', async () => {
  const all = sources();
  assert.ok(all.length > 40, 'the corpus is there');
  const rand = prng(7);
  let objects = 0;
  for (const [name, buf] of all) {
    objects += await assertSame(`${name} whole`, [buf]);
    await assertSame(`${name} line chunks`, lineChunks(buf, rand));
  }
  assert.ok(objects > all.length * 2, 'messages were split into parts');
});

test('sync splitter: the same objects as mailsplit for arbitrary chunk cuts and mutated messages', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? 99);
  const rand = prng(seed);
  const all = sources().filter(([, b]) => b.length < 200_000);
  const rounds = Number(process.env.FUZZ_ROUNDS ?? 250);
  for (let i = 0; i < rounds; i++) {
    const [name, original] = all[int(rand, 0, all.length - 1)];
    const input = i % 4 === 0 ? original : mutate(original, rand);
    const label = `seed ${seed} round ${i} (${name})`;
    await assertSame(`${label} random cuts`, randomChunks(input, rand, int(rand, 1, 3000)));
    await assertSame(`${label} line chunks`, lineChunks(input, rand));
  }
});

test('sync splitter: a splitter error (too many nodes) is thrown, as the library passes it on', async () => {
  const parts = Array.from({ length: 30 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
  const msg = Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`);
  const chunks = [msg];
  const lib = await (async () => {
    const s = new mailsplit.Splitter({ ...CONFIG, maxChildNodes: 10 });
    try {
      await pipeline(Readable.from(chunks), s, new Writable({ objectMode: true, write: (_o, _e, cb) => cb() }));
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  })();
  const s = createSyncSplitter(() => {}, { ...CONFIG, maxChildNodes: 10 });
  assert.ok(lib, 'the library fails on it');
  assert.throws(() => {
    splitSync(s, msg);
    finishSync(s);
  }, { message: lib });
});
