// Makes `req.ip` and `req.protocol` the real client's, behind trusted reverse proxies (client-address.ts
// has the rules). Every feature just reads `req.ip` (or `clientIp(req)`) for events, rate limits and logs,
// and calls `isSecureRequest(req)` to decide on Secure cookies / HSTS / https redirects.
//
// Fastify's own `trustProxy` is left off: it understands X-Forwarded-For only (not RFC 7239 Forwarded)
// and would also believe X-Forwarded-Host, which must never decide the tracking host a token is checked
// against. Instead one onRequest hook computes the address once and pins it on the request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.ts';
import { CidrSet } from '../domain/ip-address.ts';
import { clientAddress, type ClientAddress, type ProxyHeader } from './client-address.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client as computed from the socket and trusted proxy headers; set by the first onRequest hook. */
    client?: ClientAddress;
  }
}

/** Installs the hook on the root instance (before any other hook, so every route and hook sees it). */
export function installClientAddress(app: FastifyInstance, ctx: AppContext): void {
  const trusted = new CidrSet(ctx.config.trustedProxies);
  const which = (ctx.config.trustedProxyHeader ?? 'auto') as ProxyHeader;
  app.addHook('onRequest', async (req) => {
    const socket = req.raw.socket;
    const encrypted = (socket as { encrypted?: boolean } | undefined)?.encrypted === true;
    const client = clientAddress(socket?.remoteAddress, req.headers, trusted, encrypted ? 'https' : 'http', which);
    req.client = client;
    // Shadow Fastify's prototype getters with plain values on this request.
    Object.defineProperty(req, 'ip', { value: client.ip, configurable: true, enumerable: true, writable: false });
    Object.defineProperty(req, 'protocol', { value: client.proto, configurable: true, enumerable: true, writable: false });
  });
}

/** The client's address (canonical form: IPv4-mapped IPv6 shown as IPv4). Same as `req.ip`. */
export function clientIp(req: FastifyRequest): string {
  return req.client?.ip ?? req.ip;
}

/** Whether the client reached us over HTTPS (directly or via a trusted TLS-terminating proxy). */
export function isSecureRequest(req: FastifyRequest): boolean {
  return (req.client?.proto ?? req.protocol) === 'https';
}
