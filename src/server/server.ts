// `mailbeacon serve`: every role in one process by default (HTTP API + dashboard + tracking on the HTTP
// port, SMTP on the SMTP port, background workers). Shuts down gracefully: stop accepting, finish in-flight
// work, close the store.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';
import { buildHttpApp } from '../http/app.ts';
import { allFeatures } from '../http/features.ts';
import type { Role, Service } from './service.ts';
import { serviceFactories } from './services.ts';
import { ensureDemoAccount } from './demo-account.ts';

export interface RunningServer {
  ctx: AppContext;
  http?: FastifyInstance;
  httpPort?: number;
  services: Service[];
  /** Ports services bound, by service name (smtp, https), for tests started on port 0. */
  ports: Record<string, number>;
  stop(): Promise<void>;
}

export interface StartOptions {
  roles?: Role[];
  /** Print the demo account to this function (default: stdout) when the store is empty. */
  announce?: (text: string) => void;
  demoAccount?: boolean;
}

export async function startServer(ctx: AppContext, opts: StartOptions = {}): Promise<RunningServer> {
  const roles = new Set<Role>(opts.roles ?? (ctx.config.roles as Role[]));
  const ports: Record<string, number> = {};
  if (opts.demoAccount !== false && roles.has('http')) await ensureDemoAccount(ctx, opts.announce ?? ((t) => process.stdout.write(t)));

  const services: Service[] = [];
  for (const f of serviceFactories) {
    const s = await f(ctx, roles);
    if (s) services.push(...(Array.isArray(s) ? s : [s]));
  }

  // Services (SMTP, workers) start before the HTTP listener, so /healthz answering means everything is up
  // (a supervisor or test that signals the process after /healthz never catches it half-started).
  for (const s of services) {
    await s.start();
    const p = (s as Service & { port?: number }).port;
    if (typeof p === 'number') ports[s.name] = p;
  }
  let http: FastifyInstance | undefined;
  let httpPort: number | undefined;
  if (roles.has('http') || roles.has('tracking')) {
    // A node answers only for its roles: pixels and clicks need `tracking`, the dashboard needs `http`
    // (ACME challenges and health stay on every HTTP listener).
    const features = allFeatures().filter((f) => (f.name !== 'tracking' || roles.has('tracking')) && (f.name !== 'dashboard' || roles.has('http')));
    http = await buildHttpApp(ctx, { features, apiEnabled: roles.has('http') });
    await http.listen({ host: ctx.config.host, port: ctx.config.httpPort });
    const addr = http.server.address();
    httpPort = typeof addr === 'object' && addr ? addr.port : ctx.config.httpPort;
    ports.http = httpPort;
  }
  // Services that serve the same routes on another listener (HTTPS for tracking domains) get the app now.
  if (http) for (const s of services) s.attachHttp?.(http);
  ctx.log.info({ event: 'server.started', roles: [...roles], ports, node: ctx.nodeId }, 'mailbeacon started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      ctx.log.info({ event: 'server.stopping' }, 'stopping');
      // Stop front doors first so no new work arrives, then drain background services, then the store.
      await Promise.allSettled([http?.close(), ...services.map((s) => s.stop())]);
      await ctx.store.close();
      ctx.log.info({ event: 'server.stopped' }, 'stopped');
      ctx.log.flush?.();
    })());
  return { ctx, http, httpPort, services, ports, stop };
}
