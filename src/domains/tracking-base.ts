// The base URL that new mail's pixel and click URLs are built on: the domain's verified custom tracking
// hostname when it has one, else the default tracking host (MAILBEACON_PUBLIC_URL).
import type { AppContext } from '../app-context.ts';
import type { Config } from '../config/schema.ts';
import type { DomainsTable, TrackingDomainsTable } from '../store/schema.ts';

/**
 * Pure: the base URL for a tracking hostname. https when it has a certificate and this deployment runs an
 * HTTPS listener (the port is added unless it is 443); otherwise http on the port the default tracking
 * host uses (its CNAME leads to the same listener), or 80 when the public URL is https (a proxy in front
 * has no certificate for the custom name).
 */
export function baseUrlForHostname(config: Pick<Config, 'publicUrl' | 'httpsPort'>, td: Pick<TrackingDomainsTable, 'hostname' | 'https' | 'certPem'>): string {
  if (td.https === 1 && td.certPem && config.httpsPort) {
    return config.httpsPort === 443 ? `https://${td.hostname}` : `https://${td.hostname}:${config.httpsPort}`;
  }
  const pub = new URL(config.publicUrl);
  const port = pub.protocol === 'http:' && pub.port ? `:${pub.port}` : '';
  return `http://${td.hostname}${port}`;
}

/** Base URL for pixel/click URLs of new mail from this domain. */
export async function trackingBaseFor(ctx: AppContext, domain: DomainsTable): Promise<string> {
  const td = await ctx.store.trackingDomains.active(domain.accountId, domain.id);
  if (!td || td.status !== 'verified') return ctx.config.publicUrl;
  return baseUrlForHostname(ctx.config, td);
}
