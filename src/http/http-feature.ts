import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { Authenticator } from './auth.ts';

/** A feature's HTTP surface. Each feature module exports one; http/features.ts lists them. */
export interface HttpFeature {
  name: string;
  /** Routes under /api/v1, behind authentication; handlers call accountOf(req). */
  api?(api: FastifyInstance, ctx: AppContext): void | Promise<void>;
  /** Routes outside /api/v1: tracking, dashboard, ACME challenges. */
  root?(app: FastifyInstance, ctx: AppContext): void | Promise<void>;
  /** Extra ways to authenticate /api/v1 requests (the dashboard's session cookie). */
  authenticators?(ctx: AppContext): Authenticator[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Hot-path routes (pixel, click) skip the per-request info log line. */
    quiet?: boolean;
  }
}
