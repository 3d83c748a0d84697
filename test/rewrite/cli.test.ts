// `mailbeacon rewrite` as a user runs it: message on stdin, rewritten message on stdout, warnings on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/spawn-cli.ts';
import { rewriteMessage } from '../../src/rewrite/index.ts';
import { keyringFromSecret, TokenSigner } from '../../src/tracking/tokens.ts';
import { decodeBody, htmlMessage, htmlParts, sharedDir } from './helpers.ts';

const SAMPLE = path.join(sharedDir(), 'anchors/sample-html.eml');
const sample = fs.existsSync(SAMPLE)
  ? fs.readFileSync(SAMPLE)
  : htmlMessage('<html><body><a href="https://example.test/a">a</a><a href="mailto:x@example.test">m</a></body></html>', { cte: 'quoted-printable' });

test('rewrite: stdin → stdout, the same bytes as rewriteMessage with keyringFromSecret(S, [1])', async () => {
  const r = await runCli(['rewrite', '--secret', 'cli-secret', '--tracking-url', 'https://t.example.com', '--message-id', 'msg-7', '--clicks', '--pixel', 'top'], {}, sample);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const signer = new TokenSigner(keyringFromSecret('cli-secret', [1]));
  const expected = await rewriteMessage(sample, { signer, trackingBase: 'https://t.example.com', copyId: 'msg-7', opens: true, clicks: true, pixel: 'top' });
  assert.ok(expected.pixels === 1 && expected.links > 0);
  assert.ok(r.stdoutBuf.equals(expected.output));
  const html = decodeBody((await htmlParts(r.stdoutBuf))[0]);
  const token = /https:\/\/t\.example\.com\/o\/([\w-]+)\.gif/.exec(html)![1];
  assert.deepEqual(signer.verify(token, 't.example.com'), { kind: 'open', copyId: 'msg-7' });
});

test('rewrite: opens only by default; --no-opens with no --clicks passes through; a bad part warns on stderr and exits 0', async () => {
  const input = Buffer.concat([
    Buffer.from('X-Mailbeacon-Track: clicks=no\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/html; charset=x-unknown\r\n\r\n<p>\xff</p>\r\n--B--\r\n', 'latin1'),
  ]);
  const r = await runCli(['rewrite', '--secret', 's', '--tracking-url', 'https://t.example.com', '--message-id', 'm'], {}, input);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /warning: .*unknown charset/);
  assert.ok(r.stdoutBuf.equals(input.subarray(input.indexOf('Content-Type'))), 'unchanged except the removed opt-out header');
});

test('rewrite: missing or bad options exit 2 with the usage', async () => {
  const r = await runCli(['rewrite', '--tracking-url', 'ftp://x', '--message-id', 'm'], {}, 'x');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--secret is required/);
  assert.match(r.stderr, /--tracking-url must be an http\(s\) URL/);
  assert.match(r.stderr, /usage: mailbeacon rewrite/);
});
