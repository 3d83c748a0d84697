// Content-Transfer-Encoding of an HTML part: decode to bytes, and encode the rewritten bytes back with
// the part's own encoding. Quoted-printable and base64 lines stay within 76 characters; identity
// encodings (7bit, 8bit, binary, none) are written as they are (the caller keeps those lines ≤ 998).
import * as libqp from 'libqp';

export type TransferEncoding = 'identity' | 'quoted-printable' | 'base64';

/** The part's transfer encoding, or undefined for one we don't re-encode (x-uuencode, garbage…). */
export function transferEncodingOf(header: string | false | undefined): TransferEncoding | undefined {
  const v = (header || '').toString().trim().toLowerCase();
  if (v === '' || v === '7bit' || v === '8bit' || v === 'binary') return 'identity';
  if (v === 'quoted-printable') return 'quoted-printable';
  if (v === 'base64') return 'base64';
  return undefined;
}

/** The line ending a part uses (LF-only input stays LF-only). */
export function lineEndingOf(sample: Buffer): '\r\n' | '\n' {
  const lf = sample.indexOf(0x0a);
  return lf > 0 && sample[lf - 1] === 0x0d ? '\r\n' : lf >= 0 ? '\n' : '\r\n';
}

const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/** The decoded bytes, or undefined when the body is not valid in its declared encoding. */
export function decodeTransfer(raw: Buffer, enc: TransferEncoding): Buffer | undefined {
  switch (enc) {
    case 'identity':
      return raw;
    case 'quoted-printable':
      return libqp.decode(raw);
    case 'base64': {
      const text = raw.toString('latin1');
      if (!BASE64_BODY.test(text)) return undefined;
      const compact = text.replace(/\s+/g, '');
      // Data after padding, or a length that can't be base64, means the body is damaged.
      if (/=[^=]/.test(compact) || compact.length % 4 === 1) return undefined;
      return Buffer.from(compact, 'base64');
    }
  }
}

/** Encodes rewritten bytes with `enc`; `raw` is the original body (its trailing line breaks are kept). */
export function encodeTransfer(bytes: Buffer, enc: TransferEncoding, eol: '\r\n' | '\n', raw: Buffer): Buffer {
  switch (enc) {
    case 'identity':
      return bytes;
    case 'quoted-printable':
      return encodeQuotedPrintable(bytes, eol);
    case 'base64': {
      const b64 = bytes.toString('base64');
      const lines: string[] = [];
      for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
      const trailing = /[\r\n\t ]*$/.exec(raw.toString('latin1'))![0];
      return Buffer.from(lines.join(eol) + trailing, 'latin1');
    }
  }
}

const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
/** Longest line before the soft break's `=`: a line is at most 76 characters with it. */
const QP_LINE = 75;
/** 1 for bytes written as they are: TAB and printable ASCII except `=`. */
const QP_LITERAL = new Uint8Array(256).map((_, b) => (b === 0x09 || (b >= 0x20 && b <= 0x7e && b !== 0x3d) ? 1 : 0));
/** 1 for literal bytes that need no look-around (not SP/TAB before a line end, not `-` at a line start). */
const QP_PLAIN = new Uint8Array(256).map((_, b) => (b >= 0x21 && b <= 0x7e && b !== 0x3d && b !== 0x2d ? 1 : 0));

/**
 * Quoted-printable in one pass (RFC 2045 §6.7): line breaks in the data stay line breaks, soft breaks
 * (`=` + eol) keep every line within 76 characters. Escaped besides the rules: whitespace before a line
 * break or the end, a lone CR, and `-` at the start of a line (so no line can read as a MIME boundary).
 */
export function encodeQuotedPrintable(bytes: Buffer, eol: '\r\n' | '\n'): Buffer {
  const len = bytes.length;
  const out = scratch(len * 3 + Math.ceil((len * 3) / QP_LINE) * 3 + 8);
  const crlf = eol === '\r\n';
  let o = 0;
  let line = 0;
  for (let i = 0; i < len; i++) {
    const b = bytes[i];
    // The common case first (most of an HTML part): a plain character, or a space that has no line end
    // after it, with room left on the line.
    if (line < QP_LINE && (QP_PLAIN[b] === 1 || (b === 0x20 && i + 1 < len && bytes[i + 1] !== 0x0a && bytes[i + 1] !== 0x0d))) {
      out[o++] = b;
      line++;
      continue;
    }
    if (b === 0x0a) {
      out[o++] = 0x0a;
      line = 0;
      continue;
    }
    if (b === 0x0d && i + 1 < len && bytes[i + 1] === 0x0a) {
      out[o++] = 0x0d;
      out[o++] = 0x0a;
      i++;
      line = 0;
      continue;
    }
    let literal = QP_LITERAL[b] === 1;
    if (literal && (b === 0x20 || b === 0x09)) {
      // whitespace just before a line break (or the end) would be stripped by decoders
      if (i + 1 === len || bytes[i + 1] === 0x0a || (bytes[i + 1] === 0x0d && i + 2 < len && bytes[i + 2] === 0x0a)) literal = false;
    } else if (b === 0x2d && line === 0) literal = false;
    if (line + (literal ? 1 : 3) > QP_LINE) {
      out[o++] = 0x3d;
      if (crlf) out[o++] = 0x0d;
      out[o++] = 0x0a;
      line = 0;
      if (b === 0x2d) literal = false;
    }
    if (literal) {
      out[o++] = b;
      line++;
    } else {
      out[o++] = 0x3d;
      out[o++] = HEX[b >> 4];
      out[o++] = HEX[b & 15];
      line += 3;
    }
  }
  return out === scratchBuf ? Buffer.from(out.subarray(0, o)) : out.subarray(0, o);
}

const SCRATCH_BYTES = 64 * 1024;
const scratchBuf = Buffer.allocUnsafe(SCRATCH_BYTES);
/**
 * A working buffer of at least `n` bytes, whose result the caller copies out: for typical parts it is one
 * reused buffer (a fresh worst-case-sized one per part was a large share of the rewriter's garbage).
 */
function scratch(n: number): Buffer {
  return n <= SCRATCH_BYTES ? scratchBuf : Buffer.allocUnsafe(n);
}
