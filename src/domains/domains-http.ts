// /api/v1/domains: add, list, verify and configure sending domains and their custom tracking domain; the
// control-panel integration endpoint; the ACME HTTP-01 challenge route. Every query is scoped to the
// authenticated account, so another account's id answers 404.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { HttpFeature } from '../http/http-feature.ts';
import { accountOf } from '../http/auth.ts';
import { sendError } from '../http/errors.ts';
import { AppError, conflict, invalid, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { DomainsTable, TrackingDomainsTable } from '../store/schema.ts';
import { createDomain, dnsRecordsFor } from './domain-service.ts';
import { isSubdomainOf, normalizeDomainName, notEligibleError, trackingIneligibility } from './domain-rules.ts';
import { trackingAllowed } from './sending-rules.ts';
import { baseUrlForHostname } from './tracking-base.ts';
import { cnameTargetOf, trackingHostsChanged, verifyDomain, verifyTrackingDomain } from './verification.ts';
import { acmeEnabled, challengeKey, requestCertificate } from './acme.ts';
import { installTrackingHostSource } from './tracking-hosts.ts';

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function trackingDomainView(ctx: AppContext, td: TrackingDomainsTable) {
  return {
    hostname: td.hostname,
    cnameTarget: cnameTargetOf(ctx),
    status: td.status,
    statusReason: td.statusReason,
    /** The base of new mail's pixel and click URLs while this hostname is verified. */
    baseUrl: td.status === 'verified' ? baseUrlForHostname(ctx.config, td) : null,
    https: td.https === 1 && !!ctx.config.httpsPort,
    certificate: { status: td.certStatus, expiresAt: iso(td.certExpiresAt), error: td.certError },
    createdAt: iso(td.createdAt),
    verifiedAt: iso(td.verifiedAt),
    lastCheckedAt: iso(td.lastCheckedAt),
  };
}

export async function domainView(ctx: AppContext, d: DomainsTable) {
  const td = await ctx.store.trackingDomains.active(d.accountId, d.id);
  return {
    id: d.id,
    name: d.name,
    source: d.source,
    status: d.status,
    statusReason: d.statusReason,
    dnsRecords: dnsRecordsFor(d),
    dkimSelector: d.dkimSelector,
    tracking: trackingAllowed(d),
    trackingDomain: td ? trackingDomainView(ctx, td) : null,
    createdAt: iso(d.createdAt),
    verifiedAt: iso(d.verifiedAt),
    lastCheckedAt: iso(d.lastCheckedAt),
  };
}

function settingsView(d: DomainsTable) {
  return {
    openTracking: d.openTracking === 1,
    clickTracking: d.clickTracking === 1,
    pixelPlacement: d.pixelPlacement,
    ipTruncation: d.ipTruncation === 1,
    retentionDays: d.retentionDays,
    /** Whether tracking may be turned on (dashboard + validated), with the reason when not. */
    eligible: !trackingIneligibility(d),
    /** What new mail of this domain gets now. */
    tracking: trackingAllowed(d),
  };
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const nameBody = { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 260 } } } as const;
const tags = ['domains'];

async function owned(ctx: AppContext, accountId: string, id: string): Promise<DomainsTable> {
  const d = await ctx.store.domains.get(accountId, id);
  if (!d) throw notFound('domain');
  return d;
}

function registerApi(api: FastifyInstance, ctx: AppContext) {
  const { store, clock } = ctx;

  api.post<{ Body: { name: string } }>('/domains', { schema: { tags, summary: 'Add a sending domain (returns the DNS records to publish)', body: nameBody } }, async (req, reply) => {
    const d = await createDomain(ctx, accountOf(req), req.body.name, 'dashboard');
    return reply.code(201).send(await domainView(ctx, d));
  });

  api.get('/domains', { schema: { tags, summary: 'List the account\'s domains' } }, async (req) => {
    const rows = await store.domains.list(accountOf(req));
    return { data: await Promise.all(rows.map((d) => domainView(ctx, d))) };
  });

  api.get<{ Params: { id: string } }>('/domains/:id', { schema: { tags, summary: 'A domain with its DNS records, status and tracking state', params: idParams } }, async (req) => {
    return domainView(ctx, await owned(ctx, accountOf(req), req.params.id));
  });

  api.delete<{ Params: { id: string } }>('/domains/:id', { schema: { tags, summary: 'Remove a domain (its tracking hostname keeps answering mail already sent)', params: idParams } }, async (req, reply) => {
    const d = await owned(ctx, accountOf(req), req.params.id);
    await store.trackingDomains.retireForDomain(d.id, clock.now());
    await store.domains.delete(d.accountId, d.id);
    ctx.log.info({ event: 'domains.deleted', accountId: d.accountId, domainId: d.id, domain: d.name }, 'domain removed');
    return reply.code(204).send();
  });

  api.post<{ Params: { id: string } }>('/domains/:id/verify', { schema: { tags, summary: 'Check the domain\'s DNS records now', params: idParams } }, async (req) => {
    const d = await owned(ctx, accountOf(req), req.params.id);
    if (d.source !== 'dashboard') {
      throw conflict('domain_not_verifiable', `${d.name} came in as ${d.source === 'control_panel' ? 'a control-panel domain' : 'a manual_dns sender'}; add it with POST /api/v1/domains to verify it here`);
    }
    const r = await verifyDomain(ctx, d);
    return { id: d.id, name: d.name, status: r.status, statusReason: r.statusReason, checks: r.checks };
  });

  api.get<{ Params: { id: string } }>('/domains/:id/settings', { schema: { tags, summary: 'Tracking and privacy settings of a domain', params: idParams } }, async (req) => {
    return settingsView(await owned(ctx, accountOf(req), req.params.id));
  });

  interface SettingsBody { openTracking?: boolean; clickTracking?: boolean; pixelPlacement?: string; ipTruncation?: boolean; retentionDays?: number }
  api.patch<{ Params: { id: string }; Body: SettingsBody }>(
    '/domains/:id/settings',
    {
      schema: {
        tags,
        summary: 'Change tracking and privacy settings (turning tracking on needs a dashboard-validated domain: 409 domain_not_eligible)',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            openTracking: { type: 'boolean' },
            clickTracking: { type: 'boolean' },
            pixelPlacement: { type: 'string', enum: ['bottom', 'top', 'auto'] },
            ipTruncation: { type: 'boolean' },
            retentionDays: { type: 'integer', minimum: 1, maximum: 3650 },
          },
        },
      },
    },
    async (req) => {
      const d = await owned(ctx, accountOf(req), req.params.id);
      const b = req.body;
      if (b.openTracking === true && trackingIneligibility(d)) throw notEligibleError(d, 'open');
      if (b.clickTracking === true && trackingIneligibility(d)) throw notEligibleError(d, 'click');
      const patch: Partial<DomainsTable> = {};
      if (b.openTracking !== undefined) patch.openTracking = b.openTracking ? 1 : 0;
      if (b.clickTracking !== undefined) patch.clickTracking = b.clickTracking ? 1 : 0;
      if (b.pixelPlacement !== undefined) patch.pixelPlacement = b.pixelPlacement;
      if (b.ipTruncation !== undefined) patch.ipTruncation = b.ipTruncation ? 1 : 0;
      if (b.retentionDays !== undefined) patch.retentionDays = b.retentionDays;
      await store.domains.update(d.accountId, d.id, patch);
      return settingsView({ ...d, ...patch });
    },
  );

  const hostBody = { type: 'object', required: ['hostname'], additionalProperties: false, properties: { hostname: { type: 'string', minLength: 1, maxLength: 260 } } } as const;
  api.put<{ Params: { id: string }; Body: { hostname: string } }>(
    '/domains/:id/tracking-domain',
    { schema: { tags, summary: 'Set the custom tracking hostname (a subdomain, CNAME to the default tracking host)', params: idParams, body: hostBody } },
    async (req) => {
      const d = await owned(ctx, accountOf(req), req.params.id);
      const hostname = normalizeDomainName(req.body.hostname, 'hostname');
      if (!isSubdomainOf(hostname, d.name)) {
        throw invalid(`${hostname} is not a subdomain of ${d.name}: a tracking domain must be under the sending domain, e.g. track.${d.name}`, { hostname: `must be a subdomain of ${d.name}` });
      }
      // Only a domain proven to be the account's may put tracking on its subdomains: otherwise anyone could
      // claim a dangling CNAME that points at us.
      const why = trackingIneligibility(d);
      if (why) throw new AppError('conflict', 'domain_not_eligible', `A custom tracking domain needs ${why.replace(/^tracking needs /, '')}`);
      const now = clock.now();
      const existing = await store.trackingDomains.byHostname(hostname);
      const active = await store.trackingDomains.active(d.accountId, d.id);
      if (existing && (existing.accountId !== d.accountId || existing.domainId !== d.id)) {
        throw conflict('hostname_taken', `${hostname} is already a tracking domain of another domain`);
      }
      if (existing && active && existing.id === active.id) return trackingDomainView(ctx, active);
      if (active) await store.trackingDomains.retireForDomain(d.id, now);
      let row: TrackingDomainsTable;
      if (existing) {
        // Back to a hostname this domain used before: it is checked again before new mail uses it.
        const patch = { retiredAt: null, status: existing.status === 'verified' ? 'verified' : 'pending' };
        await store.trackingDomains.update(existing.id, patch);
        row = { ...existing, ...patch };
      } else {
        row = {
          id: newId('trk_', now), domainId: d.id, accountId: d.accountId, hostname, status: 'pending',
          statusReason: `waiting for the CNAME ${hostname} → ${cnameTargetOf(ctx)} to be published and verified`,
          certPem: null, keyPem: null, certExpiresAt: null, certStatus: acmeEnabled(ctx) ? 'pending' : 'none', certError: null, certAttemptAt: null,
          https: 0, retiredAt: null, createdAt: now, verifiedAt: null, lastCheckedAt: null,
        };
        try {
          await store.trackingDomains.insert(row);
        } catch {
          throw conflict('hostname_taken', `${hostname} is already a tracking domain`);
        }
      }
      ctx.log.info({ event: 'tracking_domains.set', domainId: d.id, hostname }, 'tracking domain set');
      return trackingDomainView(ctx, row);
    },
  );

  async function activeOf(accountId: string, id: string) {
    const d = await owned(ctx, accountId, id);
    const td = await store.trackingDomains.active(accountId, d.id);
    if (!td) throw notFound('tracking domain');
    return td;
  }

  api.get<{ Params: { id: string } }>('/domains/:id/tracking-domain', { schema: { tags, summary: 'The custom tracking hostname, its CNAME status and certificate', params: idParams } }, async (req) => {
    return trackingDomainView(ctx, await activeOf(accountOf(req), req.params.id));
  });

  api.post<{ Params: { id: string } }>('/domains/:id/tracking-domain/verify', { schema: { tags, summary: 'Check the tracking hostname\'s CNAME now (and order its certificate)', params: idParams } }, async (req) => {
    const td = await activeOf(accountOf(req), req.params.id);
    const r = await verifyTrackingDomain(ctx, td);
    let row = (await store.trackingDomains.getById(td.id)) ?? td;
    if (r.status === 'verified' && acmeEnabled(ctx) && row.certStatus !== 'valid' && row.certStatus !== 'issuing') {
      await store.trackingDomains.update(row.id, { certStatus: 'pending' });
      row = { ...row, certStatus: 'pending' };
      requestCertificate(ctx, row);
    }
    return { ...trackingDomainView(ctx, row), checks: [r.check] };
  });

  api.delete<{ Params: { id: string } }>('/domains/:id/tracking-domain', { schema: { tags, summary: 'Stop using the tracking hostname for new mail (mail already sent keeps working)', params: idParams } }, async (req, reply) => {
    const td = await activeOf(accountOf(req), req.params.id);
    await store.trackingDomains.retireForDomain(td.domainId, clock.now());
    trackingHostsChanged(ctx);
    return reply.code(204).send();
  });
}

function keyMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function registerRoot(app: FastifyInstance, ctx: AppContext, apiEnabled: boolean) {
  await installTrackingHostSource(ctx, app);

  // HTTP-01: the CA fetches http://<hostname>/.well-known/acme-challenge/<token>; the hostname is a CNAME
  // to the tracking host, so tracking nodes must answer it too.
  app.get<{ Params: { token: string } }>('/.well-known/acme-challenge/:token', { schema: { hide: true } }, async (req, reply) => {
    const token = req.params.token;
    const value = /^[A-Za-z0-9_-]{10,200}$/.test(token) ? await ctx.store.kv.get(challengeKey(token)) : undefined;
    if (!value) return reply.code(404).type('text/plain').send('no such challenge');
    return reply.type('text/plain').send(value);
  });

  if (!apiEnabled) return;
  app.post<{ Body: { accountId: string; name: string } }>(
    '/api/v1/integrations/control-panel/domains',
    {
      schema: {
        tags: ['integrations'],
        summary: 'A hosting control panel adds a domain to an account (Authorization: Bearer <MAILBEACON_CONTROL_PANEL_KEY>)',
        body: { type: 'object', required: ['accountId', 'name'], additionalProperties: false, properties: { accountId: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 260 } } },
      },
      // Authenticate before the body is read.
      onRequest: async (req, reply) => {
        const key = ctx.config.controlPanelKey;
        if (!key) return sendError(reply, 404, 'integration_off', 'the control-panel integration is off (set MAILBEACON_CONTROL_PANEL_KEY)');
        const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
        if (!m || !keyMatches(m[1], key)) return sendError(reply, 401, 'unauthorized', 'send Authorization: Bearer <control-panel integration key>');
      },
    },
    async (req, reply) => {
      const account = await ctx.store.accounts.get(req.body.accountId);
      if (!account) throw notFound('account');
      const before = await ctx.store.domains.findByName(account.id, normalizeDomainName(req.body.name));
      const d = await createDomain(ctx, account.id, req.body.name, 'control_panel');
      return reply.code(before ? 200 : 201).send(await domainView(ctx, d));
    },
  );
}

export const domainsFeature: HttpFeature = {
  name: 'domains',
  api: registerApi,
  root: (app, ctx, opts) => registerRoot(app, ctx, opts.apiEnabled),
};
