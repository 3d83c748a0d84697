import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { Authenticator } from './auth.ts';
import type { FastRoute } from './fast-path.ts';

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** A feature's HTTP surface. Each feature module exports one; http/features.ts lists them. */
export interface HttpFeature {
  name: string;
  /** Routes under /api/v1, behind authentication; handlers call accountOf(req). */
  api?(api: FastifyInstance, ctx: AppContext): void | Promise<void>;
  /**
   * Routes outside /api/v1: tracking, dashboard, ACME challenges. `apiEnabled` is false on tracking-only
   * nodes, which must not serve anything but tracking.
   */
  root?(app: FastifyInstance, ctx: AppContext, opts: { apiEnabled: boolean }): void | Promise<void>;
  /**
   * A handler that sees each raw request before Fastify does (hot paths such as the tracking pixel, where
   * Fastify's per-request work would dominate). Returns true when it answered the request.
   */
  raw?(ctx: AppContext): RawHandler | undefined;
  /**
   * A route answered on the HTTP fast path (http/fast-path.ts), at the socket, before Node's HTTP parser: only
   * for simple GET/HEAD requests with a fixed answer (the pixel). The same requests must also be handled by
   * `raw` (connections handed to Node's HTTP server, the HTTPS listener, inject()).
   */
  fast?(ctx: AppContext): FastRoute | undefined;
  /** Extra ways to authenticate /api/v1 requests (the dashboard's session cookie). */
  authenticators?(ctx: AppContext): Authenticator[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Hot-path routes (pixel, click) skip the per-request info log line. */
    quiet?: boolean;
  }
}
