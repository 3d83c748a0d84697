// Child process of memory.test.ts: streams a generated 50 MB message (a 40 MB and a 10 MB base64
// attachment around a small HTML part) through the rewriter and prints {baseline, peak, …} as JSON.
// Run on its own so the RSS measured is the rewriter's alone.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRewriteStream, rewriteMessage } from '../../src/rewrite/index.ts';
import { keyringFromSecret, TokenSigner } from '../../src/tracking/tokens.ts';

const MB = 1024 * 1024;
const opts = { signer: new TokenSigner(keyringFromSecret('memory', [1])), trackingBase: 'https://t.example.com', copyId: 'mem', opens: true, clicks: true, pixel: 'bottom' as const };

function* attachment(name: string, encodedBytes: number): Generator<Buffer> {
  yield Buffer.from(`--MIX\r\nContent-Type: application/octet-stream; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`);
  const linesPerChunk = 1000;
  for (let written = 0; written < encodedBytes; ) {
    const b64 = randomBytes(57 * linesPerChunk).toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
    const chunk = Buffer.from(`${lines.join('\r\n')}\r\n`);
    written += chunk.length;
    yield chunk;
  }
}

function* message(): Generator<Buffer> {
  yield Buffer.from('From: a@example.test\r\nTo: b@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="MIX"\r\n\r\n');
  yield Buffer.from('--MIX\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<html><body><p>See the attachments.</p><a href=3D"https://example.test/x">x</a></body></html>\r\n');
  yield* attachment('big.bin', 40 * MB);
  yield* attachment('second.bin', 10 * MB);
  yield Buffer.from('--MIX--\r\n');
}

// Warm up: load every module and JIT the hot paths on a small message first.
await rewriteMessage(Buffer.concat([...message()].slice(0, 2).concat(Buffer.from('--MIX--\r\n'))), opts);
globalThis.gc?.();
const baseline = process.memoryUsage.rss();
let peak = baseline;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
let inBytes = 0;
let outBytes = 0;
let sawPixel = false;
const stream = createRewriteStream(opts);
await pipeline(
  Readable.from(
    (function* () {
      for (const c of message()) {
        inBytes += c.length;
        yield c;
      }
    })(),
  ),
  stream,
  new Writable({
    write(chunk: Buffer, _e, cb) {
      outBytes += chunk.length;
      if (!sawPixel && chunk.includes('https://t.example.com/o/')) sawPixel = true;
      cb();
    },
  }),
);
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
const r = stream.result();
process.stdout.write(JSON.stringify({ baseline, peak, inBytes, outBytes, pixels: r.pixels, links: r.links, warnings: r.warnings, sawPixel }));
