// The same message cut into random chunk sizes gives exactly the same output (and warnings) as in one
// piece; with tracking off (and no opt-out header) the output is the input, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createRewriteStream, type RewriteOptions } from '../../src/rewrite/index.ts';
import { CORPUS, corpusFiles, htmlMessage, options } from './helpers.ts';
import { prng, randomChunks } from './random.ts';

export async function runChunks(chunks: Buffer[], opts: RewriteOptions): Promise<{ output: Buffer; warnings: string[] }> {
  const stream = createRewriteStream(opts);
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  Readable.from(chunks, { objectMode: false }).pipe(stream);
  await done;
  return { output: Buffer.concat(out), warnings: stream.result().warnings };
}

const crafted = [
  htmlMessage('<html><body><p>Grüße</p><a href="https://example.test/a?x=1&amp;y=2">a</a>\r\n<!--[if mso]><v:rect href="https://example.test/v"/><![endif]--></body></html>', { cte: 'quoted-printable', extraHeaders: 'X-Mailbeacon-Track: opens=no' }),
  htmlMessage('<html><body><a href=https://example.test/b>b</a></body></html>', { cte: 'base64', eol: '\n' }),
  htmlMessage('<p>8bit ünïcödé <a href="https://example.test/c">c</a></p>\r\n\r\n', { cte: '8bit' }),
];

test('chunking: random chunk sizes give identical output', async () => {
  const rand = prng(20261126);
  const files = corpusFiles().filter((f) => fs.statSync(f).size < 200_000);
  assert.ok(files.length > 40);
  const inputs: Array<[string, Buffer]> = [...crafted.map((b, i) => [`crafted-${i}`, b] as [string, Buffer]), ...files.map((f) => [path.relative(CORPUS, f), fs.readFileSync(f)] as [string, Buffer])];
  for (const [name, input] of inputs) {
    const opts = options({ pixel: 'auto' });
    const whole = await runChunks([input], opts);
    // Tiny chunks (1..7 bytes) on small messages, bigger ones otherwise: both cut CRLFs and boundaries.
    const max = input.length < 8000 ? 7 : 700;
    for (let round = 0; round < 2; round++) {
      const cut = await runChunks(randomChunks(input, rand, round === 0 ? max : 4096), opts);
      assert.ok(cut.output.equals(whole.output), `${name}: output differs with random chunks (round ${round})`);
      assert.deepEqual(cut.warnings, whole.warnings, name);
    }
  }
});

test('chunking: with tracking off the output is the input (the splitter loses nothing), however it is cut', async () => {
  const rand = prng(7);
  for (const f of corpusFiles()) {
    const input = fs.readFileSync(f);
    if (/x-mailbeacon-track/i.test(input.toString('latin1'))) continue;
    const { output } = await runChunks(randomChunks(input, rand, 1 + Math.floor(input.length / 50)), options({ opens: false, clicks: false }));
    assert.ok(output.equals(input), path.relative(CORPUS, f));
  }
});
