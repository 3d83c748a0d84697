// Just enough MIME to preview a delivered message in the browser: headers (with RFC 2047 encoded words),
// multipart trees, base64 / quoted-printable, charsets via TextDecoder. Attachments and attached messages
// are skipped; the first text/html and text/plain parts win.

/** Bytes → a "binary string" (one char per byte), so offsets stay byte offsets. */
function binary(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return s;
}

function bytesOf(bin) {
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i) & 0xff;
  return out;
}

function decodeCharset(bin, charset) {
  try {
    return new TextDecoder(charset || 'utf-8').decode(bytesOf(bin));
  } catch {
    return new TextDecoder('utf-8').decode(bytesOf(bin));
  }
}

function qpDecode(s) {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hx) => String.fromCharCode(parseInt(hx, 16)));
}

function b64Decode(s) {
  try { return window.atob(s.replace(/[^A-Za-z0-9+/=]/g, '')); } catch { return ''; }
}

/** RFC 2047: =?charset?B|Q?text?= */
export function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, cs, enc, text) => {
      const bin = enc.toUpperCase() === 'B' ? b64Decode(text) : qpDecode(text.replace(/_/g, ' '));
      return decodeCharset(bin, cs.replace(/\*.*$/, ''));
    });
}

function splitHead(bin) {
  const m = /\r?\n\r?\n/.exec(bin);
  if (!m) return { head: bin, body: '' };
  return { head: bin.slice(0, m.index), body: bin.slice(m.index + m[0].length) };
}

function parseHeaders(head) {
  const headers = [];
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  return headers;
}

function param(value, name) {
  const re = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const m = re.exec(value ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

function walk(bin, out, depth) {
  if (depth > 20) return;
  const { head, body } = splitHead(bin);
  const headers = parseHeaders(head);
  const get = (n) => headers.find(([k]) => k === n)?.[1];
  const ctype = get('content-type') ?? 'text/plain';
  const type = ctype.split(';')[0].trim().toLowerCase();
  const disposition = (get('content-disposition') ?? '').split(';')[0].trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = param(ctype, 'boundary');
    if (!boundary) return;
    const parts = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`));
    // parts[0] is the preamble; the last one after the closing delimiter is the epilogue.
    for (const p of parts.slice(1, -1)) walk(p, out, depth + 1);
    return;
  }
  if (disposition === 'attachment' || type === 'message/rfc822') return;
  if (type !== 'text/html' && type !== 'text/plain') return;
  const cte = (get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const raw = cte === 'base64' ? b64Decode(body) : cte === 'quoted-printable' ? qpDecode(body) : body;
  const text = decodeCharset(raw, param(ctype, 'charset'));
  if (type === 'text/html' && out.html == null) out.html = text;
  if (type === 'text/plain' && out.text == null) out.text = text;
}

/** { headers: {from, to, subject, date, ...} (decoded), html, text } */
export function parseMessage(bytes) {
  const bin = binary(bytes);
  const { head } = splitHead(bin);
  const headers = {};
  for (const [k, v] of parseHeaders(head)) if (!(k in headers)) headers[k] = decodeWords(v);
  const out = { headers, html: null, text: null };
  walk(bin, out, 0);
  return out;
}
