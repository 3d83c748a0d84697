// The tracking rewriter: injects one open pixel per eligible text/html part and points http(s) links at
// the click endpoint, streaming, by insertion (see docs/rewriting.md for the rules).
import type { Transform } from 'node:stream';
import { createRewriteStream as create, type RewriteOptions, type RewriteStream } from './rewrite-stream.ts';

export type { RewriteOptions, RewriteSummary } from './rewrite-stream.ts';
export { RewriteStream } from './rewrite-stream.ts';
export type { OptOut } from './opt-out.ts';
export type { PixelPlacement } from './pixel.ts';
export { OPT_OUT_HEADER } from './opt-out.ts';

export interface RewriteResult {
  output: Buffer;
  pixels: number;
  links: number;
  warnings: string[];
  /** Kinds of tracking the message's X-Mailbeacon-Track header turned off. */
  optOut: { opens: boolean; clicks: boolean };
}

/** The streaming form: message bytes in, rewritten message bytes out; `.result()` once it has ended. */
export function createRewriteStream(opts: RewriteOptions): Transform & Pick<RewriteStream, 'result'> {
  return create(opts);
}

/** Rewrites a whole message held in memory (a convenience over the stream). */
export async function rewriteMessage(input: Buffer, opts: RewriteOptions): Promise<RewriteResult> {
  const stream = create(opts);
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  stream.end(input);
  await done;
  const r = stream.result();
  return { output: Buffer.concat(out), pixels: r.pixels, links: r.links, warnings: [...r.warnings], optOut: { ...r.optOut } };
}
