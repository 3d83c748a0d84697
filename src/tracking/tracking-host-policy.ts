// Which hostnames the tracking routes answer for: the host of MAILBEACON_PUBLIC_URL (the default tracking
// host), plus whatever the registered host sources accept (verified custom tracking domains, added by the
// domains feature with `trackingHosts(ctx).registerHostSource(...)`). Checked on every pixel/click request,
// so sources must answer synchronously from memory (keep your own cache, refresh it in the background).
import type { AppContext } from '../app-context.ts';
import { normalizeHost } from './tokens.ts';

/** Answers whether a normalized hostname (lowercase, no port, no trailing dot) is a tracking host. */
export type HostSource = (host: string) => boolean;

export class TrackingHostPolicy {
  private readonly fixed: Set<string>;
  private readonly sources: HostSource[] = [];

  constructor(hosts: string[], sources: HostSource[] = []) {
    this.fixed = new Set(hosts.map(normalizeHost));
    this.sources.push(...sources);
  }

  /** Adds a source of extra hostnames (e.g. verified custom tracking domains). */
  registerHostSource(source: HostSource): void {
    this.sources.push(source);
  }

  /** `host` as sent in the Host header (any case, with or without port). */
  allows(host: string | undefined): boolean {
    if (!host) return false;
    const h = normalizeHost(host);
    if (this.fixed.has(h)) return true;
    for (const s of this.sources) {
      try {
        if (s(h)) return true;
      } catch {
        /* a failing source never breaks the pixel */
      }
    }
    return false;
  }
}

const policies = new WeakMap<AppContext, TrackingHostPolicy>();

/** The policy of this app instance (one per context), created with the default tracking host. */
export function trackingHosts(ctx: AppContext): TrackingHostPolicy {
  let p = policies.get(ctx);
  if (!p) {
    p = new TrackingHostPolicy([new URL(ctx.config.publicUrl).host]);
    policies.set(ctx, p);
  }
  return p;
}
