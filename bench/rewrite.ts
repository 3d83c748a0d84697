// Benchmark: the tracking rewriter against a pass-through of the same streaming library (mailsplit
// Splitter → Joiner, no rewrite), measured in the same run, on
//   1. ../shared/anchors/sample-html.eml with opens + clicks, and
//   2. a multi-MB message with attachments (../shared/corpus/mailsplit/large_image.eml).
// Both sides get the message as a stream of 64 KB chunks and write to a sink that drops the bytes.
// Rounds alternate between the two sides so machine noise hits both alike. Goal: rewrite ≥ 0.7× pass-through.
//
//   node --import tsx bench/rewrite.ts [seconds per side per case, default 6]
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import mailsplit from 'mailsplit';
import { createRewriteStream } from '../src/rewrite/index.ts';
import { keyringFromSecret, TokenSigner } from '../src/tracking/tokens.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
function shared(rel: string): string {
  const candidates = [process.env.MAILBEACON_SHARED_DIR && path.join(process.env.MAILBEACON_SHARED_DIR, rel), path.resolve(repoRoot, '../shared', rel), path.resolve(repoRoot, '../../shared', rel)].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`not found: ../shared/${rel}`);
  return found;
}

const CHUNK = 64 * 1024;
const seconds = Number(process.argv[2] ?? 6);
const signer = new TokenSigner(keyringFromSecret('bench-secret', [1]));

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}

async function once(input: Buffer[], make: () => Transform[]): Promise<number> {
  let bytes = 0;
  await pipeline([
    Readable.from(input),
    ...make(),
    new Writable({
      write(c: Buffer, _e, cb) {
        bytes += c.length;
        cb();
      },
    }),
  ]);
  return bytes;
}

const passThrough = () => [new mailsplit.Splitter(), new mailsplit.Joiner()];
const rewriter = (copy: number) => () => [createRewriteStream({ signer, trackingBase: 'https://track.example.com', copyId: `copy_${copy}`, opens: true, clicks: true, pixel: 'auto' })];

interface Side {
  name: string;
  messages: number;
  ms: number;
}

async function measure(label: string, file: string): Promise<void> {
  const buf = fs.readFileSync(file);
  const input = chunks(buf);
  // Sanity: pass-through is exact, and the rewriter adds a pixel.
  const passBytes = await once(input, passThrough);
  if (passBytes !== buf.length) throw new Error('pass-through changed the size');
  const probe = createRewriteStream({ signer, trackingBase: 'https://track.example.com', copyId: 'probe', opens: true, clicks: true, pixel: 'auto' });
  await once(input, () => [probe]);
  const { pixels, links } = probe.result();
  // Warm-up.
  for (let i = 0; i < 3; i++) {
    await once(input, passThrough);
    await once(input, rewriter(i));
  }
  const sides: Side[] = [
    { name: 'pass-through (Splitter→Joiner)', messages: 0, ms: 0 },
    { name: 'rewrite (opens+clicks)', messages: 0, ms: 0 },
  ];
  const roundMs = Math.max(200, (seconds * 1000) / 10);
  let copy = 0;
  while (sides[0].ms < seconds * 1000 || sides[1].ms < seconds * 1000) {
    for (const [i, side] of sides.entries()) {
      const t0 = performance.now();
      while (performance.now() - t0 < roundMs) {
        await once(input, i === 0 ? passThrough : rewriter(copy++));
        side.messages++;
      }
      side.ms += performance.now() - t0;
    }
  }
  const mb = buf.length / (1024 * 1024);
  console.log(`\n${label}  (${(buf.length / 1024).toFixed(1)} KB; rewriter adds ${pixels} pixel(s), ${links} tracked link(s))`);
  for (const s of sides) {
    const mps = (s.messages * 1000) / s.ms;
    console.log(`  ${s.name.padEnd(32)} ${mps.toFixed(1).padStart(8)} messages/s  ${(mps * mb).toFixed(1).padStart(7)} MB/s`);
  }
  const ratio = sides[1].messages / sides[1].ms / (sides[0].messages / sides[0].ms);
  console.log(`  rewrite / pass-through: ${ratio.toFixed(2)}× (goal ≥ 0.70×)`);
}

console.log(`node ${process.version}, ${seconds}s per side per message, input in ${CHUNK / 1024} KB chunks`);
await measure('../shared/anchors/sample-html.eml', shared('anchors/sample-html.eml'));
await measure('../shared/corpus/mailsplit/large_image.eml', shared('corpus/mailsplit/large_image.eml'));
