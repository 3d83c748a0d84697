// parseRequestHead (src/http/request-head.ts), the gate of the HTTP fast path: exact results for simple heads,
// for every cut of one ('incomplete') and for what must go to Node ('other'); then a differential test against
// Node's own HTTP server (llhttp). The fast path is only safe if every head the parser accepts is read by Node as
// the same request (method, url, Host, User-Agent, proxy headers, keep-alive) ending at the same byte, so each
// accepted head, the edge cases where llhttp has rules of its own, and seeded random mutations of simple requests
// are sent to a real node:http server followed by a sentinel request, and what Node saw is compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from '../../src/http/request-head.ts';
import { prng } from '../rewrite/random.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');
/** The bytes, JSON-escaped, for messages: runs of 10 or more equal lines counted, at most ~600 characters. */
function show(b: Buffer): string {
  const lines = b.toString('latin1').split('\r\n');
  const esc = (line: string) => JSON.stringify(line).slice(1, -1);
  let s = '';
  for (let i = 0; i < lines.length - 1; ) {
    let j = i + 1;
    while (j < lines.length - 1 && lines[j] === lines[i]) j++;
    s += j - i >= 10 ? `${esc(lines[i])}\\r\\n<× ${j - i}>` : `${esc(lines[i])}\\r\\n`.repeat(j - i);
    i = j;
  }
  s = `"${s}${esc(lines[lines.length - 1])}"`;
  return s.length <= 600 ? s : `${s.slice(0, 300)}<… ${b.length} bytes in all …>${s.slice(-250)}`;
}

function head(p: Partial<RequestHead>): RequestHead {
  return { method: 'GET', target: '/', http11: true, keepAlive: true, host: 'a.test', userAgent: '', ...p };
}

/** A head of exactly `n` bytes (padded in one header value). */
function headOfLength(n: number, withBlankLine = true): Buffer {
  const top = 'GET / HTTP/1.1\r\nHost: a.test\r\nX-Pad: ';
  const tail = withBlankLine ? '\r\n\r\n' : '\r\n';
  return bytes(top + 'p'.repeat(n - top.length - tail.length) + tail);
}

const H11 = 'GET / HTTP/1.1\r\nHost: a.test\r\n';

// [name, request, the head it parses to]: each is one whole head (length = all its bytes).
const ACCEPTED: [string, string, RequestHead][] = [
  ['GET, HTTP/1.1', 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n', head({})],
  ['HEAD with a query', 'HEAD /o/abc.gif?x=1&y=%20z HTTP/1.1\r\nHost: t.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux)\r\n\r\n',
    head({ method: 'HEAD', target: '/o/abc.gif?x=1&y=%20z', host: 't.example.com', userAgent: 'Mozilla/5.0 (X11; Linux)' })],
  ['odd but valid target characters', 'GET /a/../b;c=d?e=f/g?h#i HTTP/1.1\r\nHost: a.test\r\n\r\n', head({ target: '/a/../b;c=d?e=f/g?h#i' })],
  ['HTTP/1.0 without Host', 'GET /p HTTP/1.0\r\n\r\n', head({ target: '/p', http11: false, keepAlive: false, host: undefined })],
  ['HTTP/1.0 with Host', 'HEAD / HTTP/1.0\r\nHost: a.test\r\n\r\n', head({ method: 'HEAD', http11: false, keepAlive: false })],
  ['HTTP/1.0 keep-alive', 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', head({ http11: false, keepAlive: true, host: undefined })],
  ['HTTP/1.0 keep-alive among other options', 'GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n',
    head({ http11: false, keepAlive: true, host: undefined })],
  ['HTTP/1.0 with another Connection option', 'GET / HTTP/1.0\r\nConnection: te\r\n\r\n', head({ http11: false, keepAlive: false, host: undefined })],
  ['Connection: close', `${H11}Connection: close\r\n\r\n`, head({ keepAlive: false })],
  ['Connection: CLOSE', `${H11}Connection: CLOSE\r\n\r\n`, head({ keepAlive: false })],
  ['Connection: keep-alive', `${H11}Connection: keep-alive\r\n\r\n`, head({})],
  ['Connection: Keep-Alive on HTTP/1.1', `${H11}Connection: Keep-Alive\r\n\r\n`, head({})],
  ['Connection: close in a list', `${H11}Connection: foo ,close\r\n\r\n`, head({ keepAlive: false })],
  ['Connection: another option', `${H11}Connection: te\r\n\r\n`, head({})],
  ['duplicate User-Agent keeps the first', `${H11}User-Agent: first\r\nUser-Agent: second\r\n\r\n`, head({ userAgent: 'first' })],
  ['empty User-Agent', `${H11}User-Agent:\r\n\r\n`, head({})],
  ['header names in any case', 'GET / HTTP/1.1\r\nhOsT: a.test\r\nuSeR-aGeNt: ua\r\nCONNECTION: CLOSE\r\nx-FORWARDED-for: 1.2.3.4\r\n\r\n',
    head({ userAgent: 'ua', keepAlive: false, xForwardedFor: ['1.2.3.4'] })],
  ['OWS trimmed', 'GET / HTTP/1.1\r\nHost:\t a.test \t\r\nUser-Agent:  x \t y  \r\n\r\n', head({ userAgent: 'x \t y' })],
  ['no OWS at all', 'GET / HTTP/1.1\r\nHost:a.test\r\nUser-Agent:ua\r\n\r\n', head({ userAgent: 'ua' })],
  ['obs-text decoded as latin1', `${H11}User-Agent: caf\xe9 \x80\xff\r\n\r\n`, head({ userAgent: 'caf\u00e9 \u0080\u00ff' })],
  ['Content-Length: 0 once', `${H11}Content-Length: 0\r\n\r\n`, head({})],
  ['proxy headers, duplicates in order', `${H11}X-Forwarded-For: 203.0.113.7\r\nForwarded: for=192.0.2.60;proto=http\r\n` +
    'X-Forwarded-Proto: https\r\nx-forwarded-for: 10.0.0.1, 10.0.0.2\r\nX-Forwarded-Proto: http\r\n\r\n',
  head({ xForwardedFor: ['203.0.113.7', '10.0.0.1, 10.0.0.2'], forwarded: ['for=192.0.2.60;proto=http'], xForwardedProto: ['https', 'http'] })],
  ['empty proxy header', `${H11}X-Forwarded-For:\r\n\r\n`, head({ xForwardedFor: [''] })],
  ['Host with a port, other headers ignored', 'GET /x HTTP/1.1\r\nAccept: */*\r\nHost: a.test:8443\r\nCookie: a=b; c=d\r\nReferer: https://e.test/\r\n\r\n',
    head({ target: '/x', host: 'a.test:8443' })],
  ['empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', head({ host: '' })],
];

const OTHER: [string, string | Buffer][] = [
  ['POST', 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n'],
  ['PUT', 'PUT / HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['OPTIONS', 'OPTIONS / HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['CONNECT', 'CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n'],
  ['absolute-form target', 'GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['asterisk target', 'GET * HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ['HTTP/0.9', 'GET /\r\n\r\n'],
  ['HTTP/0.9 with a version', 'GET / HTTP/0.9\r\n\r\n'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a.test\r\n\r\n'],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a.test\r\n\r\n'],
  ['lowercase version', 'GET / http/1.1\r\nHost: a.test\r\n\r\n'],
  ['lowercase method', 'get / HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['trailing space in the request line', 'GET / HTTP/1.1 \r\nHost: a.test\r\n\r\n'],
  ['leading CRLF', '\r\nGET / HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['bare LF line ends (then a CRLF blank line)', 'GET / HTTP/1.1\nHost: a.test\n\r\n\r\n'],
  ['bare LF after the request line', 'GET / HTTP/1.1\nHost: a.test\r\n\r\n'],
  ['bare LF in a field line', `${H11}User-Agent: a\nb\r\n\r\n`],
  ['bare CR in a value', `${H11}User-Agent: a\rb\r\n\r\n`],
  ['bare CR ending a field line', `${H11}User-Agent: a\r\r\n\r\n`],
  ['NUL in a value', `${H11}User-Agent: a\x00b\r\n\r\n`],
  ['control character in a value', `${H11}User-Agent: a\x1bb\r\n\r\n`],
  ['VT in a value', `${H11}User-Agent: a\x0bb\r\n\r\n`],
  ['DEL in a value', `${H11}User-Agent: a\x7fb\r\n\r\n`],
  ['NUL in the target', 'GET /a\x00b HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['control character in the target', 'GET /a\x01 HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['DEL in the target', 'GET /a\x7f HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['HTAB in the target', 'GET /a\tb HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['obs-text in the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['obs-fold continuation line', `${H11}User-Agent: a\r\n b\r\n\r\n`],
  ['obs-fold with HTAB', `${H11}User-Agent: a\r\n\tb\r\n\r\n`],
  ['field line starting with a space', 'GET / HTTP/1.1\r\n Host: a.test\r\n\r\n'],
  ['missing colon', `${H11}User-Agent a\r\n\r\n`],
  ['space before the colon', `${H11}User-Agent : a\r\n\r\n`],
  ['HTAB before the colon', `${H11}User-Agent\t: a\r\n\r\n`],
  ['empty field name', `${H11}: a\r\n\r\n`],
  ['non-token in a field name', `${H11}User/Agent: a\r\n\r\n`],
  ['obs-text in a field name', `${H11}X-Caf\xe9: a\r\n\r\n`],
  ['duplicate Host', 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n'],
  ['duplicate Host, same value, other case', 'GET / HTTP/1.1\r\nHost: a.test\r\nhost: a.test\r\n\r\n'],
  ['duplicate Host on HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a.test\r\nHost: b.test\r\n\r\n'],
  ['missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\nUser-Agent: a\r\n\r\n'],
  ['Transfer-Encoding: chunked', `${H11}Transfer-Encoding: chunked\r\n\r\n`],
  ['Transfer-Encoding: identity', `${H11}Transfer-Encoding: identity\r\n\r\n`],
  ['Transfer-Encoding empty', `${H11}Transfer-Encoding:\r\n\r\n`],
  ['Transfer-Encoding in another case', `${H11}transfer-ENCODING: gzip\r\n\r\n`],
  ['Content-Length non-zero', `${H11}Content-Length: 5\r\n\r\nhello`],
  ['Content-Length: 00', `${H11}Content-Length: 00\r\n\r\n`],
  ['Content-Length: +0', `${H11}Content-Length: +0\r\n\r\n`],
  ['Content-Length empty', `${H11}Content-Length:\r\n\r\n`],
  ['Content-Length: 0 twice', `${H11}Content-Length: 0\r\nContent-Length: 0\r\n\r\n`],
  ['Content-Length: 0, 0', `${H11}Content-Length: 0, 0\r\n\r\n`],
  ['Expect', `${H11}Expect: 100-continue\r\n\r\n`],
  ['Upgrade', `${H11}Upgrade: websocket\r\n\r\n`],
  ['Upgrade in another case', `${H11}UPGRADE: h2c\r\n\r\n`],
  ['Connection: upgrade', `${H11}Connection: upgrade\r\n\r\n`],
  ['Connection: Upgrade in a list', `${H11}Connection: keep-alive, Upgrade\r\n\r\n`],
  // llhttp's answer to both options depends on the version (1.0: keep-alive wins): not simple.
  ['Connection: keep-alive, close', `${H11}Connection: keep-alive, close\r\n\r\n`],
  ['Connection twice', `${H11}Connection: close\r\nConnection: keep-alive\r\n\r\n`],
  ['Proxy-Connection', `${H11}Proxy-Connection: close\r\n\r\n`],
  ['Connection with a trailing HTAB', `${H11}Connection: close\t\r\n\r\n`],
  ['Content-Length: 0 with a trailing HTAB', `${H11}Content-Length: 0\t\r\n\r\n`],
  ['over 100 header lines', `${H11}${'a: b\r\n'.repeat(100)}\r\n`],
  ['a head over 16 KiB', headOfLength(MAX_HEAD_BYTES + 1)],
  ['a head far over 16 KiB', headOfLength(3 * MAX_HEAD_BYTES)],
  ['16 KiB without the blank line', headOfLength(MAX_HEAD_BYTES, false)],
  ['16 KiB of target without the blank line', bytes('GET /' + 'a'.repeat(MAX_HEAD_BYTES))],
  ['POST / without the blank line yet', 'POST /'],
  ['P', 'P'],
  ['HEAX', 'HEAX'],
  ['GET without a slash', 'GET x'],
  ['GET with two spaces', 'GET  '],
  ['TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])],
  ['HTTP/2 preface start', 'PRI * HTTP/2.0\r\n'],
  ['a lone CR', '\r'],
];

test('accepted simple heads parse to exactly these fields and lengths', () => {
  for (const [name, s, expected] of ACCEPTED) {
    const buf = bytes(s);
    assert.deepEqual(parseRequestHead(buf), { head: expected, length: buf.length }, name);
  }
  // A head of exactly 16 KiB (blank line included) is still accepted.
  const max = headOfLength(MAX_HEAD_BYTES);
  const r = parseRequestHead(max);
  assert.ok(typeof r === 'object', 'a 16 KiB head');
  assert.equal(r.length, MAX_HEAD_BYTES);
});

test('pipelined requests: the length ends at the blank line, whatever follows', () => {
  const first = bytes('GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n');
  for (const rest of ['GET /2 HTTP/1.1\r\nHost: a.test\r\n\r\n', 'G', 'POST / HTTP/1.1\r\n', '\r\n\r\n', '\x00\xff garbage']) {
    assert.deepEqual(parseRequestHead(Buffer.concat([first, bytes(rest)])), { head: head({ target: '/1' }), length: first.length }, rest);
  }
  // A head whose header block is itself cut short by the first blank line: the rest is the next request's.
  assert.deepEqual(parseRequestHead(bytes('GET / HTTP/1.0\r\n\r\nHost: a.test\r\n\r\n')), { head: head({ http11: false, keepAlive: false, host: undefined }), length: 18 });
});

test('every prefix of a simple head is incomplete', () => {
  assert.equal(parseRequestHead(Buffer.alloc(0)), 'incomplete');
  const heads = [...ACCEPTED.map(([, s]) => bytes(s)), headOfLength(MAX_HEAD_BYTES)];
  for (const buf of heads) {
    for (let i = 0; i < buf.length; i++) {
      const r = parseRequestHead(buf.subarray(0, i));
      if (r !== 'incomplete') assert.fail(`${show(buf)} cut at ${i}: ${JSON.stringify(r)}, not incomplete`);
    }
  }
  for (const s of ['G', 'GE', 'GET', 'GET ', 'GET /', 'H', 'HE', 'HEA', 'HEAD', 'HEAD ', 'HEAD /', 'GET / HTTP/9.9\r\nx', 'GET /\r\n']) {
    assert.equal(parseRequestHead(bytes(s)), 'incomplete', s);
  }
});

test('anything else is other, including incomplete heads that cannot be simple', () => {
  for (const [name, s] of OTHER) {
    assert.equal(parseRequestHead(typeof s === 'string' ? bytes(s) : s), 'other', name);
  }
});

// ---- Differential test against node:http ----

/** What a request is, as Node reports it or as the parser's head says it (proxy duplicates joined as Node does). */
interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  host: string | undefined;
  userAgent: string;
  forwarded: string | undefined;
  xForwardedFor: string | undefined;
  xForwardedProto: string | undefined;
  keepAlive: boolean;
}

function fromHead(h: RequestHead): Seen {
  return {
    method: h.method,
    url: h.target,
    httpVersion: h.http11 ? '1.1' : '1.0',
    host: h.host,
    userAgent: h.userAgent,
    forwarded: h.forwarded?.join(', '),
    xForwardedFor: h.xForwardedFor?.join(', '),
    xForwardedProto: h.xForwardedProto?.join(', '),
    keepAlive: h.keepAlive,
  };
}

const SENTINEL = bytes('GET /__sentinel HTTP/1.1\r\nHost: s\r\n\r\n');
const SENTINEL_SEEN: Seen = {
  method: 'GET', url: '/__sentinel', httpVersion: '1.1', host: 's', userAgent: '',
  forwarded: undefined, xForwardedFor: undefined, xForwardedProto: undefined, keepAlive: true,
};

interface Node {
  port: number;
  /** Requests Node read on the connection whose client port is the key (reset when a connection arrives). */
  seen: Map<number, Seen[]>;
  close(): Promise<void>;
}

async function startNode(): Promise<Node> {
  const seen = new Map<number, Seen[]>();
  const perSocket = new WeakMap<object, Seen[]>();
  const server = http.createServer((req, res) => {
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);
    perSocket.get(req.socket)?.push({
      method: req.method ?? '',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      host: req.headers.host,
      userAgent: req.headers['user-agent'] ?? '',
      forwarded: one(req.headers.forwarded),
      xForwardedFor: one(req.headers['x-forwarded-for']),
      xForwardedProto: one(req.headers['x-forwarded-proto']),
      // Node's keep-alive decision (llhttp_should_keep_alive), before the answer changes anything.
      keepAlive: res.shouldKeepAlive,
    });
    // The sentinel ends the exchange: Node closes the connection after answering it.
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain', 'content-length': 2 };
    if (req.url === '/__sentinel') headers.connection = 'close';
    res.writeHead(200, headers);
    res.end('ok');
  });
  server.on('connection', (socket: net.Socket) => {
    const list: Seen[] = [];
    perSocket.set(socket, list);
    if (socket.remotePort !== undefined) seen.set(socket.remotePort, list);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Sends `data` on a fresh connection; resolves with what Node read once it closes the connection (or on timeout). */
function exchange(node: Node, data: Buffer, timeoutMs: number): Promise<{ seen: Seen[]; timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(node.port, '127.0.0.1');
    let localPort = -1;
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const seen = node.seen.get(localPort) ?? [];
      node.seen.delete(localPort);
      resolve({ seen, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('connect', () => {
      localPort = socket.localPort ?? -1;
      socket.write(data);
    });
    socket.resume();
    socket.on('close', () => finish(false));
    socket.on('error', () => finish(false));
  });
}

interface Candidate {
  /** Where it comes from (for the failure message). */
  label: string;
  buf: Buffer;
}

/**
 * For each candidate the parser accepts: Node must read the same request from its first `length` bytes and,
 * when it keeps the connection open, read the sentinel sent right after it as the next request.
 */
async function differential(node: Node, candidates: Candidate[], concurrency = 16): Promise<{ checked: number; failures: string[] }> {
  const failures: string[] = [];
  let checked = 0;
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const { label, buf } = candidates[next++];
      const parsed = parseRequestHead(buf);
      if (typeof parsed !== 'object') continue;
      checked++;
      const request = buf.subarray(0, parsed.length);
      const mine = fromHead(parsed.head);
      const expected = mine.keepAlive ? [mine, SENTINEL_SEEN] : [mine];
      const sent = mine.keepAlive ? Buffer.concat([request, SENTINEL]) : request;
      const got = await exchange(node, sent, 2000);
      try {
        assert.deepEqual(got, { seen: expected, timedOut: false });
      } catch {
        failures.push(`${label} ${show(request)}\n    parser: ${JSON.stringify(mine)}\n    node:   ${JSON.stringify(got.seen)}${got.timedOut ? ' (Node did not close: timed out)' : ''}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { checked, failures };
}

const report = (failures: string[]) => `${failures.length} heads the parser accepts are read differently by Node:\n  ${failures.slice(0, 30).join('\n  ')}`;

// Heads where llhttp and Node have rules of their own: Connection parsing (Proxy-Connection counts as
// Connection, an option followed by HTAB is not recognised, HTTP/1.0 keeps alive on keep-alive even with close,
// the options of all Connection headers count), Content-Length syntax, Node's limit on field lines (with the
// default maxHeadersCount, node:http keeps the first 1000 and drops the rest silently; a dropped Host is a 400),
// the exact 16 KiB limit, and target characters. Whatever the parser does with them is fine as long as, when
// it accepts, Node agrees.
const junk = (n: number) => 'a:\r\n'.repeat(n);
const EDGES: [string, string | Buffer][] = [
  ['Connection: close, then HTAB', `${H11}Connection: close\t\r\n\r\n`],
  ['Connection: close, HTAB, comma', `${H11}Connection: close\t,foo\r\n\r\n`],
  ['Connection: close, SP, HTAB', `${H11}Connection: close \t\r\n\r\n`],
  ['Connection: option, HTAB, comma, close', `${H11}Connection: foo\t,close\r\n\r\n`],
  ['Connection: close, SP', `${H11}Connection: close \r\n\r\n`],
  ['HTTP/1.0 Connection: keep-alive, then HTAB', 'GET / HTTP/1.0\r\nConnection: keep-alive\t\r\n\r\n'],
  ['HTTP/1.0 Connection: keep-alive, then SP', 'GET / HTTP/1.0\r\nConnection: keep-alive \r\n\r\n'],
  ['HTTP/1.0 Connection: keep-alive, close', 'GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n'],
  ['HTTP/1.0 Connection: close, keep-alive', 'GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n'],
  ['HTTP/1.0 two Connection headers', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n'],
  ['two Connection headers, close first', `${H11}Connection: close\r\nConnection: keep-alive\r\n\r\n`],
  ['two Connection headers, keep-alive first', `${H11}Connection: keep-alive\r\nConnection: close\r\n\r\n`],
  ['Connection: close, then an empty Connection', `${H11}Connection: close\r\nConnection:\r\n\r\n`],
  ['Proxy-Connection: close', `${H11}Proxy-Connection: close\r\n\r\n`],
  ['HTTP/1.0 Proxy-Connection: keep-alive', 'GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n'],
  ['HTTP/1.0 obs-text after keep-alive', 'GET / HTTP/1.0\r\nConnection: keep-alive\xe9\r\n\r\n'],
  ['Content-Length: 0, then HTAB', `${H11}Content-Length: 0\t\r\n\r\n`],
  ['Content-Length: 0, then SP', `${H11}Content-Length: 0 \r\n\r\n`],
  ['Content-Length: HTAB, 0', `${H11}Content-Length:\t0\r\n\r\n`],
  ['User-Agent as field line 1000 (the last one Node keeps)', `${H11}${junk(998)}User-Agent: kept\r\n\r\n`],
  ['User-Agent as field line 1001', `${H11}${junk(999)}User-Agent: late\r\n\r\n`],
  ['Host as field line 1001', `GET / HTTP/1.1\r\n${junk(1000)}Host: a.test\r\n\r\n`],
  ['X-Forwarded-For as field line 1001', `${H11}${junk(999)}X-Forwarded-For: 192.0.2.1\r\n\r\n`],
  ['a second X-Forwarded-For as field line 1001', `${H11}X-Forwarded-For: 192.0.2.1\r\n${junk(998)}X-Forwarded-For: 192.0.2.2\r\n\r\n`],
  ['Connection: close as field line 1001', `${H11}${junk(999)}Connection: close\r\n\r\n`],
  ['Host and 3000 more field lines', `${H11}${junk(3000)}\r\n`],
  ['a head of exactly 16 KiB', headOfLength(MAX_HEAD_BYTES)],
  ['a head of 16 KiB minus 1', headOfLength(MAX_HEAD_BYTES - 1)],
  ['16 KiB of target', bytes('GET /' + 'a'.repeat(MAX_HEAD_BYTES - 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'.length) + ' HTTP/1.1\r\nHost: a\r\n\r\n')],
  ['fragment and odd target characters', 'GET /a#b?c#d/"<>\\^`{|}~%zz HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['target //', 'GET //evil.test/x HTTP/1.1\r\nHost: a.test\r\n\r\n'],
  ['whitespace-only Host', 'GET / HTTP/1.1\r\nHost: \t \r\n\r\n'],
  ['Host with obs-text', 'GET / HTTP/1.1\r\nHost: caf\xe9.test\r\n\r\n'],
  ['Forwarded twice', `${H11}Forwarded: for=a\r\nForwarded: for=b\r\n\r\n`],
  ['X-Forwarded-Proto twice, one empty', `${H11}X-Forwarded-Proto:\r\nX-Forwarded-Proto: https\r\n\r\n`],
  ['Keep-Alive header', `${H11}Keep-Alive: timeout=5\r\n\r\n`],
  ['TE header', `${H11}TE: trailers\r\nConnection: TE\r\n\r\n`],
];

// ---- Seeded random mutations of simple requests ----

const SEED = 0x6d61696c;
const MUTATIONS = 600;

const TARGETS = ['/', '/o/AbC123.gif', '/c/x?u=https%3A%2F%2Fe.test%2F&s=1', '/p?a=1#f', '/x/y/z;v=1'];
const OPTIONAL = [
  'User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
  'Accept: image/avif,image/webp,*/*;q=0.8',
  'Accept-Encoding: gzip, deflate, br',
  'Connection: keep-alive',
  'Connection: close',
  'Connection: Keep-Alive, close',
  'X-Forwarded-For: 203.0.113.7, 10.0.0.1',
  'X-Forwarded-Proto: https',
  'Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43',
  'Content-Length: 0',
  'Cookie: a=b; c=d',
  'Referer: https://mail.example.com/',
];
// Lines a mutation may add: benign ones, and ones with their own rules in one parser or the other.
const EXTRA = [
  'User-Agent: second', 'X-Forwarded-For: 198.51.100.9', 'Forwarded: for=x', 'X-Forwarded-Proto: http', 'X-Empty:',
  'X-Obs: caf\xe9 \xff', 'Host: other.test', 'Content-Length: 0', 'Content-Length: 1', 'Transfer-Encoding: chunked',
  'Upgrade: h2c', 'Expect: 100-continue', 'Connection: close', 'Connection: keep-alive', 'Connection: upgrade',
  'Connection: close\t', 'Connection: keep-alive\t', 'Proxy-Connection: close', 'Proxy-Connection: keep-alive',
  ' continued', '\tcontinued', 'NoColon', 'Bad Name: x', 'Content-Length: 0\t',
];
const VERSIONS = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/11', 'HTTP/1.1 ', 'HTTP/1.01'];
const BYTES = ['\r', '\n', ' ', '\t', ':', ',', ';', '/', '?', '#', '\x00', '\x7f', '\x0b', '\x0c', '\x1b', 'a', 'Z', '0'];

function generate(rand: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const method = rand() < 0.6 ? 'GET' : 'HEAD';
  let version = rand() < 0.75 ? 'HTTP/1.1' : 'HTTP/1.0';
  const fields: string[] = [];
  if (version === 'HTTP/1.1' || rand() < 0.5) fields.push(pick(['Host: track.example.com', 'host: t.example.com:8443', 'Host: [2001:db8::1]:80']));
  for (const f of OPTIONAL) if (rand() < 0.3) fields.push(f);
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [fields[i], fields[j]] = [fields[j], fields[i]];
  }
  let line = `${method} ${pick(TARGETS)}`;

  const n = 1 + Math.floor(rand() * 3);
  const structural = () => {
    const i = Math.floor(rand() * fields.length);
    switch (Math.floor(rand() * 7)) {
      case 0: if (fields.length) fields.splice(i, 0, fields[i]); break; // duplicate a line
      case 1: if (fields.length) fields.splice(i, 1); break; // drop a line
      case 2: fields.splice(Math.floor(rand() * (fields.length + 1)), 0, pick(EXTRA)); break;
      case 3: version = pick(VERSIONS); break;
      case 4: // change the case of a field name
        if (fields.length) {
          const [name, ...rest] = fields[i].split(':');
          const cased = [...name].map((c) => (rand() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
          fields[i] = [cased, ...rest].join(':');
        }
        break;
      case 5: line = rand() < 0.5 ? line.toLowerCase() : line.replace(/^(GET|HEAD)/, (m) => pick(['POST', 'PUT', 'OPTIONS', 'GETS', 'HEAD', 'GET'].filter((x) => x !== m))); break;
      case 6: // OWS around a value
        if (fields.length) fields[i] = fields[i].replace(':', pick([': ', ':\t', ':  ', ':'])) + pick(['', ' ', '\t', ' \t']);
        break;
    }
  };
  const byteLevel = (s: string): string => {
    // Mostly within the field lines, sometimes in the final CRLF CRLF.
    const at = rand() < 0.85 ? Math.floor(rand() * (s.length - 4)) : s.length - 4 + Math.floor(rand() * 4);
    const ch = rand() < 0.3 ? String.fromCharCode(0x80 + Math.floor(rand() * 0x80)) : rand() < 0.1 ? String.fromCharCode(Math.floor(rand() * 0x20)) : pick(BYTES);
    switch (Math.floor(rand() * 3)) {
      case 0: return s.slice(0, at) + ch + s.slice(at);
      case 1: return s.slice(0, at) + s.slice(at + 1);
      default: return s.slice(0, at) + ch + s.slice(at + 1);
    }
  };
  const kinds: boolean[] = Array.from({ length: n }, () => rand() < 0.55);
  for (const k of kinds) if (k) structural();
  let s = `${line} ${version}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n`;
  for (const k of kinds) if (!k) s = byteLevel(s);
  return s;
}

test('differential: Node reads every head the parser accepts as the same request, ending at the same byte', async (t) => {
  const node = await startNode();
  t.after(() => node.close());
  const started = Date.now();

  await t.test('the accepted table', async () => {
    const { checked, failures } = await differential(node, ACCEPTED.map(([name, s]) => ({ label: name, buf: bytes(s) })));
    assert.equal(checked, ACCEPTED.length);
    assert.deepEqual(failures, [], report(failures));
  });

  await t.test('edge cases where llhttp has rules of its own', async (st) => {
    const { checked, failures } = await differential(node, EDGES.map(([name, s]) => ({ label: name, buf: typeof s === 'string' ? bytes(s) : s })));
    st.diagnostic(`edge cases: ${checked} of ${EDGES.length} accepted by the parser and checked against Node`);
    assert.deepEqual(failures, [], report(failures));
  });

  await t.test(`seeded random mutations (seed ${SEED})`, async (st) => {
    const rand = prng(SEED);
    const counts = { accepted: 0, other: 0, incomplete: 0, completedAccepted: 0 };
    const candidates: Candidate[] = [];
    for (let i = 0; i < MUTATIONS; i++) {
      const buf = bytes(generate(rand));
      const r = parseRequestHead(buf);
      if (r === 'other') counts.other++;
      else if (r === 'incomplete') {
        counts.incomplete++;
        // What the parser waits on must not hide a request Node reads differently once more bytes arrive.
        const more = Buffer.concat([buf, SENTINEL]);
        if (typeof parseRequestHead(more) === 'object') {
          counts.completedAccepted++;
          candidates.push({ label: `seed ${SEED} #${i} (+sentinel)`, buf: more });
        }
      } else {
        counts.accepted++;
        candidates.push({ label: `seed ${SEED} #${i}`, buf });
      }
    }
    const { checked, failures } = await differential(node, candidates);
    const summary = `seed ${SEED}: ${MUTATIONS} mutations, ${counts.accepted} accepted, ${counts.other} other, ${counts.incomplete} incomplete ` +
      `(${counts.completedAccepted} accepted once the sentinel followed); ${checked} checked against Node, ${failures.length} disagree`;
    st.diagnostic(summary);
    assert.equal(checked, counts.accepted + counts.completedAccepted, summary);
    // Both paths exercised.
    assert.ok(counts.accepted >= MUTATIONS * 0.15, `too few accepted: ${summary}`);
    assert.ok(counts.other >= MUTATIONS * 0.25, `too few rejected: ${summary}`);
    assert.deepEqual(failures, [], `${summary}\n${report(failures)}`);
  });

  t.diagnostic(`differential run: ${Date.now() - started} ms`);
});
