// Text codecs for HTML parts: decode the part's bytes in its declared charset and encode the rewritten
// text back into the same charset. A part is only rewritten when its bytes survive decode → encode
// unchanged (checked by the caller), so a charset that can't round-trip is never silently converted.
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import Encoding from 'encoding-japanese';
import libmime from 'libmime';

export interface TextCodec {
  /** The charset name the codec implements (for warnings). */
  name: string;
  decode(bytes: Buffer): string;
  encode(text: string): Buffer;
  /** Every text decoded by this codec, with ASCII inserted, encodes back without loss. */
  lossless?: boolean;
  /** A fast exact answer to "do these bytes survive decode → encode unchanged?", when the codec has one. */
  roundTrips?(bytes: Buffer): boolean;
}

/** Byte-transparent: every byte is one char. Used for us-ascii and for parts without a charset. */
const LATIN1: TextCodec = {
  name: 'latin1 (byte-transparent)',
  lossless: true,
  roundTrips: () => true,
  decode: (b) => b.toString('latin1'),
  encode: (s) => Buffer.from(s, 'latin1'),
};

const UTF8: TextCodec = {
  name: 'utf-8',
  lossless: true,
  // Valid UTF-8 (a BOM included) decodes and encodes back byte for byte; anything else does not.
  roundTrips: (b) => isUtf8(b),
  decode: (b) => b.toString('utf8'),
  encode: (s) => Buffer.from(s, 'utf8'),
};

function japanese(name: string, code: 'JIS' | 'EUCJP' | 'SJIS'): TextCodec {
  return {
    name,
    decode: (b) => Encoding.convert(b, { to: 'UNICODE', from: code, type: 'string' }),
    encode: (s) => Buffer.from(Encoding.convert(Encoding.stringToCode(s), { to: code, from: 'UNICODE' })),
  };
}

// Codecs iconv-lite offers that are not charsets a message may be written in (UTF-7 smuggles markup).
const REFUSED = /^(utf-?7|utf7imap|unicode-1-1-utf-7|base64|hex|binary)$/i;

/**
 * The codec for a part's declared charset, or undefined when the charset is unknown or refused.
 * Without a declared charset the part is treated byte-transparently (HTML that relies on a `<meta>`
 * charset keeps its bytes; only ASCII markup is ever inserted).
 */
export function codecFor(declared: string | false | undefined): TextCodec | undefined {
  const raw = (declared || '').toString().trim().replace(/^["']|["']$/g, '').replace(/^charset=/i, '');
  if (!raw) return LATIN1;
  const lower = raw.toLowerCase();
  if (/^(us-?ascii|ascii|ansi_x3\.4-1968|iso646-us|7bit|8bit)$/.test(lower)) return LATIN1;
  if (lower === 'utf-8' || lower === 'utf8') return UTF8;
  if (REFUSED.test(lower)) return undefined;
  if (/^(iso-?2022-?jp|jis|csiso2022jp)$/.test(lower)) return japanese('iso-2022-jp', 'JIS');
  let name = raw;
  if (!iconv.encodingExists(name)) {
    name = libmime.normalizeCharset(raw);
    if (!iconv.encodingExists(name) || REFUSED.test(name)) return undefined;
  }
  if (/^utf-?8$/i.test(name)) return UTF8;
  return {
    name: lower,
    decode: (b) => iconv.decode(b, name, { stripBOM: false }),
    encode: (s) => iconv.encode(s, name, { addBOM: false }),
  };
}
