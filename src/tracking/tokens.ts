// Tracking tokens: signed, compact, URL-safe, versioned. Verifying one needs no database read.
//
// Layout (before base64url):
//   version(1)=1 | keyId(1) | kind(1: 1=open, 2=click) | idLength(1) | copyId(idLength bytes, UTF-8)
//   | [click only: linkIndex(varint) | url (rest, UTF-8)] | tag(16)
// tag = HMAC-SHA256(key[keyId], "mbt1\0" + trackingHostname + "\0" + everything before the tag), first 16 bytes.
// 128-bit tags: a 72-bit truncation was judged too short in a public review. Binding the tracking hostname
// into the MAC makes a token valid only on the host it was made for ("a token must belong to a domain that
// uses the host it arrived on") without a lookup. Click tokens carry the original URL, so the redirect can
// only ever go where the message pointed.
import { deriveKey } from '../config/master-secret.ts';
import { HmacSha256 } from './hmac-sha256.ts';

export type TokenKind = 'open' | 'click';

export interface TokenClaims {
  kind: TokenKind;
  /** The recipient copy id (or, for `mailbeacon rewrite`, the --message-id given). */
  copyId: string;
  /** Click tokens: which link of the message (0-based, in document order). */
  linkIndex?: number;
  /** Click tokens: the exact URL the browser would have followed. */
  url?: string;
}

export interface Keyring {
  /** Key id used for new tokens. */
  current: number;
  /** Every accepted key id → key. A token with another key id (retired) fails verification. */
  keys: Map<number, Buffer>;
}

const VERSION = 1;
const TAG_LEN = 16;
const KIND_CODE: Record<TokenKind, number> = { open: 1, click: 2 };

/** Keys derived from the master secret, one per key id; the first id signs, all verify. */
export function keyringFromSecret(secret: Buffer | string, keyIds: number[] = [1]): Keyring {
  if (!keyIds.length) throw new Error('at least one token key id is needed');
  const s = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return { current: keyIds[0], keys: new Map(keyIds.map((id) => [id, deriveKey(s, `tokens:${id}`)])) };
}

/** The hostname a token is bound to: lowercase, no port, no trailing dot. */
const normalized = new Map<string, string>();
export function normalizeHost(host: string): string {
  // Every pixel normalizes its Host header (twice): remember the few distinct values a node sees.
  const hit = normalized.get(host);
  if (hit !== undefined) return hit;
  const h = normalizeHostUncached(host);
  if (normalized.size >= 1000) normalized.clear();
  normalized.set(host, h);
  return h;
}

function normalizeHostUncached(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':') && h.indexOf(':') === h.lastIndexOf(':')) h = h.slice(0, h.indexOf(':'));
  return h.replace(/\.$/, '');
}

function writeVarint(n: number, out: number[]) {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** The MAC input before the token bytes, per tracking host (a node sees few distinct hosts). */
const prefixes = new Map<string, Buffer>();
function macPrefix(host: string): Buffer {
  let p = prefixes.get(host);
  if (!p) {
    if (prefixes.size >= 1000) prefixes.clear();
    prefixes.set(host, (p = Buffer.from(`mbt1\0${normalizeHost(host)}\0`, 'utf8')));
  }
  return p;
}

const B64URL = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64URL['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i;

/**
 * Whether a string of base64url characters is the canonical (unpadded) spelling of its bytes: not 4n+1
 * characters long, and the unused low bits of the last character are zero (base64url decoding ignores
 * them, so without this check a token would have several spellings).
 */
function canonicalBase64url(s: string): boolean {
  const r = s.length % 4;
  if (r === 1) return false;
  if (r === 0) return true;
  const v = B64URL[s.charCodeAt(s.length - 1)];
  return (v & (r === 2 ? 0x0f : 0x03)) === 0;
}

export class TokenSigner {
  /** Keys with their HMAC pads precomputed (hmac-sha256.ts): a rewrite signs a pixel and every link. */
  private readonly verifiers = new Map<number, HmacSha256>();

  constructor(private readonly keyring: Keyring) {
    for (const [id, key] of keyring.keys) this.verifiers.set(id, new HmacSha256(key));
  }

  /** A token for `claims`, valid only when it arrives on `host` (the tracking hostname). */
  sign(claims: TokenClaims, host: string): string {
    const idLength = Buffer.byteLength(claims.copyId, 'utf8');
    if (idLength === 0 || idLength > 255) throw new Error('copy id must be 1..255 bytes');
    const v: number[] = [];
    let urlLength = 0;
    if (claims.kind === 'click') {
      if (claims.linkIndex === undefined || claims.url === undefined) throw new Error('click tokens need linkIndex and url');
      writeVarint(claims.linkIndex, v);
      urlLength = Buffer.byteLength(claims.url, 'utf8');
    }
    // One buffer: body | tag, written in place.
    const bodyLength = 4 + idLength + v.length + urlLength;
    const buf = Buffer.allocUnsafe(bodyLength + TAG_LEN);
    buf[0] = VERSION;
    buf[1] = this.keyring.current;
    buf[2] = KIND_CODE[claims.kind];
    buf[3] = idLength;
    let at = 4 + buf.write(claims.copyId, 4, 'utf8');
    for (const b of v) buf[at++] = b;
    if (urlLength) buf.write(claims.url!, at, 'utf8');
    this.verifiers.get(this.keyring.current)!.tagInto(macPrefix(host), buf, 0, bodyLength, buf, bodyLength, TAG_LEN);
    return buf.toString('base64url');
  }

  /** The claims of a genuine token that arrived on `host`; undefined for anything else. Never throws. */
  verify(token: string, host: string): TokenClaims | undefined {
    if (token.length < 28 || token.length > 16384 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    // base64url decoding is lenient about trailing bits: insist on the canonical form so every token
    // has exactly one spelling.
    if (!canonicalBase64url(token)) return undefined;
    const buf = Buffer.from(token, 'base64url');
    if (buf.length < 4 + 1 + TAG_LEN || buf[0] !== VERSION) return undefined;
    const key = this.verifiers.get(buf[1]);
    if (!key) return undefined;
    const bodyLen = buf.length - TAG_LEN;
    if (!key.verify(macPrefix(host), buf, 0, bodyLen, buf, bodyLen, TAG_LEN)) return undefined;
    const body = buf.subarray(0, bodyLen);
    const kindCode = body[2];
    const idLen = body[3];
    if (4 + idLen > body.length) return undefined;
    const copyId = body.subarray(4, 4 + idLen).toString('utf8');
    if (kindCode === KIND_CODE.open) return body.length === 4 + idLen ? { kind: 'open', copyId } : undefined;
    if (kindCode !== KIND_CODE.click) return undefined;
    let pos = 4 + idLen;
    let linkIndex = 0;
    let mul = 1;
    for (;;) {
      if (pos >= body.length || mul > 2 ** 28) return undefined;
      const b = body[pos++];
      linkIndex += (b & 0x7f) * mul;
      if (!(b & 0x80)) break;
      mul *= 128;
    }
    return { kind: 'click', copyId, linkIndex, url: body.subarray(pos).toString('utf8') };
  }
}

/** URL paths of the tracking routes (the tracking listener serves them). */
export const PIXEL_PREFIX = '/o/';
export const CLICK_PREFIX = '/c/';

export function pixelUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}${PIXEL_PREFIX}${token}.gif`;
}

export function clickUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}${CLICK_PREFIX}${token}`;
}
