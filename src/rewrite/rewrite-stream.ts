// The streaming form of the rewriter: a Transform around MessageRewriter. Its output pieces (header blocks,
// body pieces) are gathered and go out as one buffer per 64 KB, so a reader sees about one chunk per input
// chunk rather than one per piece, and a small message as a single chunk.
import { Transform, type TransformCallback } from 'node:stream';
import { MessageRewriter, type RewriteOptions, type RewriteSummary } from './message-rewriter.ts';

const OUTPUT_CHUNK = 64 * 1024;

export class RewriteStream extends Transform {
  private readonly rewriter: MessageRewriter;
  private out: Buffer[] = [];
  private outBytes = 0;

  constructor(opts: RewriteOptions) {
    super();
    this.rewriter = new MessageRewriter(opts, (buf) => {
      this.out.push(buf);
      this.outBytes += buf.length;
    });
  }

  /** Counts and warnings so far (complete once the stream has ended). */
  result(): RewriteSummary {
    return this.rewriter.result();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.rewriter.write(chunk);
    if (this.outBytes >= OUTPUT_CHUNK) this.drain();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.rewriter.end();
    this.drain();
    callback();
  }

  private drain(): void {
    if (!this.out.length) return;
    this.push(this.out.length === 1 ? this.out[0] : Buffer.concat(this.out, this.outBytes));
    this.out = [];
    this.outBytes = 0;
  }
}

export function createRewriteStream(opts: RewriteOptions): RewriteStream {
  return new RewriteStream(opts);
}
