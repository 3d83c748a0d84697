// The HTTPS listener for custom tracking domains (MAILBEACON_HTTPS_PORT, role tracking): picks each
// connection's certificate by SNI from the tracking_domains rows (only hostnames that are served: verified,
// active or retired, never dangling) and hands requests to the same Fastify app as the HTTP listener.
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { Role, Service } from '../server/service.ts';
import { onTrackingHostsChanged } from './verification.ts';

/** How long a hostname's certificate (or its absence) is cached before the store is asked again. */
const CACHE_MS = 5_000;

export class TrackingHttpsService implements Service {
  readonly name = 'https';
  port?: number;
  private server?: https.Server;
  private app?: FastifyInstance;
  private cache = new Map<string, { at: number; ctx?: tls.SecureContext }>();
  private unsubscribe?: () => void;

  constructor(private readonly ctx: AppContext) {}

  attachHttp(app: FastifyInstance): void {
    this.app = app;
  }

  private async secureContext(hostname: string): Promise<tls.SecureContext | undefined> {
    const host = hostname.toLowerCase();
    const hit = this.cache.get(host);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.ctx;
    const cert = await this.ctx.store.trackingDomains.certificateFor(host);
    const sc = cert ? tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem }) : undefined;
    this.cache.set(host, { at: Date.now(), ctx: sc });
    return sc;
  }

  async start(): Promise<void> {
    this.unsubscribe = onTrackingHostsChanged(this.ctx, () => this.cache.clear());
    this.server = https.createServer(
      {
        SNICallback: (servername, cb) => {
          this.secureContext(servername).then(
            (sc) => (sc ? cb(null, sc) : cb(new Error(`no certificate for ${servername}`))),
            (err) => cb(err as Error),
          );
        },
      },
      // The HTTP listener's own request handler: features' raw handlers (the pixel's hot path), then Fastify.
      (req, res) => {
        // The app is attached once the HTTP listener is up (services start first); until then, 503.
        if (!this.app) {
          res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' });
          res.end('starting');
          return;
        }
        this.app.server.emit('request', req, res);
      },
    );
    this.server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.ctx.config.httpsPort, this.ctx.config.host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.ctx.log.info({ event: 'https.listening', port: this.port }, 'HTTPS listener for tracking domains');
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeIdleConnections();
    });
  }
}

export function trackingHttpsService(ctx: AppContext, roles: Set<Role>): Service | undefined {
  return roles.has('tracking') && ctx.config.httpsPort !== undefined ? new TrackingHttpsService(ctx) : undefined;
}
