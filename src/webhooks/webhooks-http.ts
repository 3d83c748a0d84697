// /api/v1/webhooks: create (secret shown once), list, read, update, delete, send a test event, the
// delivery log with every attempt, and replay.
import type { HttpFeature } from '../http/http-feature.ts';
import { accountOf } from '../http/auth.ts';
import type { AppContext } from '../app-context.ts';
import { invalid, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { resolveDomainParam } from '../events/domain-param.ts';
import type { WebhookDeliveriesTable, WebhooksTable } from '../store/schema.ts';
import type { AttemptRow } from '../store/webhooks-repo.ts';
import { newDelivery, WEBHOOK_EVENT_TYPES, webhookEvents } from './fanout.ts';
import { newWebhookSecret, sealSecret } from './signing.ts';
import { parseWebhookUrl, resolveDestination } from './ssrf.ts';
import { systemResolver } from './sender.ts';
import { dispatcherOf } from './dispatcher.ts';

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

function view(w: WebhooksTable) {
  return { id: w.id, url: w.url, events: webhookEvents(w), domainId: w.domainId, enabled: !!w.enabled, disabledReason: w.disabledReason, createdAt: iso(w.createdAt), updatedAt: iso(w.updatedAt) };
}

function deliveryView(d: WebhookDeliveriesTable, attempts: AttemptRow[]) {
  return {
    id: d.id, eventId: d.eventId, type: d.type, status: d.status, attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    lastStatusCode: d.lastStatusCode, lastError: d.lastError, replayOf: d.replayOf, createdAt: iso(d.createdAt), completedAt: iso(d.completedAt),
    attemptLog: attempts.map((a) => ({ attempt: a.attempt, at: iso(a.startedAt), durationMs: a.durationMs, statusCode: a.statusCode, error: a.error, outcome: a.outcome })),
  };
}

/** Refuses URLs that are malformed or reach private/special-use addresses (unless allowed by config). */
async function checkUrl(ctx: AppContext, raw: string): Promise<string> {
  const u = parseWebhookUrl(raw);
  await resolveDestination(u, systemResolver, ctx.config.webhookAllowPrivate);
  return u.toString();
}

const eventsSchema = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } } as const;
const idParams = { type: 'object', properties: { id: { type: 'string' } } } as const;

interface CreateBody { url: string; events: string[]; domain?: string }
interface UpdateBody { url?: string; events?: string[]; domain?: string | null; enabled?: boolean }

export const webhooksFeature: HttpFeature = {
  name: 'webhooks',
  api(api, ctx) {
    const { store, clock } = ctx;
    const load = async (accountId: string, id: string) => {
      const w = await store.webhooks.get(accountId, id);
      if (!w) throw notFound('webhook');
      return w;
    };

    api.post<{ Body: CreateBody }>(
      '/webhooks',
      {
        schema: {
          tags: ['webhooks'], summary: 'Create a webhook (the signing secret is shown once)',
          body: { type: 'object', required: ['url', 'events'], additionalProperties: false, properties: { url: { type: 'string', maxLength: 2000 }, events: eventsSchema, domain: { type: 'string', description: 'Domain id or name: only events of this domain' } } },
        },
      },
      async (req, reply) => {
        const accountId = accountOf(req);
        const url = await checkUrl(ctx, req.body.url);
        const domainId = req.body.domain ? await resolveDomainParam(store, accountId, req.body.domain) : null;
        const now = clock.now();
        const secret = newWebhookSecret();
        const row: WebhooksTable = {
          id: newId('wh_', now), accountId, url, events: JSON.stringify(req.body.events), domainId, secretEnc: sealSecret(ctx.secret, secret),
          enabled: 1, disabledReason: null, fromEventId: await store.eventsRead.maxId(), createdAt: now, updatedAt: now,
        };
        await store.webhooks.insert(row);
        ctx.log.info({ event: 'webhooks.created', webhookId: row.id, accountId }, 'webhook created');
        return reply.code(201).send({ ...view(row), secret });
      },
    );

    api.get('/webhooks', { schema: { tags: ['webhooks'], summary: 'List webhooks (never the secret)' } }, async (req) => ({
      data: (await store.webhooks.list(accountOf(req))).map(view),
    }));

    api.get<{ Params: { id: string } }>('/webhooks/:id', { schema: { tags: ['webhooks'], summary: 'One webhook', params: idParams } }, async (req) => view(await load(accountOf(req), req.params.id)));

    api.patch<{ Params: { id: string }; Body: UpdateBody }>(
      '/webhooks/:id',
      {
        schema: {
          tags: ['webhooks'], summary: 'Change URL, events or domain; enable again after a 410', params: idParams,
          body: { type: 'object', additionalProperties: false, properties: { url: { type: 'string', maxLength: 2000 }, events: eventsSchema, domain: { type: ['string', 'null'] }, enabled: { type: 'boolean' } } },
        },
      },
      async (req) => {
        const accountId = accountOf(req);
        const w = await load(accountId, req.params.id);
        const patch: Partial<WebhooksTable> = { updatedAt: clock.now() };
        if (req.body.url !== undefined) patch.url = await checkUrl(ctx, req.body.url);
        if (req.body.events !== undefined) patch.events = JSON.stringify(req.body.events);
        if (req.body.domain !== undefined) patch.domainId = req.body.domain === null ? null : await resolveDomainParam(store, accountId, req.body.domain);
        if (req.body.enabled !== undefined) {
          patch.enabled = req.body.enabled ? 1 : 0;
          patch.disabledReason = req.body.enabled ? null : 'disabled by the user';
        }
        await store.webhooks.update(accountId, w.id, patch);
        if (patch.enabled) dispatcherOf(ctx)?.kick();
        return view({ ...w, ...patch });
      },
    );

    api.delete<{ Params: { id: string } }>('/webhooks/:id', { schema: { tags: ['webhooks'], summary: 'Delete a webhook and its delivery log', params: idParams } }, async (req, reply) => {
      if (!(await store.webhooks.delete(accountOf(req), req.params.id))) throw notFound('webhook');
      return reply.code(204).send();
    });

    api.post<{ Params: { id: string } }>('/webhooks/:id/test', { schema: { tags: ['webhooks'], summary: 'Queue a signed test event to this webhook', params: idParams } }, async (req, reply) => {
      const w = await load(accountOf(req), req.params.id);
      const now = clock.now();
      const eventId = `evt_test_${newId('', now)}`;
      const payload = JSON.stringify({ id: eventId, type: 'test', createdAt: iso(now), data: { webhookId: w.id, message: 'A test event from Mailbeacon.' } });
      const d = newDelivery(w, eventId, 'test', payload, now);
      await store.webhooks.insertDeliveries([d]);
      dispatcherOf(ctx)?.kick();
      return reply.code(202).send({ deliveryId: d.id, eventId });
    });

    api.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string; status?: string } }>(
      '/webhooks/:id/deliveries',
      {
        schema: {
          tags: ['webhooks'], summary: 'The delivery log, newest first, with every attempt', params: idParams,
          querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: { type: 'string' }, status: { type: 'string', enum: ['pending', 'succeeded', 'dead', 'gone'] } } },
        },
      },
      async (req) => {
        const accountId = accountOf(req);
        const w = await load(accountId, req.params.id);
        const limit = req.query.limit ?? 50;
        let beforeId: string | undefined;
        if (req.query.cursor) {
          beforeId = Buffer.from(req.query.cursor, 'base64url').toString('utf8');
          if (!/^whd_[0-9a-z]{26}$/.test(beforeId)) throw invalid('cursor is not valid', { cursor: 'not a cursor this API returned' });
        }
        const rows = await store.webhooks.listDeliveries(accountId, w.id, { beforeId, limit: limit + 1, status: req.query.status });
        const hasMore = rows.length > limit;
        const page = hasMore ? rows.slice(0, limit) : rows;
        const attempts = await store.webhooks.attemptsOf(page.map((d) => d.id));
        return {
          data: page.map((d) => deliveryView(d, attempts.filter((a) => a.deliveryId === d.id))),
          hasMore,
          nextCursor: hasMore ? Buffer.from(page[page.length - 1].id, 'utf8').toString('base64url') : null,
        };
      },
    );

    api.get<{ Params: { id: string; deliveryId: string } }>(
      '/webhooks/:id/deliveries/:deliveryId',
      { schema: { tags: ['webhooks'], summary: 'One delivery with its attempts and the exact body sent' } },
      async (req) => {
        const d = await store.webhooks.getDelivery(accountOf(req), req.params.id, req.params.deliveryId);
        if (!d) throw notFound('delivery');
        return { ...deliveryView(d, await store.webhooks.attemptsOf([d.id])), payload: JSON.parse(d.payload) };
      },
    );

    api.post<{ Params: { id: string; deliveryId: string } }>(
      '/webhooks/:id/deliveries/:deliveryId/replay',
      { schema: { tags: ['webhooks'], summary: 'Send a delivery again (same event id and body, new delivery)' } },
      async (req, reply) => {
        const accountId = accountOf(req);
        const w = await load(accountId, req.params.id);
        const d = await store.webhooks.getDelivery(accountId, w.id, req.params.deliveryId);
        if (!d) throw notFound('delivery');
        const copy = newDelivery(w, d.eventId, d.type, d.payload, clock.now(), d.id);
        await store.webhooks.insertDeliveries([copy]);
        dispatcherOf(ctx)?.kick();
        return reply.code(202).send({ deliveryId: copy.id, eventId: copy.eventId, replayOf: d.id });
      },
    );
  },
};
