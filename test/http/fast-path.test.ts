// The HTTP fast path (src/http/fast-path.ts) over real sockets against a running server: pixels answered at the
// socket, in order when pipelined, byte-for-byte the answer node:http gives (but the Date); every other request
// (another route, a malformed or oversized head, a body) handed with its bytes to Node's HTTP server on the same
// connection; keep-alive and close rules; header timeouts against slow clients; graceful stop with idle
// fast-path connections open; and the switch that turns it off.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { PIXEL_GIF, trackingSettled } from '../../src/tracking/tracking-http.ts';
import { seedCopies, signer } from '../tracking/helpers.ts';

const HOST = 'track.test';

interface RawReply {
  status: number;
  /** Header lines as sent (name: value), in order. */
  lines: string[];
  headers: Record<string, string>;
  body: Buffer;
}

/** Reads HTTP/1.1 answers off `data` for the given request methods (HEAD: no body). */
function parseReplies(data: Buffer, methods: string[]): { replies: RawReply[]; rest: Buffer } {
  const replies: RawReply[] = [];
  let pos = 0;
  for (const m of methods) {
    const end = data.indexOf('\r\n\r\n', pos);
    if (end < 0) break;
    const [statusLine, ...lines] = data.toString('latin1', pos, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
    const len = m === 'HEAD' ? 0 : Number(headers['content-length'] ?? 0);
    if (data.length < end + 4 + len) break;
    replies.push({ status: Number(statusLine.split(' ')[1]), lines, headers, body: data.subarray(end + 4, end + 4 + len) });
    pos = end + 4 + len;
  }
  return { replies, rest: data.subarray(pos) };
}

/** A raw connection: write bytes, wait for answers or for the server to close. */
class Conn {
  private data = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];
  readonly socket: net.Socket;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.ready = new Promise((r) => this.socket.once('connect', () => r()));
    this.socket.on('data', (d) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => {});
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(ok: () => boolean, ms: number, what: string) {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.data.toString('latin1').slice(0, 400))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async send(bytes: string | Buffer) {
    await this.ready;
    this.socket.write(bytes);
  }

  /** The next answers to `methods`, in order. */
  async replies(methods: string[], ms = 5000): Promise<RawReply[]> {
    let got: RawReply[] = [];
    await this.until(() => {
      const p = parseReplies(this.data, methods);
      got = p.replies;
      if (got.length === methods.length) this.data = Buffer.from(p.rest);
      return got.length === methods.length || this.closed;
    }, ms, `${methods.length} answers`);
    assert.equal(got.length, methods.length, `answers before the connection closed: ${this.data.toString('latin1').slice(0, 300)}`);
    return got;
  }

  async closedByServer(ms = 5000) {
    await this.until(() => this.closed, ms, 'the server to close the connection');
  }

  get buffered() {
    return this.data;
  }

  end() {
    this.socket.destroy();
  }
}

const pixelRequest = (token: string, extra = '', method = 'GET', version = '1.1') => `${method} /o/${token}.gif HTTP/${version}\r\nHost: ${HOST}\r\nUser-Agent: Thunderbird/115\r\n${extra}\r\n`;

function assertGif(r: RawReply, head = false) {
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'image/gif');
  assert.equal(r.headers['content-length'], String(PIXEL_GIF.length));
  assert.equal(r.headers['cache-control'], 'no-store, no-cache, must-revalidate, private');
  assert.deepEqual(r.body, head ? Buffer.alloc(0) : PIXEL_GIF);
}

describe('HTTP fast path', () => {
  let s: TestServer;
  let port: number;
  let tokens: string[];
  const handoffs = async () => {
    const m = s.server.ctx.metrics.registry.getSingleMetric('mailbeacon_http_fast_path_handoffs_total');
    return m ? (await m.get()).values.reduce((a, v) => a + v.value, 0) : undefined;
  };
  const opens = async (copyId: string) => {
    await trackingSettled(s.server.ctx);
    return s.server.ctx.store.db.kysely.selectFrom('events').select(['type', 'reason', 'ip', 'userAgent']).where('copyId', '=', copyId).where('type', 'in', ['open', 'open_signal']).orderBy('id').execute();
  };
  let copyIds: string[];

  before(async () => {
    s = await startTestServer({ env: { MAILBEACON_PUBLIC_URL: `https://${HOST}`, MAILBEACON_TRUSTED_PROXIES: '10.0.0.0/8' } });
    port = s.server.httpPort!;
    ({ copyIds } = await seedCopies(s.server.ctx.store, 12));
    tokens = copyIds.map((copyId) => signer.sign({ kind: 'open', copyId }, HOST));
  });
  after(async () => {
    await s.stop();
  });

  test('pipelined pixels are answered in order at the socket, then another route is handed to the full server on the same connection', async () => {
    const before = await handoffs();
    const c = new Conn(port);
    await c.send(pixelRequest(tokens[0]) + pixelRequest(tokens[1], '', 'HEAD') + pixelRequest(tokens[2]) + `GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\n\r\n` + pixelRequest(tokens[3]));
    const [a, b, d, health, e] = await c.replies(['GET', 'HEAD', 'GET', 'GET', 'GET']);
    assertGif(a);
    assertGif(b, true);
    assertGif(d);
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body.toString()), { ok: true });
    // After the hand-off the pixel is answered by the raw handler behind node:http: the same GIF.
    assertGif(e);
    assert.equal(c.buffered.length, 0, 'no stray bytes after the answers');
    c.end();
    assert.equal((await handoffs())! - before!, 1, 'one hand-off: at the /healthz request');
    assert.deepEqual((await opens(copyIds[0])).map((e) => e.type), ['open']);
    // HEAD is recorded as a signal (reason head), not as an open.
    assert.deepEqual((await opens(copyIds[1])).map((e) => [e.type, e.reason]), [['open_signal', 'head']]);
    assert.equal((await opens(copyIds[3])).length, 1);
  });

  test('the fast answer is the answer node:http gives, but for the Date', async () => {
    const fast = new Conn(port);
    await fast.send(pixelRequest(tokens[4]));
    const [f] = await fast.replies(['GET']);
    // A connection handed over first (its first request is not a pixel) is answered by node:http.
    const slow = new Conn(port);
    await slow.send(`GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\n\r\n${pixelRequest(tokens[4])}`);
    const [, n] = await slow.replies(['GET', 'GET']);
    const noDate = (r: RawReply) => r.lines.filter((l) => !/^date:/i.test(l));
    assert.deepEqual(noDate(f), noDate(n));
    assert.deepEqual(f.body, n.body);
    assert.match(f.headers.date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.ok(Math.abs(Date.parse(f.headers.date) - Date.now()) < 5000);
    fast.end();
    slow.end();
  });

  test('a request split into single bytes is still answered, and its user agent recorded', async () => {
    const c = new Conn(port);
    const req = pixelRequest(tokens[5], 'X-Forwarded-For: 203.0.113.9\r\n');
    for (const ch of req) {
      await c.send(ch);
      await new Promise((r) => setImmediate(r));
    }
    assertGif((await c.replies(['GET']))[0]);
    c.end();
    const [ev] = await opens(copyIds[5]);
    assert.equal(ev.userAgent, 'Thunderbird/115');
    // 127.0.0.1 is not a trusted proxy here: its X-Forwarded-For is ignored.
    assert.equal(ev.ip, '127.0.0.1');
  });

  test('Connection: close and HTTP/1.0 without keep-alive: answered, then closed by the server', async () => {
    for (const [extra, version] of [['Connection: close\r\n', '1.1'], ['', '1.0']]) {
      const c = new Conn(port);
      await c.send(pixelRequest(tokens[6], extra, 'GET', version) + pixelRequest(tokens[6]));
      const [r] = await c.replies(['GET']);
      assertGif(r);
      assert.equal(r.headers.connection, 'close');
      await c.closedByServer();
      assert.equal(c.buffered.length, 0, 'the request after close is not answered');
    }
    // HTTP/1.0 asking for keep-alive keeps it.
    const k = new Conn(port);
    await k.send(pixelRequest(tokens[6], 'Connection: keep-alive\r\n', 'GET', '1.0') + pixelRequest(tokens[6]));
    const [r1, r2] = await k.replies(['GET', 'GET']);
    assert.equal(r1.headers.connection, 'keep-alive');
    assertGif(r2);
    k.end();
  });

  test('a client that half-closes after its requests gets its answers, then the connection is closed', async () => {
    for (const [name, tail, methods] of [
      ['pixels only', '', ['GET', 'GET']],
      ['then a handed-off request', `GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, ['GET', 'GET', 'GET']],
    ] as const) {
      const c = new Conn(port);
      await c.ready;
      c.socket.end(pixelRequest(tokens[8]) + pixelRequest(tokens[8]) + tail);
      const replies = await c.replies([...methods]);
      for (const r of replies) assert.equal(r.status, 200, name);
      await c.closedByServer(3000);
    }
  });

  test('a client that pipelines pixel loads and never reads the answers is not buffered without bound', async () => {
    const before = process.memoryUsage().rss;
    const c = new Conn(port);
    await c.ready;
    c.socket.pause();
    // ~12 MB of requests; unread answers would be ~25 MB if the server kept answering.
    const one = pixelRequest('x'.repeat(40));
    const chunk = one.repeat(Math.floor(65536 / one.length));
    let written = 0;
    for (let i = 0; i < 200; i++) {
      if (!c.socket.write(chunk)) await Promise.race([new Promise((r) => c.socket.once('drain', r)), new Promise((r) => setTimeout(r, 50))]);
      written += chunk.length;
    }
    await new Promise((r) => setTimeout(r, 300));
    // The server stopped reading once its answers backed up: most of what was written is still unsent here.
    assert.ok(c.socket.writableLength > written / 2, `client still holds ${c.socket.writableLength} of ${written} bytes`);
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'no unbounded growth in the server');
    // Reading again: everything is answered, in order.
    let answered = 0;
    c.socket.removeAllListeners('data');
    const total = (written / one.length) | 0;
    await new Promise<void>((resolve, reject) => {
      let carry = '';
      const t = setTimeout(() => reject(new Error(`answered ${answered} of ${total}`)), 30_000);
      c.socket.on('data', (d) => {
        const s = carry + d.toString('latin1');
        const parts = s.split('HTTP/1.1 200 OK');
        answered += parts.length - 1;
        carry = parts[parts.length - 1].slice(-20);
        if (answered >= total) {
          clearTimeout(t);
          resolve();
        }
      });
      c.socket.resume();
    });
    assert.equal(answered, total);
    c.end();
  });

  test('malformed, oversized or body-carrying requests get node:http\'s own answers', async () => {
    const cases: [string, string | Buffer, number][] = [
      ['bare LF line ends', `GET /o/${tokens[7]}.gif HTTP/1.1\nHost: ${HOST}\n\n`, 400],
      // Node keeps the first of two Hosts (and so answers the GIF): the fast path leaves that call to it.
      ['duplicate Host', `GET /o/${tokens[7]}.gif HTTP/1.1\r\nHost: ${HOST}\r\nHost: evil.test\r\n\r\n`, 200],
      ['a 20 KiB header', `GET /o/${tokens[7]}.gif HTTP/1.1\r\nHost: ${HOST}\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, 431],
      ['Transfer-Encoding with Content-Length', `GET /o/${tokens[7]}.gif HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ];
    for (const [name, bytes, status] of cases) {
      const before = await handoffs();
      const c = new Conn(port);
      await c.send(bytes);
      const [r] = await c.replies(['GET']);
      assert.equal(r.status, status, name);
      assert.equal((await handoffs())! - before!, 1, `${name}: handed to node:http`);
      c.end();
    }
    // A body on a pixel GET goes to Node too, which reads it (not as the next request) and answers the GIF.
    const c = new Conn(port);
    const body = 'GET / HTTP/1.1';
    await c.send(`GET /o/${tokens[7]}.gif HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: ${body.length}\r\n\r\n${body}${pixelRequest(tokens[7])}`);
    const [p, q] = await c.replies(['GET', 'GET']);
    assertGif(p);
    assertGif(q);
    c.end();
    // The two above and the duplicate-Host one (Node read it as a pixel load for its first Host).
    assert.equal((await opens(copyIds[7])).length, 3);
  });

  test('slow clients: a head not finished within headersTimeout is cut, even when it trickles', async () => {
    const server = s.server.http!.server;
    const saved = server.headersTimeout;
    server.headersTimeout = 400;
    try {
      const idle = new Conn(port);
      await idle.send('GET /o/');
      const drip = new Conn(port);
      await drip.send('GET /o/');
      const t0 = Date.now();
      const dripping = (async () => {
        for (let i = 0; i < 30 && !drip.closed; i++) {
          await new Promise((r) => setTimeout(r, 100));
          if (!drip.closed) drip.socket.write('a');
        }
      })();
      await idle.closedByServer(3000);
      await drip.closedByServer(4000);
      await dripping;
      assert.ok(Date.now() - t0 < 2500, `the trickling head was cut after ${Date.now() - t0} ms`);
    } finally {
      server.headersTimeout = saved;
    }
  });

  test('trusted proxies: the client address comes from X-Forwarded-For / Forwarded on the fast path too', async () => {
    // Only 10.0.0.0/8 is trusted, and the test client is 127.0.0.1: so go through the header rules with a
    // server that trusts loopback.
    const t = await startTestServer({ env: { MAILBEACON_PUBLIC_URL: `https://${HOST}`, MAILBEACON_TRUSTED_PROXIES: '127.0.0.0/8' } });
    try {
      const { copyIds: ids } = await seedCopies(t.server.ctx.store, 2);
      const c = new Conn(t.server.httpPort!);
      await c.send(pixelRequest(signer.sign({ kind: 'open', copyId: ids[0] }, HOST), 'X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 203.0.113.7\r\n') + pixelRequest(signer.sign({ kind: 'open', copyId: ids[1] }, HOST), 'Forwarded: for="[2001:db8::5]:4711"\r\n'));
      await c.replies(['GET', 'GET']);
      c.end();
      await trackingSettled(t.server.ctx);
      const rows = await t.server.ctx.store.db.kysely.selectFrom('events').select(['copyId', 'ip']).execute();
      assert.equal(rows.find((r) => r.copyId === ids[0])?.ip, '203.0.113.7');
      assert.equal(rows.find((r) => r.copyId === ids[1])?.ip, '2001:db8::5');
    } finally {
      await t.stop();
    }
  });

  test('a graceful stop closes idle fast-path connections and answers the request in flight', async () => {
    const t = await startTestServer({ env: { MAILBEACON_PUBLIC_URL: `https://${HOST}`, MAILBEACON_EVENT_FLUSH_MS: '1000' } });
    const { copyIds: ids } = await seedCopies(t.server.ctx.store, 1);
    const tok = signer.sign({ kind: 'open', copyId: ids[0] }, HOST);
    const idle = new Conn(t.server.httpPort!);
    await idle.send(pixelRequest(tok));
    await idle.replies(['GET'], 3000);
    const busy = new Conn(t.server.httpPort!);
    await busy.ready;
    // In flight: held by the 1 s flush window.
    await busy.send(pixelRequest(tok));
    await new Promise((r) => setTimeout(r, 50));
    // What a graceful close does first (node:http's close() and Fastify's both call it): the idle connection
    // goes at once (else it would stay for keepAliveTimeout and hold the stop), the busy one stays.
    t.server.http!.server.closeIdleConnections();
    try {
      await idle.closedByServer(500);
      assert.equal(busy.closed, false);
    } finally {
      await t.stop();
    }
    const [r] = await busy.replies(['GET']);
    assertGif(r);
    assert.equal(r.headers.connection, 'close');
    await busy.closedByServer(1000);
  });

  test('MAILBEACON_HTTP_FAST_PATH=false: every request goes through node:http, with the same answer', async () => {
    const t = await startTestServer({ env: { MAILBEACON_PUBLIC_URL: `https://${HOST}`, MAILBEACON_HTTP_FAST_PATH: 'false' } });
    try {
      const { copyIds: ids } = await seedCopies(t.server.ctx.store, 1);
      const c = new Conn(t.server.httpPort!);
      await c.send(pixelRequest(signer.sign({ kind: 'open', copyId: ids[0] }, HOST)) + `GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      const [p, h] = await c.replies(['GET', 'GET']);
      assertGif(p);
      assert.equal(h.status, 200);
      c.end();
      assert.equal(t.server.ctx.metrics.registry.getSingleMetric('mailbeacon_http_fast_path_handoffs_total'), undefined, 'no fast path installed');
    } finally {
      await t.stop();
    }
  });
});
