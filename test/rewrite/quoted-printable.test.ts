// The rewriter's quoted-printable encoder on random bytes: libqp decodes it back to the input; no line is
// longer than 76 characters; no encoded line ends in whitespace or starts with "-"; line breaks in the data
// stay line breaks of the requested kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as libqp from 'libqp';
import { encodeQuotedPrintable } from '../../src/rewrite/transfer-encoding.ts';
import { int, prng } from './random.ts';

const PIECES = [' ', '  ', '\t', '\r\n', '\n', '\r', '-', '--', '=', '.', 'a', 'Z', '<a href="x">', '\u00e9', '\u20ac', '\u0000', '\u00ff'];

function randomBytes(rand: () => number, lf: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let n = int(rand, 0, 120); n > 0; n--) {
    if (rand() < 0.2) parts.push(Buffer.from([int(rand, 0, 255)]));
    else if (rand() < 0.1) parts.push(Buffer.from('x'.repeat(int(rand, 60, 200))));
    else parts.push(Buffer.from(PIECES[int(rand, 0, PIECES.length - 1)], 'utf8'));
  }
  let b = Buffer.concat(parts);
  // An LF-only part holds no CR at all (a lone CR would be escaped either way).
  if (lf) b = Buffer.from(b.toString('latin1').replace(/\r/g, ''), 'latin1');
  return b;
}

test('quoted-printable: random input round-trips through libqp and keeps every encoded-line rule', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 2045);
  const rand = prng(seed);
  for (let i = 0; i < 5000; i++) {
    const eol = i % 2 ? '\n' : '\r\n';
    const input = randomBytes(rand, eol === '\n');
    const out = encodeQuotedPrintable(input, eol).toString('latin1');
    const label = `seed ${seed} case ${i} ${JSON.stringify(input.toString('latin1'))}`;
    assert.deepEqual(libqp.decode(out), input, `${label}: decodes back`);
    assert.ok(!/[^\t\r\n\x20-\x7e]/.test(out), `${label}: only printable ASCII, TAB and line breaks`);
    if (eol === '\n') assert.ok(!out.includes('\r'), `${label}: LF-only stays LF-only`);
    // A lone LF in the data stays a lone LF (a line break) in CRLF output too.
    for (const line of out.split(/\r?\n/)) {
      assert.ok(line.length <= 76, `${label}: line of ${line.length}`);
      assert.ok(!/[ \t]$/.test(line), `${label}: whitespace at a line end`);
      assert.ok(!line.startsWith('-'), `${label}: a line starts with "-"`);
    }
  }
});
