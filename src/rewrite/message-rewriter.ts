// The rewriter's core: message bytes in, rewritten bytes out, synchronously (the stream and the in-memory
// forms in rewrite-stream.ts and index.ts wrap it). mailsplit's Splitter cuts the message into header
// blocks and body chunks that concatenate back to the exact input; those pass straight through, except:
// - the top-level header block loses its X-Mailbeacon-Track field (always);
// - an eligible text/html part is collected (bounded) and rewritten as a whole (html-part.ts).
// The Splitter is driven synchronously (sync-splitter.ts), so every object it produces for an input chunk
// is handled before write() returns and output order is the input order.
// If the Splitter fails (limits, a bug), the input that has not been written yet is passed through raw
// from that point on; the raw input is kept only back to the last byte written, so memory stays bounded.
import type { MimeNode, SplitterObject } from 'mailsplit';
import { clickUrl, pixelUrl, normalizeHost, type TokenSigner } from '../tracking/tokens.ts';
import { isEligibleHtmlPart } from './eligibility.ts';
import { InputWindow } from './input-window.ts';
import { rewriteHtmlPart } from './html-part.ts';
import { parseOptOut, stripOptOutHeader, type OptOut } from './opt-out.ts';
import type { PixelPlacement } from './pixel.ts';
import { createSyncSplitter, finishSync, splitSync, type SyncSplitter } from './sync-splitter.ts';

export interface RewriteOptions {
  signer: TokenSigner;
  /** Tracking base URL, e.g. https://track.example.com; every pixel src and tracked href starts with it. */
  trackingBase: string;
  /** The recipient copy id carried by every token. */
  copyId: string;
  opens: boolean;
  clicks: boolean;
  pixel: PixelPlacement;
  onWarning?: (message: string) => void;
}

export interface RewriteSummary {
  pixels: number;
  links: number;
  warnings: string[];
  optOut: OptOut;
}

/** An HTML part larger than this (encoded) is passed through unchanged rather than held in memory. */
export const MAX_HTML_PART_BYTES = 16 * 1024 * 1024;
/** Tracking hrefs longer than this are not made (servers and browsers refuse longer request lines). */
export const MAX_CLICK_URL_LENGTH = 8000;

interface PendingPart {
  node: MimeNode;
  headerBytes: Buffer;
  chunks: Buffer[];
  size: number;
}

export class MessageRewriter {
  private readonly splitter: SyncSplitter;
  private readonly host: string;
  private readonly base: string;
  private pixelSrc?: string;
  private raw = false;
  private failed = false;
  private ended = false;
  /** Input not yet written, checked against what the splitter emits. */
  private readonly input = new InputWindow();
  /** Input after the last LF, not yet given to the splitter. */
  private carry: Buffer[] = [];
  /** Absolute input offset up to which output has been written. */
  private written = 0;
  private rootDone = false;
  private pending?: PendingPart;
  private linkIndex = 0;
  private readonly summary: RewriteSummary = { pixels: 0, links: 0, warnings: [], optOut: { opens: false, clicks: false } };

  /** `output` receives the rewritten bytes in order, during write() and end(). */
  constructor(private readonly opts: RewriteOptions, private readonly output: (buf: Buffer) => void) {
    let url: URL;
    try {
      url = new URL(opts.trackingBase);
    } catch {
      throw new TypeError(`tracking base is not a URL: ${opts.trackingBase}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`tracking base must be http(s): ${opts.trackingBase}`);
    const idLength = Buffer.byteLength(opts.copyId, 'utf8');
    if (idLength < 1 || idLength > 255) throw new TypeError('copy id must be 1..255 bytes');
    this.host = normalizeHost(url.host);
    this.base = opts.trackingBase.replace(/\/+$/, '');
    this.splitter = createSyncSplitter((obj) => {
      if (this.failed) return;
      try {
        this.onObject(obj);
      } catch (e) {
        this.fail(e as Error);
      }
    }, { ignoreEmbedded: true, maxChildNodes: 10_000 });
  }

  /** Counts and warnings so far (complete after end()). */
  result(): RewriteSummary {
    return this.summary;
  }

  write(chunk: Buffer): void {
    if (this.ended) throw new Error('write after end');
    if (this.raw) {
      if (chunk.length) this.output(chunk);
      return;
    }
    this.input.append(chunk);
    // The Splitter loses bytes when a chunk ends between CR and LF (or mid-line at a body's end), so it
    // is only ever given whole lines; the rest waits for the next chunk.
    const lf = chunk.lastIndexOf(0x0a);
    if (lf < 0) {
      if (chunk.length) this.carry.push(chunk);
      return;
    }
    const lines = this.carry.length ? Buffer.concat([...this.carry, chunk.subarray(0, lf + 1)]) : chunk.subarray(0, lf + 1);
    this.carry = lf + 1 < chunk.length ? [chunk.subarray(lf + 1)] : [];
    this.feed(lines);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.raw) return;
    if (this.carry.length) {
      const rest = Buffer.concat(this.carry);
      this.carry = [];
      this.feed(rest);
    }
    if (this.raw) return;
    try {
      finishSync(this.splitter);
      if (!this.failed && this.input.verified !== this.input.total) this.fail(new Error('the MIME splitter did not account for the whole input'));
      else if (!this.failed) this.finishPart();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private feed(lines: Buffer): void {
    try {
      splitSync(this.splitter, lines);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private warn(message: string): void {
    this.summary.warnings.push(message);
    this.opts.onWarning?.(message);
  }

  private emit_(buf: Buffer, inputBytes: number): void {
    if (buf.length) this.output(buf);
    this.written += inputBytes;
    this.input.release(this.written);
  }

  private onObject(obj: SplitterObject): void {
    const piece = obj.type === 'node' ? headerBlock(obj) : (obj.value ?? Buffer.alloc(0));
    if (!this.input.verify(piece)) throw new Error('the MIME splitter lost track of the input');
    if (obj.type === 'node') {
      this.finishPart();
      const header = piece;
      if (!this.rootDone && !obj.parentNode) {
        this.rootDone = true;
        this.emit_(this.applyOptOut(header), header.length);
      } else {
        this.emit_(header, header.length);
      }
      // A header block cut off by the end of the input (no blank line) has no body to put anything in.
      if ((this.tracksOpens() || this.tracksClicks()) && isEligibleHtmlPart(obj) && /\n\r?\n$/.test(header.subarray(-4).toString('latin1'))) {
        this.pending = { node: obj, headerBytes: header, chunks: [], size: 0 };
      }
      return;
    }
    const value = piece;
    const p = this.pending;
    if (p && obj.type === 'body' && obj.node === p.node) {
      p.chunks.push(value);
      p.size += value.length;
      if (p.size > MAX_HTML_PART_BYTES) {
        this.warn(`text/html part larger than ${MAX_HTML_PART_BYTES} bytes passed through unchanged`);
        this.pending = undefined;
        this.emit_(Buffer.concat(p.chunks), p.size);
      }
      return;
    }
    this.finishPart();
    this.emit_(value, value.length);
  }

  private tracksOpens(): boolean {
    return this.opts.opens && !this.summary.optOut.opens;
  }

  private tracksClicks(): boolean {
    return this.opts.clicks && !this.summary.optOut.clicks;
  }

  private applyOptOut(header: Buffer): Buffer {
    const { block, values } = stripOptOutHeader(header);
    for (const v of values) {
      const { optOut, unknown } = parseOptOut(v);
      this.summary.optOut.opens ||= optOut.opens;
      this.summary.optOut.clicks ||= optOut.clicks;
      if (unknown.length) this.warn(`X-Mailbeacon-Track: ignored ${unknown.map((u) => JSON.stringify(u)).join(', ')}`);
    }
    return block;
  }

  private finishPart(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const raw = p.chunks.length === 1 ? p.chunks[0] : Buffer.concat(p.chunks, p.size);
    let body = raw;
    try {
      const res = rewriteHtmlPart(raw, { transferEncoding: p.node.encoding, charset: p.node.charset, headerBytes: p.headerBytes }, {
        pixelUrl: this.tracksOpens() ? this.pixel() : undefined,
        placement: this.opts.pixel,
        clicks: this.tracksClicks(),
        firstLinkIndex: this.linkIndex,
        clickHref: (url, linkIndex) => this.clickHref(url, linkIndex),
        clickPrefix: `${this.base}/c/`,
        warn: (m) => this.warn(m),
      });
      body = res.body;
      this.linkIndex += res.links;
      this.summary.links += res.links;
      this.summary.pixels += res.pixels;
    } catch (e) {
      this.warn(`text/html part passed through unchanged: ${(e as Error).message}`);
      body = raw;
    }
    this.emit_(body, p.size);
  }

  private pixel(): string {
    this.pixelSrc ??= pixelUrl(this.base, this.opts.signer.sign({ kind: 'open', copyId: this.opts.copyId }, this.host));
    return this.pixelSrc;
  }

  private clickHref(url: string, linkIndex: number): string | undefined {
    if (url.length > MAX_CLICK_URL_LENGTH) return undefined;
    const href = clickUrl(this.base, this.opts.signer.sign({ kind: 'click', copyId: this.opts.copyId, linkIndex, url }, this.host));
    return href.length > MAX_CLICK_URL_LENGTH ? undefined : href;
  }

  /** The splitter gave up: write the not-yet-written input raw, and everything after it. */
  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.raw = true;
    this.pending = undefined;
    this.warn(`message could not be parsed safely (${err.message}); passed through unchanged from byte ${this.written}`);
    let rest = this.input.rest(this.written);
    if (!this.rootDone) {
      // The top-level header never got through the splitter: still remove the opt-out header.
      const end = headerEnd(rest);
      rest = Buffer.concat([this.applyOptOut(rest.subarray(0, end)), rest.subarray(end)]);
      this.rootDone = true;
    }
    if (rest.length) this.output(rest);
  }
}

/** The header block of a node exactly as it was read. */
function headerBlock(node: MimeNode): Buffer {
  const h = node.headers?.headers;
  if (Buffer.isBuffer(h)) return h;
  if (typeof h === 'string') return Buffer.from(h, 'binary');
  return node._headersLines?.length ? Buffer.concat(node._headersLines) : Buffer.alloc(0);
}

/** Offset just past the blank line that ends a header block (or the whole buffer). */
function headerEnd(buf: Buffer): number {
  const text = buf.toString('latin1');
  const m = /\r?\n\r?\n/.exec(text);
  return m ? m.index + m[0].length : buf.length;
}
