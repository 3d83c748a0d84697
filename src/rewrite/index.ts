// The tracking rewriter: injects one open pixel per eligible text/html part and points http(s) links at
// the click endpoint, streaming, by insertion (see docs/rewriting.md for the rules).
import type { Transform } from 'node:stream';
import { MessageRewriter, type RewriteOptions } from './message-rewriter.ts';
import { createRewriteStream as create, type RewriteStream } from './rewrite-stream.ts';

export type { RewriteOptions, RewriteSummary } from './message-rewriter.ts';
export { MessageRewriter } from './message-rewriter.ts';
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

/** Rewrites a whole message held in memory, synchronously. */
export function rewriteMessageSync(input: Buffer, opts: RewriteOptions): RewriteResult {
  const out: Buffer[] = [];
  const rewriter = new MessageRewriter(opts, (buf) => out.push(buf));
  rewriter.write(input);
  rewriter.end();
  return resultOf(rewriter, out);
}

function resultOf(rewriter: MessageRewriter, out: Buffer[]): RewriteResult {
  const r = rewriter.result();
  return { output: out.length === 1 ? out[0] : Buffer.concat(out), pixels: r.pixels, links: r.links, warnings: [...r.warnings], optOut: { ...r.optOut } };
}

/** Input slice per event-loop turn in rewriteMessage: a 25 MB message must not stall the server. */
const SLICE = 1024 * 1024;

/** Rewrites a whole message held in memory (the outbound pipeline's step); yields between 1 MB slices. */
export async function rewriteMessage(input: Buffer, opts: RewriteOptions): Promise<RewriteResult> {
  if (input.length <= SLICE) return rewriteMessageSync(input, opts);
  const out: Buffer[] = [];
  const rewriter = new MessageRewriter(opts, (buf) => out.push(buf));
  for (let at = 0; at < input.length; at += SLICE) {
    rewriter.write(input.subarray(at, at + SLICE));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  rewriter.end();
  return resultOf(rewriter, out);
}
