// The tracking endpoint: GET/HEAD /o/<token>.gif (pixel) and /c/<token> (click), on the tracking hosts only.
// It runs on the raw node request before Fastify (see HttpFeature.raw) because Fastify's per-request work is
// a large share of a pixel's cost; the Fastify routes registered in root() call the same handler (inject()
// and any request that reaches Fastify behave the same).
//
// Pixel: always the 43-byte GIF, whatever fails. Click: 302 to the URL signed into the token (http/https
// only), otherwise a plain 404 that never reflects the input. Both answer only after the event batch has
// committed (group commit), so every 200/302 is in the store even after kill -9.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { HttpFeature } from '../http/http-feature.ts';
import { CLICK_PREFIX, PIXEL_PREFIX, TokenSigner, keyringFromSecret } from './tokens.ts';
import { trackingHosts } from './tracking-host-policy.ts';
import { GroupCommit } from './group-commit.ts';
import { EventWriter, type HitOutcome, type TrackHit } from './event-writer.ts';
import { CidrSet } from '../domain/ip-address.ts';
import { clientAddress, type HeaderBag, type ProxyHeader } from '../http/client-address.ts';
import { startJournal, type Recorder } from './journal-service.ts';
import type { FastRoute } from '../http/fast-path.ts';

/** The classic 1×1 transparent GIF89a (43 bytes: the common 42-byte variant has a truncated LZW block). */
export const PIXEL_GIF = Buffer.from('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b', 'hex');

const PIXEL_HEADERS = {
  'Content-Type': 'image/gif',
  'Content-Length': String(PIXEL_GIF.length),
  'Cache-Control': 'no-store, no-cache, must-revalidate, private',
  Pragma: 'no-cache',
  Expires: '0',
};
const NOT_FOUND = Buffer.from('Not found\n');
const NOT_FOUND_HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Content-Length': String(NOT_FOUND.length),
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/** The redirect target, only for an absolute http(s) URL without control characters; else undefined. */
export function safeRedirect(url: string | undefined): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (!url || /[\u0000-\u001f\u007f]/.test(url)) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (!u.hostname) return undefined;
  const href = u.href;
  // WHATWG serialization never holds CR/LF, but a Location header must not either: check, don't trust.
  return /[\r\n]/.test(href) ? undefined : href;
}

export interface Tracker {
  /** Handles /o/ and /c/ requests; false for anything else (Fastify takes it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** The pixel route on the HTTP fast path. */
  fast: FastRoute;
  /** Resolves once every hit answered so far is in the store (journal ingested); at once without a journal. */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Whether this node writes tracking hits to the event journal (SQLite file stores) or straight to the store. */
export function journalEnabled(ctx: AppContext): boolean {
  const mode = ctx.config.eventJournal ?? 'auto';
  const file = ctx.store.db.sqlitePath;
  const sqliteFile = ctx.store.dialect === 'sqlite' && !!file && file !== ':memory:';
  if (mode === 'off') return false;
  if (mode === 'on' && !sqliteFile) throw new Error('MAILBEACON_EVENT_JOURNAL=on needs a SQLite file store (PostgreSQL nodes write tracking events straight to the shared store)');
  return sqliteFile;
}

export function createTracker(ctx: AppContext): Tracker {
  const m = ctx.metrics;
  // Outcomes of journaled hits are known only once ingested: they are folded in whenever the counter is read.
  const requests = m.counter('mailbeacon_tracking_requests_total', 'Pixel and click requests by result (recorded, invalid_token, unknown_host, unknown_copy, bad_url, lost)', ['route', 'result'], () => recorder?.pull?.());
  const lost = m.counter('mailbeacon_tracking_events_lost_total', 'Verified pixel loads and clicks that were answered but could not be stored (store failure)');
  const batchSize = m.histogram('mailbeacon_tracking_batch_size', 'Events per group commit', [], [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]);
  const commitSeconds = m.histogram('mailbeacon_tracking_commit_seconds', 'Time to write one group-commit batch', [], [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5]);
  // prom-client hashes the labels on every inc(): keep one child per (route, result).
  const children = new Map<string, ReturnType<typeof requests.labels>>();
  const child = (route: string, result: string) => {
    const k = `${route} ${result}`;
    let c = children.get(k);
    if (!c) children.set(k, (c = requests.labels(route, result)));
    return c;
  };
  const count = (route: string, result: string, n = 1) => child(route, result).inc(n);

  const signer = new TokenSigner(keyringFromSecret(ctx.secret, ctx.config.tokenKeyIds));
  const hosts = trackingHosts(ctx);
  const trusted = new CidrSet(ctx.config.trustedProxies);
  const proxyHeader = (ctx.config.trustedProxyHeader ?? 'auto') as ProxyHeader;
  const classifyOpts = { prefetchSeconds: ctx.config.prefetchSeconds, scannerNetworks: ctx.config.scannerNetworks };
  const onBatch = (size: number, ms: number, ok: boolean) => {
    batchSize.observe(size);
    commitSeconds.observe(ms / 1000);
    if (!ok) ctx.log.error({ event: 'tracking.commit_failed', size }, 'tracking events could not be stored');
  };

  // Where a verified hit goes before its answer: the event journal (SQLite) or the store itself (group commit).
  let recorder: Recorder | undefined;
  if (journalEnabled(ctx)) {
    recorder = startJournal(ctx, classifyOpts, onBatch, count);
  } else {
    const writer = new EventWriter(ctx.store.tracking, classifyOpts, () => ctx.clock.now());
    const commit = new GroupCommit<TrackHit, HitOutcome>((hits) => writer.write(hits), ctx.config.eventFlushMs, 2000, onBatch);
    recorder = {
      add: (hit, answer) => {
        commit.add(hit).then((outcome) => {
          count(hit.kind === 'open' ? 'pixel' : 'click', outcome);
          answer();
        }, answer);
      },
      settled: async () => {},
      close: () => commit.close(),
    };
  }

  // The same client-address rules as every other route (http/client-address.ts). The tracking host is the
  // Host header only: X-Forwarded-Host never decides which host a token is checked against.
  // Without trusted proxies the client is the socket peer: worked out once per connection, not per request.
  const peerIp = new WeakMap<object, string>();
  const clientIp = (socket: Socket & { encrypted?: boolean }, headers: HeaderBag): string => {
    if (!trusted.size) {
      let ip = peerIp.get(socket);
      if (ip === undefined) peerIp.set(socket, (ip = clientAddress(socket.remoteAddress, headers, trusted, 'http', proxyHeader).ip));
      return ip;
    }
    return clientAddress(socket.remoteAddress, headers, trusted, socket.encrypted ? 'https' : 'http', proxyHeader).ip;
  };
  const clientOf = (req: IncomingMessage): { ip: string; host: string | undefined } => ({ ip: clientIp(req.socket, req.headers), host: req.headers.host });

  const gif = (res: ServerResponse) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, PIXEL_HEADERS);
    res.end(PIXEL_GIF);
  };
  const notFound = (res: ServerResponse) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(404, NOT_FOUND_HEADERS);
    res.end(NOT_FOUND);
  };

  const rec = recorder;
  const record = (route: string, hit: TrackHit, answer: () => void) => {
    rec.add(hit, (err) => {
      if (err !== undefined) {
        count(route, 'lost');
        lost.inc();
      }
      answer();
    });
  };

  /**
   * A pixel request, from either transport: `answer` sends the GIF (always, whatever fails). The client
   * address is worked out inside, so a failure there is handled like any other.
   */
  const pixelHit = (rest: string, method: string, host: string | undefined, ua: string, ipOf: () => string, answer: () => void) => {
    try {
      const ip = ipOf();
      if (!hosts.allows(host)) {
        count('pixel', 'unknown_host');
        return answer();
      }
      const token = rest.endsWith('.gif') ? rest.slice(0, -4) : '';
      const claims = token ? signer.verify(token, host!) : undefined;
      if (!claims || claims.kind !== 'open') {
        count('pixel', 'invalid_token');
        return answer();
      }
      record('pixel', { kind: 'open', method, copyId: claims.copyId, at: ctx.clock.now(), ip, userAgent: ua.slice(0, 1000) }, answer);
    } catch (e) {
      ctx.log.error({ event: 'tracking.pixel_error', err: e }, 'pixel handler failed');
      count('pixel', 'error');
      answer();
    }
  };

  const pixel = (req: IncomingMessage, res: ServerResponse, rest: string) => {
    pixelHit(rest, req.method!, req.headers.host, req.headers['user-agent'] ?? '', () => clientIp(req.socket, req.headers), () => gif(res));
  };

  // The same pixel on the HTTP fast path (http/fast-path.ts): plain HTTP only (the HTTPS listener for custom
  // tracking domains goes through node:https and `handle`). Proxy headers matter only with trusted proxies.
  const NO_HEADERS: HeaderBag = {};
  const fastPixel: FastRoute = {
    matches: (head) => head.target.startsWith(PIXEL_PREFIX),
    handle: (head, socket, answer) => {
      const q = head.target.indexOf('?');
      const rest = head.target.slice(PIXEL_PREFIX.length, q < 0 ? undefined : q);
      const ipOf = () => clientIp(socket, trusted.size ? { forwarded: head.forwarded, 'x-forwarded-for': head.xForwardedFor, 'x-forwarded-proto': head.xForwardedProto } : NO_HEADERS);
      pixelHit(rest, head.method, head.host, head.userAgent, ipOf, answer);
    },
    response: { status: 200, reason: 'OK', headers: Object.entries(PIXEL_HEADERS), body: PIXEL_GIF },
  };

  const click = (req: IncomingMessage, res: ServerResponse, token: string) => {
    try {
      const { ip, host } = clientOf(req);
      if (!hosts.allows(host)) {
        count('click', 'unknown_host');
        return notFound(res);
      }
      const claims = signer.verify(token, host!);
      if (!claims || claims.kind !== 'click') {
        count('click', 'invalid_token');
        return notFound(res);
      }
      const location = safeRedirect(claims.url);
      if (!location) {
        count('click', 'bad_url');
        return notFound(res);
      }
      const ua = req.headers['user-agent'] ?? '';
      const hit: TrackHit = { kind: 'click', method: req.method!, copyId: claims.copyId, at: ctx.clock.now(), ip, userAgent: ua.slice(0, 1000), linkIndex: claims.linkIndex, url: claims.url };
      record('click', hit, () => {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': '0', 'Referrer-Policy': 'no-referrer' });
        res.end();
      });
    } catch (e) {
      ctx.log.error({ event: 'tracking.click_error', err: e }, 'click handler failed');
      count('click', 'error');
      notFound(res);
    }
  };

  return {
    handle(req, res) {
      const url = req.url ?? '';
      const isPixel = url.startsWith(PIXEL_PREFIX);
      if (!isPixel && !url.startsWith(CLICK_PREFIX)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const q = url.indexOf('?');
      const rest = url.slice(PIXEL_PREFIX.length, q < 0 ? undefined : q);
      if (isPixel) pixel(req, res, rest);
      else click(req, res, rest);
      return true;
    },
    fast: fastPixel,
    settled: (timeoutMs) => rec.settled(timeoutMs),
    close: () => rec.close(),
  };
}

/** Resolves once every tracking hit this node answered so far is in the store (tests, backups, reads). */
export function trackingSettled(ctx: AppContext, timeoutMs?: number): Promise<void> {
  return trackers.get(ctx)?.settled(timeoutMs) ?? Promise.resolve();
}

const trackers = new WeakMap<AppContext, Tracker>();
function trackerOf(ctx: AppContext): Tracker {
  let t = trackers.get(ctx);
  if (!t) trackers.set(ctx, (t = createTracker(ctx)));
  return t;
}

export const trackingFeature: HttpFeature = {
  name: 'tracking',
  raw: (ctx) => {
    const t = trackerOf(ctx);
    return (req, res) => t.handle(req, res);
  },
  fast: (ctx) => trackerOf(ctx).fast,
  root(app, ctx) {
    const t = trackerOf(ctx);
    const viaFastify = (req: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      if (!t.handle(req.raw, reply.raw)) {
        reply.raw.writeHead(404, NOT_FOUND_HEADERS);
        reply.raw.end(NOT_FOUND);
      }
    };
    for (const prefix of [PIXEL_PREFIX, CLICK_PREFIX]) {
      app.route({ method: ['GET', 'HEAD'], url: `${prefix}*`, schema: { hide: true }, config: { quiet: true }, exposeHeadRoute: false, handler: viaFastify });
    }
    app.addHook('onClose', async () => {
      await t.close();
    });
  },
};
