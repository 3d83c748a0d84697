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
import { mutate } from './mutate.ts';

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
