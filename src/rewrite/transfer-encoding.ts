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
    case 'quoted-printable': {
      let text = libqp.wrap(libqp.encode(bytes), 76);
      if (eol === '\n') text = text.replace(/=\r\n/g, '=\n');
      return Buffer.from(text, 'latin1');
    }
    case 'base64': {
      const b64 = bytes.toString('base64');
      const lines: string[] = [];
      for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
      const trailing = /[\r\n\t ]*$/.exec(raw.toString('latin1'))![0];
      return Buffer.from(lines.join(eol) + trailing, 'latin1');
    }
  }
}
