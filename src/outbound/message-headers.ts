// Reading the header block of a raw MIME message without parsing the body: enough for acceptance
// (From:, Message-ID:, Subject:, X-Mailbeacon-Track:) and for adding a missing Message-ID/Date.
import addressparser from 'nodemailer/lib/addressparser';
import libmime from 'libmime';

export interface HeaderField {
  /** Lowercase name. */
  name: string;
  /** Unfolded value, leading/trailing whitespace trimmed. */
  value: string;
}

/** Where the header block ends: offset of the blank line's first byte and the body's first byte. */
export function headerEnd(raw: Buffer): { headerLength: number; bodyOffset: number } {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a) return { headerLength: i + 1, bodyOffset: i + 2 };
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return { headerLength: i + 1, bodyOffset: i + 3 };
  }
  return { headerLength: raw.length, bodyOffset: raw.length };
}

export function parseHeaderFields(raw: Buffer): HeaderField[] {
  const { headerLength } = headerEnd(raw);
  const text = raw.subarray(0, headerLength).toString('utf8');
  const out: HeaderField[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    if ((line[0] === ' ' || line[0] === '\t') && out.length) {
      out[out.length - 1].value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return out;
}

export function headerValue(fields: HeaderField[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}

/** The addresses of an address header (From, To, Cc, Bcc), lowercased domain part. */
export function addressesOf(value: string | undefined): string[] {
  if (!value) return [];
  return addressparser(value, { flatten: true }).map((a) => a.address).filter((a) => !!a);
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase().replace(/\.$/, '');
}

export function decodeSubject(value: string | undefined): string {
  if (!value) return '';
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** A simple addr-spec check: local@domain with no spaces, brackets or control characters. */
export function isAddress(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[^\s@<>()",;:\\[\]\x00-\x1f\x7f]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(s) && s.length <= 254;
}

/** Prepends header lines (each without CRLF) to a raw message, using the message's own line ending. */
export function prependHeaders(raw: Buffer, lines: string[]): Buffer {
  if (!lines.length) return raw;
  const eol = raw.indexOf('\r\n') >= 0 || raw.indexOf('\n') < 0 ? '\r\n' : '\n';
  return Buffer.concat([Buffer.from(lines.map((l) => l + eol).join(''), 'utf8'), raw]);
}

/** Every line ending to CRLF (stray CR or LF included): DKIM signs exactly the bytes that go on the wire. */
export function normalizeCrlf(raw: Buffer): Buffer {
  // Fast path: already clean (checked with native scans from one CR to the next, not per byte).
  let clean = true;
  for (let pos = 0; ;) {
    const cr = raw.indexOf(0x0d, pos);
    const lf = raw.indexOf(0x0a, pos);
    if (lf !== -1 && (cr === -1 || lf < cr)) { clean = false; break; }
    if (cr === -1) break;
    if (raw[cr + 1] !== 0x0a) { clean = false; break; }
    pos = cr + 2;
  }
  if (clean) return raw;
  return Buffer.from(raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}
