// The HTTP fast path: answers the simplest, hottest requests (the tracking pixel) straight on the TCP socket,
// without Node's IncomingMessage / ServerResponse machinery, which is most of a pixel's cost (measured: a
// socket-level answer runs ~1.9x the requests/s of a bare `http.createServer` answering the same GIF).
//
// It sits in front of Node's own HTTP server on the same listener. Every connection starts here; as long as
// each request is simple (request-head.ts: GET/HEAD, no body, no upgrade, strict syntax) and a fast route
// matches it, it is answered here, in order, one at a time. The first request that is anything else (another
// route, a POST, a malformed or oversized head) is handed, with every byte not yet answered, to Node's HTTP
// server's own connection listener, which owns the connection from then on. So anything outside the narrow
// fast case gets exactly Node's behaviour, and no request is ever parsed by both.
import type http from 'node:http';
import type { Socket } from 'node:net';
import { parseRequestHead, type RequestHead } from './request-head.ts';

/** A route answered on the fast path; its answer is fixed (headers and body), sent once `handle` says so. */
export interface FastRoute {
  /** Whether this route takes the request (the target, method and headers are already known to be simple). */
  matches(head: RequestHead): boolean;
  /** Does the route's work; calls `answer` (once) when the fixed response may be sent. */
  handle(head: RequestHead, socket: Socket, answer: () => void): void;
  readonly response: FixedResponse;
}

export interface FixedResponse {
  status: number;
  reason: string;
  /** Sent as given, in order; Date, Connection and Keep-Alive are added here. */
  headers: [string, string][];
  body: Buffer;
}

export interface FastPathStats {
  /** Connections handed to Node's HTTP server (a request the fast path does not answer). */
  handoff(): void;
}

/** Unanswered bytes held for a connection whose answer is pending (pipelining): beyond this, reading pauses. */
const MAX_PENDING = 64 * 1024;

/**
 * Puts the fast path in front of `server` (a node:http Server that is not listening yet): every connection is
 * accepted here and handed to Node's connection listener when it stops being simple. Patches the server's
 * closeIdleConnections / closeAllConnections so a graceful close also ends idle fast-path connections.
 */
export function installFastPath(server: http.Server, routes: FastRoute[], stats?: FastPathStats): void {
  const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  if (listeners.length !== 1) throw new Error(`expected node:http's own connection listener only, found ${listeners.length}`);
  const nodeListener = listeners[0];
  server.removeListener('connection', nodeListener);
  const conns = new Set<FastConnection>();
  let closing = false;
  const answers = routes.map((r) => new ResponseCache(r.response, server));

  const env: ConnectionEnv = {
    routes,
    answers,
    server,
    closing: () => closing,
    handoff(c, bytes, ended) {
      conns.delete(c);
      stats?.handoff();
      nodeListener.call(server, c.socket);
      // Node's listener reads the socket from here on; the bytes read so far (whole requests not yet answered
      // plus any part of the next) go to it as if just received: its 'data' handler feeds its parser. A FIN
      // already received is passed on after them, a turn later as a real one would come (node:http ends the
      // socket at a FIN unless an answer is under way).
      if (bytes && bytes.length) c.socket.emit('data', bytes);
      if (ended) setImmediate(() => c.socket.emit('end'));
    },
    gone: (c) => conns.delete(c),
  };
  server.on('connection', (socket: Socket) => {
    conns.add(new FastConnection(socket, env));
  });

  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    closing = true;
    closeIdle();
    for (const c of conns) c.closeIfIdle();
  };
  server.closeAllConnections = () => {
    closing = true;
    closeAll();
    for (const c of conns) c.socket.destroy();
  };
}

interface ConnectionEnv {
  routes: FastRoute[];
  answers: ResponseCache[];
  server: http.Server;
  closing(): boolean;
  handoff(c: FastConnection, bytes: Buffer | undefined, ended: boolean): void;
  gone(c: FastConnection): void;
}

class FastConnection {
  /** Bytes received and not yet answered (the next request's head, or part of it). */
  private pending: Buffer | undefined;
  /** A request is being handled (its answer is not sent yet). */
  private busy = false;
  private done = false;
  /** When the incomplete head in `pending` started (slow-header guard), 0 when none. */
  private partialSince = 0;
  private timeoutMs = -1;
  /** The client half-closed (FIN): answer what is complete, then close. */
  private ended = false;
  /** Waiting for the socket's write buffer to drain before the next request is read. */
  private draining = false;
  private readonly onData = (chunk: Buffer) => {
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    // Pipelined requests queue up behind one being answered: past a limit, stop reading until it is.
    if (this.busy && this.pending.length > MAX_PENDING) this.socket.pause();
    this.drive();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.drive();
  };
  private readonly onDrain = () => {
    this.draining = false;
    this.socket.resume();
    this.drive();
  };
  private readonly onTimeout = () => {
    // An answer being prepared is always sent (the recorder answers, even on failure): wait for it.
    if (!this.busy) this.socket.destroy();
  };
  private readonly onClose = () => {
    this.done = true;
    this.env.gone(this);
  };

  constructor(readonly socket: Socket, private readonly env: ConnectionEnv) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
    socket.on('close', this.onClose);
    // Errors (a reset by the peer) end the connection; 'close' follows.
    socket.on('error', noop);
    this.setTimeout(env.server.headersTimeout);
  }

  private setTimeout(ms: number) {
    // socket.setTimeout creates a new timer each call: only when the value changes (activity refreshes it).
    if (ms !== this.timeoutMs) {
      this.timeoutMs = ms;
      this.socket.setTimeout(ms);
    }
  }

  closeIfIdle() {
    if (!this.busy && !this.pending) this.socket.destroy();
  }

  private drive() {
    while (!this.busy && this.pending && !this.done && !this.draining) {
      // A client that sends requests but does not read the answers: wait until it does (as node:http does).
      if (this.socket.writableNeedDrain) {
        this.draining = true;
        this.socket.pause();
        this.socket.once('drain', this.onDrain);
        return;
      }
      const buf = this.pending;
      const parsed = parseRequestHead(buf);
      if (parsed === 'incomplete') {
        // The client half-closed: the rest of this head will never come.
        if (this.ended) break;
        const now = Date.now();
        if (!this.partialSince) {
          this.partialSince = now;
          this.setTimeout(this.env.server.headersTimeout);
        } else if (now - this.partialSince > this.env.server.headersTimeout) this.socket.destroy();
        return;
      }
      this.partialSince = 0;
      const route = parsed === 'other' ? -1 : this.env.routes.findIndex((r) => r.matches(parsed.head));
      if (parsed === 'other' || route < 0) return this.handoff(buf);
      const { head, length } = parsed;
      this.pending = length < buf.length ? buf.subarray(length) : undefined;
      // Hold off reading while pipelined requests queue up behind this one.
      if (this.pending && this.pending.length > MAX_PENDING) this.socket.pause();
      this.busy = true;
      let sync = true;
      this.env.routes[route].handle(head, this.socket, () => {
        this.answer(route, head);
        this.busy = false;
        // An answer given synchronously continues the loop; a later one restarts it.
        if (!sync) this.drive();
      });
      sync = false;
    }
    // Half-closed by the client and nothing left to answer: close our side too.
    if (this.ended && !this.busy && !this.done && !this.draining) this.finish();
  }

  private finish() {
    this.done = true;
    this.env.gone(this);
    this.socket.end();
  }

  private answer(route: number, head: RequestHead) {
    if (this.done || this.socket.destroyed) return;
    const keepAlive = head.keepAlive && !this.env.closing();
    this.socket.write(this.env.answers[route].get(keepAlive, head.method === 'HEAD'));
    if (!keepAlive) return this.finish();
    if (this.socket.isPaused() && (!this.pending || this.pending.length <= MAX_PENDING)) this.socket.resume();
    this.setTimeout(this.pending ? this.env.server.headersTimeout : this.env.server.keepAliveTimeout);
  }

  private handoff(bytes: Buffer) {
    this.done = true;
    this.pending = undefined;
    const s = this.socket;
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('timeout', this.onTimeout);
    s.removeListener('close', this.onClose);
    s.removeListener('error', noop);
    s.setTimeout(0);
    if (s.isPaused()) s.resume();
    this.env.handoff(this, bytes, this.ended);
  }
}

function noop() {}

/** The fixed answer as bytes, per (keep-alive, HEAD), rebuilt when the Date header's second changes. */
class ResponseCache {
  private second = -1;
  private cache: (Buffer | undefined)[] = [];
  private readonly top: string;

  constructor(private readonly r: FixedResponse, private readonly server: http.Server) {
    this.top = `HTTP/1.1 ${r.status} ${r.reason}\r\n${r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}`;
  }

  get(keepAlive: boolean, head: boolean): Buffer {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.cache = [];
    }
    const k = (keepAlive ? 2 : 0) + (head ? 1 : 0);
    let b = this.cache[k];
    if (!b) {
      // As node:http writes them: Keep-Alive names the idle timeout in whole seconds.
      const conn = keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.server.keepAliveTimeout / 1000)}\r\n` : 'Connection: close\r\n';
      const h = Buffer.from(`${this.top}Date: ${new Date(now).toUTCString()}\r\n${conn}\r\n`, 'latin1');
      this.cache[k] = b = head ? h : Buffer.concat([h, this.r.body]);
    }
    return b;
  }
}
