// Test helpers for the rewriter: a signer with a fixed secret, the expected tracking URLs (tokens are
// deterministic), and a small MIME reader built on mailsplit to look at the parts of an output.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import mailsplit, { type MimeNode, type SplitterObject } from 'mailsplit';
import * as libqp from 'libqp';
import { clickUrl, keyringFromSecret, pixelUrl, TokenSigner } from '../../src/tracking/tokens.ts';
import { rewriteMessage, type RewriteOptions, type RewriteResult } from '../../src/rewrite/index.ts';
import { codecFor } from '../../src/rewrite/charset.ts';

export const BASE = 'https://track.example.com';
export const HOST = 'track.example.com';
export const COPY = 'copy_1';
export const signer = new TokenSigner(keyringFromSecret('test-secret', [1]));

export function options(over: Partial<RewriteOptions> = {}): RewriteOptions {
  return { signer, trackingBase: BASE, copyId: COPY, opens: true, clicks: true, pixel: 'bottom', ...over };
}

export function rewrite(input: string | Buffer, over: Partial<RewriteOptions> = {}): Promise<RewriteResult> {
  return rewriteMessage(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'), options(over));
}

export const PIXEL_SRC = pixelUrl(BASE, signer.sign({ kind: 'open', copyId: COPY }, HOST));
export const PIXEL = `<img src="${PIXEL_SRC}" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0" />`;

export function click(url: string, linkIndex: number): string {
  return clickUrl(BASE, signer.sign({ kind: 'click', copyId: COPY, linkIndex, url }, HOST));
}

/** Escaped for a double-quoted attribute. */
export function clickAttr(url: string, linkIndex: number): string {
  return click(url, linkIndex).replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

export interface Part {
  contentType: string | false;
  header: Buffer;
  body: Buffer;
  node: MimeNode;
}

/** Every node of a message (header block + raw body) in order, read with mailsplit. */
export async function readParts(msg: Buffer): Promise<Part[]> {
  const parts: Part[] = [];
  let cur: Part | undefined;
  await pipeline(
    Readable.from([msg]),
    new mailsplit.Splitter({ ignoreEmbedded: true }),
    new Writable({
      objectMode: true,
      write(obj: SplitterObject, _e, cb) {
        if (obj.type === 'node') {
          cur = { contentType: obj.contentType, header: obj.getHeaders(), body: Buffer.alloc(0), node: obj };
          parts.push(cur);
        } else if (obj.type === 'body' && cur && obj.node === cur.node) {
          cur.body = Buffer.concat([cur.body, obj.value]);
        }
        cb();
      },
    }),
  );
  return parts;
}

/** A part's body with its transfer encoding and charset undone. */
export function decodeBody(p: Part): string {
  const enc = (p.node.encoding || '').toLowerCase();
  const bytes = enc === 'base64' ? Buffer.from(p.body.toString('latin1'), 'base64') : enc === 'quoted-printable' ? libqp.decode(p.body) : p.body;
  return (codecFor(p.node.charset) ?? codecFor(false))!.decode(bytes);
}

export async function htmlParts(msg: Buffer): Promise<Part[]> {
  return (await readParts(msg)).filter((p) => p.contentType === 'text/html');
}

export function count(hay: string, needle: string): number {
  return hay.split(needle).length - 1;
}

/** Longest line (octets, without the line ending) of a buffer. */
export function longestLine(buf: Buffer): number {
  let max = 0;
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i === buf.length || buf[i] === 0x0a) {
      let end = i;
      if (end > start && buf[end - 1] === 0x0d) end--;
      max = Math.max(max, end - start);
      start = i + 1;
    }
  }
  return max;
}

/** A message with one text/html part (CRLF), the given headers and transfer encoding. */
export function htmlMessage(html: string | Buffer, { cte = '7bit', charset = 'utf-8', extraHeaders = '', eol = '\r\n' } = {}): Buffer {
  const bytes = Buffer.isBuffer(html) ? html : Buffer.from(html, 'utf8');
  let body: string;
  if (cte === 'quoted-printable') body = libqp.wrap(libqp.encode(bytes), 76);
  else if (cte === 'base64') body = (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  else body = bytes.toString('latin1');
  const text = [
    'From: a@example.test',
    'To: b@example.test',
    'Subject: test',
    ...(extraHeaders ? [extraHeaders] : []),
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="BOUND"',
    '',
    '--BOUND',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'plain text https://example.test/plain',
    '--BOUND',
    `Content-Type: text/html; charset=${charset}`,
    `Content-Transfer-Encoding: ${cte}`,
    '',
    body,
    '--BOUND--',
    '',
  ].join('\r\n');
  return Buffer.from(eol === '\n' ? text.replace(/\r\n/g, '\n') : text, 'latin1');
}

/**
 * The read-only `shared/` folder the project sees at `../shared` (from a worktree under /work/wt/<name>
 * it is two levels up); MAILBEACON_SHARED_DIR overrides.
 */
export function sharedDir(): string {
  const candidates = [process.env.MAILBEACON_SHARED_DIR, path.resolve('../shared'), path.resolve('../../shared')].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(path.join(p, 'corpus'))) ?? candidates[0];
}

export const CORPUS = path.join(sharedDir(), 'corpus');

/** Every message file of the shared corpus. */
export function corpusFiles(): string[] {
  if (!fs.existsSync(CORPUS)) return [];
  const out: string[] = [];
  for (const dir of fs.readdirSync(CORPUS)) {
    const d = path.join(CORPUS, dir);
    if (!fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d)) if (/\.(eml|raw|txt)$/.test(f)) out.push(path.join(d, f));
  }
  return out.sort();
}
