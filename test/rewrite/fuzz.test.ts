// Random mutations of corpus messages (bounded count, fixed seed): the rewriter never throws and never
// hangs; with tracking off the output is the input; with tracking on the MIME tree, the headers and every
// non-HTML body stay the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isEligibleHtmlPart } from '../../src/rewrite/eligibility.ts';
import { CORPUS, corpusFiles, htmlMessage, readParts, rewrite } from './helpers.ts';
import { int, prng } from './random.ts';

const SNIPPETS = ['\r\n', '\n', '\r', '--', '\r\n--', '</body>', '<body>', '<!--', '-->', '<!--[if mso]>', '<![endif]-->', '<a href="https://x.test/?a=1&amp;b=2">', '<a href=', '"', "'", '<script>', '</script>', '<textarea>', '=', '=\r\n', '=3D', '&amp;', '&#x', '\x00', '\xff\xfe', 'Content-Type: text/html; charset=utf-8\r\n\r\n', 'Content-Transfer-Encoding: base64\r\n', 'X-Mailbeacon-Track: no\r\n', ' ', '\t', '>', '<'];

export function mutate(input: Buffer, rand: () => number): Buffer {
  let buf = Buffer.from(input);
  const boundaries = [...buf.toString('latin1').matchAll(/boundary="?([^";\r\n]+)"?/gi)].map((m) => m[1]);
  const ops = int(rand, 1, 4);
  for (let k = 0; k < ops; k++) {
    const at = int(rand, 0, buf.length);
    switch (int(rand, 0, 6)) {
      case 0:
        for (let n = int(rand, 1, 5); n > 0 && buf.length; n--) buf[int(rand, 0, buf.length - 1)] = int(rand, 0, 255);
        break;
      case 1:
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + int(rand, 1, 200)))]);
        break;
      case 2: {
        const len = int(rand, 1, 300);
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + len), buf.subarray(at)]);
        break;
      }
      case 3: {
        const s = SNIPPETS[int(rand, 0, SNIPPETS.length - 1)];
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(s, 'latin1'), buf.subarray(at)]);
        break;
      }
      case 4:
        if (boundaries.length) {
          const b = boundaries[int(rand, 0, boundaries.length - 1)];
          buf = Buffer.concat([buf.subarray(0, at), Buffer.from(`\r\n--${b}${rand() < 0.3 ? '--' : ''}\r\n`), buf.subarray(at)]);
        }
        break;
      case 5:
        buf = buf.subarray(0, at);
        break;
      case 6: {
        const end = Math.min(buf.length, at + int(rand, 10, 2000));
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(buf.subarray(at, end).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), buf.subarray(end)]);
        break;
      }
    }
  }
  return buf;
}

test('fuzz: mutated corpus messages never crash or hang, and keep their MIME structure', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? 424242);
  const rand = prng(seed);
  const sources = [
    ...corpusFiles()
      .filter((f) => fs.statSync(f).size < 60_000)
      .map((f) => [path.relative(CORPUS, f), fs.readFileSync(f)] as const),
    ['crafted', htmlMessage('<html><body><a href="https://example.test/a">a</a><!--[if mso]><v:rect href="https://example.test/v"/><![endif]--></body></html>', { cte: 'quoted-printable' })] as const,
  ];
  assert.ok(sources.length > 40);
  const rounds = Number(process.env.FUZZ_ROUNDS ?? 250);
  for (let i = 0; i < rounds; i++) {
    const [name, original] = sources[int(rand, 0, sources.length - 1)];
    const input = mutate(original, rand);
    const label = `seed ${seed} round ${i} (${name})`;
    const t0 = performance.now();
    const on = await rewrite(input, { pixel: (['top', 'bottom', 'auto'] as const)[i % 3] });
    assert.ok(performance.now() - t0 < 5000, `${label}: too slow`);
    const off = await rewrite(input, { opens: false, clicks: false });
    const hasHeader = /x-mailbeacon-track/i.test(input.toString('latin1'));
    if (!hasHeader) assert.ok(off.output.equals(input), `${label}: tracking off must give the input back`);
    const a = await readParts(input);
    const b = await readParts(on.output);
    assert.equal(b.length, a.length, `${label}: same number of MIME nodes`);
    for (let n = 0; n < a.length; n++) {
      assert.equal(b[n].contentType, a[n].contentType, `${label}: node ${n} type`);
      if (n > 0 || !hasHeader) assert.ok(b[n].header.equals(a[n].header), `${label}: node ${n} header`);
      if (!isEligibleHtmlPart(a[n].node)) assert.ok(b[n].body.equals(a[n].body), `${label}: node ${n} body`);
    }
  }
});
