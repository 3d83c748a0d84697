// One eligible text/html MIME part, body bytes in and body bytes out: undo the transfer encoding and the
// charset, rewrite the HTML, then encode again with the part's own charset and transfer encoding.
// Anything that can't be done safely leaves the part exactly as it was, with a warning.
import { codecFor } from './charset.ts';
import { rewriteHtml, type HtmlRewriteOptions } from './html-rewrite.ts';
import { decodeTransfer, encodeTransfer, lineEndingOf, transferEncodingOf } from './transfer-encoding.ts';

export interface HtmlPartInfo {
  /** Content-Transfer-Encoding value ('' when absent). */
  transferEncoding: string;
  /** The charset parameter of Content-Type (false when absent). */
  charset: string | false;
  /** The part's raw header block (its last line ending is used when the body has none). */
  headerBytes: Buffer;
}

export type PartRewriteOptions = Omit<HtmlRewriteOptions, 'lineLimit'>;

export interface PartRewrite {
  body: Buffer;
  pixels: number;
  links: number;
}

export function rewriteHtmlPart(body: Buffer, part: HtmlPartInfo, opts: PartRewriteOptions): PartRewrite {
  const unchanged = (why: string): PartRewrite => {
    opts.warn(`text/html part passed through unchanged: ${why}`);
    return { body, pixels: 0, links: 0 };
  };
  // An empty body has no line of its own: anything added would run into the next boundary line.
  if (!body.length) return unchanged('empty body');
  // The final line break stays last: on malformed input it may be the one the next boundary needs.
  const tailLength = body[body.length - 1] !== 0x0a ? 0 : body.length > 1 && body[body.length - 2] === 0x0d ? 2 : 1;
  const raw = body.subarray(0, body.length - tailLength);
  const tail = body.subarray(body.length - tailLength);
  const enc = transferEncodingOf(part.transferEncoding);
  if (!enc) return unchanged(`unsupported Content-Transfer-Encoding "${part.transferEncoding}"`);
  const bytes = decodeTransfer(raw, enc);
  if (!bytes) return unchanged(`malformed ${enc} body`);
  const codec = codecFor(part.charset);
  if (!codec) return unchanged(`unknown charset "${part.charset}"`);
  const lossy = () => unchanged(`the body does not round-trip through charset ${codec.name}`);
  if (codec.roundTrips && !codec.roundTrips(bytes)) return lossy();
  const html = codec.decode(bytes);
  if (!codec.roundTrips && !codec.encode(html).equals(bytes)) return lossy();

  // The body's own line ending, else the one that ends the header block.
  const eol = lineEndingOf(body.includes(0x0a) ? body : part.headerBytes.subarray(-2));
  const messages: string[] = [];
  const result = rewriteHtml(html, {
    ...opts,
    warn: (m) => messages.push(m),
    lineLimit: enc === 'identity' ? { eol, octets: (s) => codec.encode(s).length } : undefined,
  });
  if (result.html === html) {
    messages.forEach(opts.warn);
    return { body, pixels: 0, links: 0 };
  }
  const out = codec.encode(result.html);
  // UTF-8 and the byte-transparent codec write any text that came out of them plus ASCII markup.
  if (!codec.lossless && codec.decode(out) !== result.html) return unchanged(`the rewritten HTML can't be written in charset ${codec.name}`);
  messages.forEach(opts.warn);
  return { body: Buffer.concat([encodeTransfer(out, enc, eol, raw), tail]), pixels: result.pixels, links: result.links };
}
