// A strict parser for the head of a simple HTTP/1.x request: GET or HEAD, origin-form target, no body, no
// upgrade, no obs-fold, CRLF line ends only (RFC 9112 §2-§6). It is the gate of the HTTP fast path
// (fast-path.ts): a head it accepts is answered there; anything else, even if valid HTTP, is answered
// "not simple" and the connection goes to Node's own HTTP server (llhttp), which then decides. So this parser
// only has to be right about what it accepts, never about the rest of HTTP.
// https://www.rfc-editor.org/rfc/rfc9112

/** Node's default --max-http-header-size: a longer head is handed to Node, which answers 431. */
export const MAX_HEAD_BYTES = 16 * 1024;

export interface RequestHead {
  method: 'GET' | 'HEAD';
  /** The request target as sent (origin-form: starts with "/"). */
  target: string;
  /** HTTP/1.1 (true) or HTTP/1.0. */
  http11: boolean;
  /** Whether the connection stays open after the answer (HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive`). */
  keepAlive: boolean;
  /** Host header (exactly one; absent only on HTTP/1.0). */
  host: string | undefined;
  /** First User-Agent header, '' without one (as Node keeps the first of duplicates). */
  userAgent: string;
  /** Proxy headers for client-address rules: duplicates kept in order (Node joins them with ", "). */
  forwarded?: string[];
  xForwardedFor?: string[];
  xForwardedProto?: string[];
}

/** More header lines than this: not simple. */
const MAX_FIELDS = 100;

const REQUEST_LINE = /^(GET|HEAD) (\/[\x21-\x7e]*) HTTP\/1\.([01])$/;
/** tchar (RFC 9110 §5.6.2): the bytes a field name is made of. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** Where the colon after a field name that starts at `from` is (before `to`), or -1 (no name, a non-token byte). */
function nameEnd(text: string, from: number, to: number): number {
  let i = from;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) break;
    if (c >= 128 || !TCHAR[c]) return -1;
  }
  return i > from && i < to ? i : -1;
}

/**
 * A control byte other than HTAB, or a CR / LF outside a CRLF pair, in `buf[0, end)`: field values are visible
 * ASCII, SP, HTAB and obs-text (decoded as latin1, as Node does), and lines end in CRLF only. One pass over the
 * bytes (a regular expression over the decoded head was slower).
 */
function badBytes(buf: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = buf[i];
    if (c >= 32) {
      if (c === 127) return true;
    } else if (c === 13) {
      if (buf[i + 1] !== 10) return true;
    } else if (c === 10) {
      if (buf[i - 1] !== 13) return true;
    } else if (c !== 9) return true;
  }
  return false;
}

/**
 * Whether the field name at `text[from]` is `lower` (lowercase letters and "-", same length checked by the
 * caller), in any case. OR-ing 0x20 lowercases A-Z; no other tchar turns into a letter or "-" that way.
 */
function isName(text: string, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(from + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** The field value between `from` and `to`, without the optional whitespace (SP, HTAB) around it. */
function valueOf(text: string, from: number, to: number): string {
  let a = from;
  let b = to;
  while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
  while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
  return text.slice(a, b);
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * Parses the head that starts at `buf[0]`. Returns the head and its length in bytes (including the blank line),
 * 'incomplete' when more bytes are needed and it may still be simple, or 'other' when it is not a simple
 * request (or not valid HTTP): hand the bytes to a full HTTP parser.
 */
export function parseRequestHead(buf: Buffer): { head: RequestHead; length: number } | 'incomplete' | 'other' {
  const end = buf.indexOf(CRLF2);
  if (end < 0) {
    if (buf.length >= MAX_HEAD_BYTES || !couldBeSimple(buf) || hasBareLineBreak(buf)) return 'other';
    return 'incomplete';
  }
  if (end + 4 > MAX_HEAD_BYTES) return 'other';
  const text = buf.toString('latin1', 0, end);
  const lineEnd = text.indexOf('\r\n');
  const rl = REQUEST_LINE.exec(lineEnd < 0 ? text : text.slice(0, lineEnd));
  if (!rl) return 'other';
  const http11 = rl[3] === '1';
  let host: string | undefined;
  let userAgent: string | undefined;
  let keepAlive = http11;
  let emptyBody = false;
  let forwarded: string[] | undefined;
  let xForwardedFor: string[] | undefined;
  let xForwardedProto: string[] | undefined;
  let sawConnection = false;
  let fields = 0;
  // One pass over the whole head: control characters but HTAB, and a CR or LF outside a CRLF pair.
  if (badBytes(buf, end)) return 'other';
  let pos = lineEnd < 0 ? text.length : lineEnd + 2;
  while (pos < text.length) {
    // Node keeps only the first maxHeadersCount (1000) lines; a simple request has a few dozen at most.
    if (++fields > MAX_FIELDS) return 'other';
    let next = text.indexOf('\r\n', pos);
    if (next < 0) next = text.length;
    // field-name ":" at the start of the line (none: obs-fold, a space before the colon, no colon).
    const colon = nameEnd(text, pos, next);
    if (colon < 0) return 'other';
    switch (colon - pos) {
      case 4:
        if (isName(text, pos, 'host')) {
          if (host !== undefined) return 'other';
          host = valueOf(text, colon + 1, next);
        }
        break;
      case 6:
        if (isName(text, pos, 'expect')) return 'other';
        break;
      case 7:
        if (isName(text, pos, 'upgrade')) return 'other';
        break;
      case 9:
        if (isName(text, pos, 'forwarded')) (forwarded ??= []).push(valueOf(text, colon + 1, next));
        break;
      case 10: {
        if (isName(text, pos, 'user-agent')) userAgent ??= valueOf(text, colon + 1, next);
        else if (isName(text, pos, 'connection')) {
          // llhttp merges repeated Connection headers by its own rules: only one is simple.
          if (sawConnection) return 'other';
          sawConnection = true;
          const c = text.lastIndexOf('\t', next) > pos ? 'other' : connectionOption(valueOf(text, colon + 1, next));
          if (c === 'other') return 'other';
          if (c !== undefined) keepAlive = c;
        }
        break;
      }
      case 14:
        // A body (even an empty one announced twice) is not simple: llhttp has the rules for it.
        if (isName(text, pos, 'content-length')) {
          // "0" then a tab is a 400 in llhttp (a trailing space is trimmed by both).
          if (valueOf(text, colon + 1, next) !== '0' || emptyBody || text.charCodeAt(next - 1) === 9) return 'other';
          emptyBody = true;
        }
        break;
      case 15:
        if (isName(text, pos, 'x-forwarded-for')) (xForwardedFor ??= []).push(valueOf(text, colon + 1, next));
        break;
      case 16:
        // llhttp reads Proxy-Connection as Connection.
        if (isName(text, pos, 'proxy-connection')) return 'other';
        break;
      case 17: {
        if (isName(text, pos, 'transfer-encoding')) return 'other';
        if (isName(text, pos, 'x-forwarded-proto')) (xForwardedProto ??= []).push(valueOf(text, colon + 1, next));
        break;
      }
    }
    pos = next + 2;
  }
  // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2): Node answers 400 without it.
  if (http11 && host === undefined) return 'other';
  const head: RequestHead = { method: rl[1] as 'GET' | 'HEAD', target: rl[2], http11, keepAlive, host, userAgent: userAgent ?? '' };
  if (forwarded) head.forwarded = forwarded;
  if (xForwardedFor) head.xForwardedFor = xForwardedFor;
  if (xForwardedProto) head.xForwardedProto = xForwardedProto;
  return { head, length: end + 4 };
}

/**
 * Connection options: true keep-alive, false close, undefined neither; 'other' for upgrade, for both
 * keep-alive and close (llhttp's answer then depends on the version). (A tab anywhere in the line is 'other'
 * too, checked by the caller: llhttp does not skip tabs around options the way it skips spaces.)
 */
function connectionOption(value: string): boolean | undefined | 'other' {
  let close = false;
  let keepAlive = false;
  for (const t of value.toLowerCase().split(',')) {
    const o = t.trim();
    if (o === 'close') close = true;
    else if (o === 'keep-alive') keepAlive = true;
    else if (o === 'upgrade') return 'other';
  }
  if (close && keepAlive) return 'other';
  return close ? false : keepAlive ? true : undefined;
}

/** A CR not followed by LF or an LF not preceded by CR: such a head never ends in CRLF CRLF, Node decides. */
function hasBareLineBreak(buf: Buffer): boolean {
  for (let i = buf.indexOf(13); i >= 0; i = buf.indexOf(13, i + 1)) if (i + 1 < buf.length && buf[i + 1] !== 10) return true;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) if (i === 0 || buf[i - 1] !== 13) return true;
  return false;
}

const GET = Buffer.from('GET /');
const HEAD = Buffer.from('HEAD /');

/** Whether an incomplete head can still turn out simple (so it is worth waiting for the rest here). */
function couldBeSimple(buf: Buffer): boolean {
  const p = buf[0] === 0x48 ? HEAD : GET;
  const n = Math.min(buf.length, p.length);
  return buf.compare(p, 0, n, 0, n) === 0;
}
