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
// field-name is a token; field-value is visible ASCII, SP, HTAB and obs-text (decoded as latin1, as Node does).
// eslint-disable-next-line no-control-regex
const FIELD = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*([^\x00-\x08\x0a-\x1f\x7f]*?)[\t ]*$/;
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
  let pos = lineEnd < 0 ? text.length : lineEnd + 2;
  while (pos < text.length) {
    // Node keeps only the first maxHeadersCount (1000) lines; a simple request has a few dozen at most.
    if (++fields > MAX_FIELDS) return 'other';
    let next = text.indexOf('\r\n', pos);
    if (next < 0) next = text.length;
    const f = FIELD.exec(text.slice(pos, next));
    // No match: a bare CR or LF, a control character, obs-fold (a line starting with SP/HTAB), no colon.
    if (!f) return 'other';
    const value = f[2];
    switch (f[1].length) {
      case 4:
        if (f[1].toLowerCase() === 'host') {
          if (host !== undefined) return 'other';
          host = value;
        }
        break;
      case 6:
        if (f[1].toLowerCase() === 'expect') return 'other';
        break;
      case 7:
        if (f[1].toLowerCase() === 'upgrade') return 'other';
        break;
      case 9:
        if (f[1].toLowerCase() === 'forwarded') (forwarded ??= []).push(value);
        break;
      case 10: {
        const n = f[1].toLowerCase();
        if (n === 'user-agent') userAgent ??= value;
        else if (n === 'connection') {
          // llhttp merges repeated Connection headers by its own rules: only one is simple.
          if (sawConnection) return 'other';
          sawConnection = true;
          const c = text.lastIndexOf('\t', next) > pos ? 'other' : connectionOption(value);
          if (c === 'other') return 'other';
          if (c !== undefined) keepAlive = c;
        }
        break;
      }
      case 14:
        // A body (even an empty one announced twice) is not simple: llhttp has the rules for it.
        if (f[1].toLowerCase() === 'content-length') {
          // "0" then a tab is a 400 in llhttp (a trailing space is trimmed by both).
          if (value !== '0' || emptyBody || text.charCodeAt(next - 1) === 9) return 'other';
          emptyBody = true;
        }
        break;
      case 15:
        if (f[1].toLowerCase() === 'x-forwarded-for') (xForwardedFor ??= []).push(value);
        break;
      case 16:
        // llhttp reads Proxy-Connection as Connection.
        if (f[1].toLowerCase() === 'proxy-connection') return 'other';
        break;
      case 17: {
        const n = f[1].toLowerCase();
        if (n === 'transfer-encoding') return 'other';
        if (n === 'x-forwarded-proto') (xForwardedProto ??= []).push(value);
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
