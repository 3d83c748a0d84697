// DKIM signing of the final bytes (after rewriting), relaxed/relaxed, rsa-sha256, never with l= (a body
// length limit lets anyone append content under a valid signature).
//
// Our own signer (RFC 6376), not mailauth's: mailauth's dkimSign parses the PEM private key again for every
// signature (~0.5 ms of a ~3 ms signature in the relay benchmark's CPU profile) and runs the message through
// a stream parser; this one keeps the parsed KeyObject per key, canonicalizes with a few native scans and
// signs with node:crypto. mailauth (and dkimpy) stay the verifiers in the tests.
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { normalizeCrlf } from './message-headers.ts';

/** Headers signed when present (RFC 6376 §5.4.1 recommendations; From is always signed). */
export const SIGNED_HEADERS = ['from', 'sender', 'reply-to', 'subject', 'date', 'message-id', 'to', 'cc', 'mime-version', 'content-type', 'content-transfer-encoding', 'content-id', 'content-description', 'resent-date', 'resent-from', 'resent-sender', 'resent-to', 'resent-cc', 'resent-message-id', 'in-reply-to', 'references', 'list-id', 'list-help', 'list-unsubscribe', 'list-unsubscribe-post', 'list-subscribe', 'list-post', 'list-owner', 'list-archive'];
const SIGNED = new Set(SIGNED_HEADERS);

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
}

// Parsed keys by PEM text (a rotated key is a new PEM, so a new entry). Bounded: one entry per sending
// domain in practice; past the bound the oldest is dropped.
const KEY_CACHE_MAX = 1000;
const keys = new Map<string, KeyObject>();

export function privateKeyObject(pem: string): KeyObject {
  let k = keys.get(pem);
  if (!k) {
    k = createPrivateKey(pem);
    if (k.asymmetricKeyType !== 'rsa') throw new Error(`DKIM key type ${k.asymmetricKeyType} is not supported (rsa only)`);
    if (keys.size >= KEY_CACHE_MAX) keys.delete(keys.keys().next().value!);
    keys.set(pem, k);
  }
  return k;
}

/** Where the header block ends: the index of the CRLF CRLF that separates it from the body, or -1. */
function headerEnd(s: string): number {
  if (s.startsWith('\r\n')) return -2; // no header fields at all: the body starts right away
  return s.indexOf('\r\n\r\n');
}

/** Header fields as raw strings (folding kept, no final CRLF), in order. Input: CRLF line endings. */
export function splitHeaderFields(block: string): string[] {
  const fields: string[] = [];
  if (!block) return fields;
  for (const line of block.split('\r\n')) {
    if ((line[0] === ' ' || line[0] === '\t') && fields.length) fields[fields.length - 1] += '\r\n' + line;
    else fields.push(line);
  }
  return fields;
}

/** RFC 6376 §3.4.2 relaxed header canonicalization of one field, with its CRLF. */
export function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  if (colon < 0) return field.toLowerCase().replace(/[ \t]+$/, '') + '\r\n';
  const name = field.slice(0, colon).toLowerCase().replace(/[ \t]+$/, '');
  const value = field.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
  return `${name}:${value}\r\n`;
}

/** RFC 6376 §3.4.4 relaxed body canonicalization. Input: the body after the blank line, CRLF line endings. */
export function relaxedBody(body: string): string {
  let s = body;
  // Only rewrite when there is something to change (a multi-MB base64 attachment usually has nothing).
  if (/\t| {2}| \r\n| $/.test(s)) s = s.replace(/[ \t]+/g, ' ').replace(/ \r\n/g, '\r\n').replace(/ $/, '');
  let end = s.length;
  while (end >= 2 && s.charCodeAt(end - 1) === 0x0a && s.charCodeAt(end - 2) === 0x0d) end -= 2;
  if (end === 0) return '';
  return s.slice(0, end) + '\r\n';
}

/** The signature's tags up to an empty b=, folded (FWS only between tags and after h= colons). */
function signatureHeader(key: DkimKey, time: number, bodyHash: string, names: string[]): string {
  const lines: string[] = [];
  let line = 'DKIM-Signature:';
  const add = (piece: string, sep: string) => {
    if (line.length + sep.length + piece.length > 76 && line.length > 1) {
      lines.push(line);
      line = ' ' + piece;
    } else line += sep + piece;
  };
  for (const t of ['v=1;', 'a=rsa-sha256;', 'c=relaxed/relaxed;', `d=${key.domain};`, `s=${key.selector};`, `t=${time};`, `bh=${bodyHash};`]) add(t, ' ');
  names.forEach((n, i) => add((i === 0 ? 'h=' : '') + n + (i === names.length - 1 ? ';' : ':'), i === 0 ? ' ' : ''));
  add('b=', ' ');
  lines.push(line);
  return lines.join('\r\n');
}

interface Prepared {
  bytes: Buffer;
  head: string;
  data: Buffer;
}

/** Everything but the RSA signature: final bytes, the signature header up to b=, the data to sign. */
function prepare(raw: Buffer, key: DkimKey, now: number): Prepared {
  let bytes = normalizeCrlf(raw);
  if (bytes.length && !(bytes[bytes.length - 2] === 0x0d && bytes[bytes.length - 1] === 0x0a)) bytes = Buffer.concat([bytes, Buffer.from('\r\n')]);
  let s = bytes.toString('latin1');
  let he = headerEnd(s);
  if (he === -1) {
    // Header fields only: add the empty line that ends them (the body stays empty), which some verifiers
    // (mailauth) need to see the header block as complete.
    bytes = Buffer.concat([bytes, Buffer.from('\r\n')]);
    s += '\r\n';
    he = s.length - 4;
  }
  const block = he === -2 ? '' : s.slice(0, he);
  const body = he === -2 ? s.slice(2) : s.slice(he + 4);
  const bh = createHash('sha256').update(relaxedBody(body), 'latin1').digest('base64');

  const fields = splitHeaderFields(block);
  const names: string[] = [];
  let canon = '';
  for (let i = fields.length - 1; i >= 0; i--) {
    const f = fields[i];
    const colon = f.indexOf(':');
    if (colon <= 0) continue;
    const name = f.slice(0, colon).trim().toLowerCase();
    if (!SIGNED.has(name)) continue;
    names.push(name);
    canon += relaxedHeader(f);
  }
  if (!names.includes('from')) throw new Error('DKIM signing needs a From: header');
  const head = signatureHeader(key, Math.floor(now / 1000), bh, names);
  const c = relaxedHeader(head);
  // The signature header itself is hashed without its CRLF.
  return { bytes, head, data: Buffer.from(canon + c.slice(0, -2), 'latin1') };
}

function assemble({ bytes, head }: Prepared, signature: Buffer): Buffer {
  const b = signature.toString('base64');
  let out = head;
  for (let i = 0, first = true; i < b.length; first = false) {
    const room = first ? Math.max(8, 76 - (out.length - out.lastIndexOf('\n') - 1)) : 74;
    out += (first ? '' : '\r\n ') + b.slice(i, i + room);
    i += room;
  }
  return Buffer.concat([Buffer.from(out + '\r\n', 'latin1'), bytes]);
}

/**
 * Returns the message with CRLF line endings, a final CRLF (SMTP adds one anyway) and a DKIM-Signature
 * header in front. Signs every occurrence of each SIGNED_HEADERS field present (RFC 6376 §5.4.2, bottom up).
 */
export function signMessageSync(raw: Buffer, key: DkimKey, now: number): Buffer {
  const p = prepare(raw, key, now);
  return assemble(p, sign('sha256', p.data, privateKeyObject(key.privateKey)));
}

/**
 * The same, with the RSA signature (the largest single CPU cost of a delivery, ~0.3 ms) computed on
 * libuv's thread pool instead of the calling thread.
 */
export async function signMessage(raw: Buffer, key: DkimKey, now: number): Promise<Buffer> {
  const p = prepare(raw, key, now);
  const k = privateKeyObject(key.privateKey);
  const signature = await new Promise<Buffer>((resolve, reject) => sign('sha256', p.data, k, (err, sig) => (err ? reject(err) : resolve(sig))));
  return assemble(p, signature);
}
