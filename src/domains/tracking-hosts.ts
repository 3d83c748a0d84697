// Feeds the tracking host policy (src/tracking/tracking-host-policy.ts) with the custom tracking hostnames
// that are served: verified ones, active or retired (mail already sent keeps working), never dangling or
// unverified ones. The policy asks synchronously on every pixel, so the set lives in memory and is reloaded
// from the store every few seconds (other nodes' changes) and at once on a local change.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';
import { trackingHosts } from '../tracking/tracking-host-policy.ts';
import { onTrackingHostsChanged } from './verification.ts';

export const HOSTS_REFRESH_MS = 3_000;

const installed = new WeakSet<AppContext>();

export async function installTrackingHostSource(ctx: AppContext, app: FastifyInstance): Promise<void> {
  if (installed.has(ctx)) return;
  installed.add(ctx);
  let served = new Set<string>();
  let closed = false;
  const refresh = async () => {
    if (closed) return;
    try {
      served = new Set(await ctx.store.trackingDomains.servedHostnames());
    } catch (err) {
      // Keep the last known set: a store hiccup must not take custom hostnames offline.
      ctx.log.warn({ event: 'tracking_domains.refresh_failed', err }, 'could not reload tracking hostnames');
    }
  };
  await refresh();
  trackingHosts(ctx).registerHostSource((host) => served.has(host));
  const timer = setInterval(() => { void refresh(); }, HOSTS_REFRESH_MS);
  timer.unref();
  const unsubscribe = onTrackingHostsChanged(ctx, () => { void refresh(); });
  app.addHook('onClose', async () => {
    closed = true;
    clearInterval(timer);
    unsubscribe();
    installed.delete(ctx);
  });
}
