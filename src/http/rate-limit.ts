// Rate limit for /api/v1: a token bucket per API key (the SHA-256 of the bearer token, so keys are never
// kept in memory in clear) or, for requests without one (dashboard session, anonymous), per client address.
// Each bucket holds MAILBEACON_API_RATE_LIMIT tokens and refills at that many per minute, so a client may
// burst up to the limit and then runs at the sustained rate. Over the limit: 429 with Retry-After and the
// usual JSON error shape. Kept in memory per node (like the login limit): N nodes allow N times the rate.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.ts';
import { sendError } from './errors.ts';

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(private readonly capacity: number, perMinute: number) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token for `key`: 0 when allowed, else milliseconds until a token is available. */
  take(key: string, now: number): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 100_000) this.evict(now);
      b = { tokens: this.capacity, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + Math.max(0, now - b.at) * this.perMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.perMs);
  }

  /** Bounds memory under a flood of distinct keys: full buckets carry no information, drop them first. */
  private evict(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.capacity) this.buckets.delete(k);
    }
    if (this.buckets.size >= 100_000) this.buckets.clear();
  }
}

/** The onRequest hook for /api/v1 (runs before authentication, so failed attempts are limited too). */
export function apiRateLimitHook(ctx: AppContext) {
  const limit = ctx.config.apiRateLimit;
  if (!limit) return undefined;
  const buckets = new TokenBuckets(limit, limit);
  const limited = ctx.metrics.counter('mailbeacon_api_rate_limited_total', 'API requests refused with 429 by the per-key / per-address rate limit');
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const key = m ? `k:${createHash('sha256').update(m[1]).digest('base64url')}` : `ip:${req.ip}`;
    const wait = buckets.take(key, ctx.clock.now());
    if (!wait) return;
    limited.inc();
    reply.header('Retry-After', String(Math.max(1, Math.ceil(wait / 1000))));
    return sendError(reply, 429, 'rate_limited', `too many requests: at most ${limit} per minute, try again later`);
  };
}
