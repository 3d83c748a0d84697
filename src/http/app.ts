// Builds the HTTP application: health, metrics, OpenAPI, /api/v1 behind auth, and every feature's routes.
import http from 'node:http';
import type { Counter } from 'prom-client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AppContext } from '../app-context.ts';
import { apiAuthHook } from './auth.ts';
import { errorHandler, sendError } from './errors.ts';
import type { HttpFeature } from './http-feature.ts';
import { installClientAddress } from './proxy.ts';
import { apiRateLimitHook } from './rate-limit.ts';
import { installFastPath, type FastRoute } from './fast-path.ts';

export interface HttpAppOptions {
  features: HttpFeature[];
  /** Whether /api/v1 and the dashboard are served here (role http); tracking-only nodes leave them out. */
  apiEnabled?: boolean;
}

export async function buildHttpApp(ctx: AppContext, opts: HttpAppOptions): Promise<FastifyInstance> {
  // Features' raw handlers run before Fastify routing (the tracking pixel's hot path).
  const raw = opts.features.map((f) => f.raw?.(ctx)).filter((h): h is NonNullable<typeof h> => !!h);
  const fast = ctx.config.httpFastPath ? opts.features.map((f) => f.fast?.(ctx)).filter((r): r is FastRoute => !!r) : [];
  const handoffName = 'mailbeacon_http_fast_path_handoffs_total';
  const handoffs = fast.length
    ? ((ctx.metrics.registry.getSingleMetric(handoffName) as Counter | undefined) ??
      ctx.metrics.counter(handoffName, 'Connections the HTTP fast path (pixel) handed to the full HTTP server because a request was not a simple pixel load'))
    : undefined;
  const app = Fastify({
    ...(raw.length
      ? {
          serverFactory: (handler: http.RequestListener) => {
            const server = http.createServer((req, res) => {
              for (const h of raw) if (h(req, res)) return;
              handler(req, res);
            });
            if (fast.length) installFastPath(server, fast, { handoff: () => handoffs?.inc() });
            return server;
          },
        }
      : {}),
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    // Our own onResponse hook logs one http.request line per request (with a stable event name).
    logController: new LogController({ disableRequestLogging: true }),
    // Proxy headers are handled by installClientAddress (Forwarded + X-Forwarded-*, right-most untrusted hop).
    trustProxy: false,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });
  installClientAddress(app, ctx);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', 'no such route'));

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
    if (req.routeOptions.config?.quiet) return;
    ctx.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    req.log.info({ event: 'http.request', method: req.method, route, status: reply.statusCode, ip: req.ip, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  const apiEnabled = opts.apiEnabled !== false;
  if (apiEnabled) {
    await app.register(swagger, {
      openapi: {
        info: { title: 'Mailbeacon API', version: '1', description: 'Send mail, manage domains and tracking, read events and stats. Authenticate with `Authorization: Bearer <apiKey>`.' },
        components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
        security: [{ apiKey: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs' });
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  }

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const ok = await ctx.store.ping();
    return reply.code(ok ? 200 : 503).send({ ok, store: ok ? 'reachable' : 'unreachable' });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  if (apiEnabled) {
    const authenticators = opts.features.flatMap((f) => f.authenticators?.(ctx) ?? []);
    const rateLimit = apiRateLimitHook(ctx);
    await app.register(
      async (api) => {
        if (rateLimit) api.addHook('onRequest', rateLimit);
        api.addHook('onRequest', apiAuthHook(ctx, authenticators));
        for (const f of opts.features) await f.api?.(api, ctx);
      },
      { prefix: '/api/v1' },
    );
  }
  for (const f of opts.features) await f.root?.(app, ctx, { apiEnabled });
  return app;
}
