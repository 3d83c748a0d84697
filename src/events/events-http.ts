// GET /api/v1/events (cursor-paged) and GET /api/v1/events/export (csv or ndjson, streamed).
import { Readable } from 'node:stream';
import type { HttpFeature } from '../http/http-feature.ts';
import { accountOf } from '../http/auth.ts';
import { invalid } from '../domain/errors.ts';
import { encodeCursor, parseEventQuery, PUBLIC_EVENT_TYPES, type EventFilter, type EventQuery } from './filters.ts';
import { csvHeader, csvRow, ndjsonLine, toPublicEvent } from './public-event.ts';
import { resolveDomainParam } from './domain-param.ts';
import type { AppContext } from '../app-context.ts';

const filterProps = {
  type: { type: 'string', description: `Comma list of ${PUBLIC_EVENT_TYPES.join(', ')}` },
  domain: { type: 'string', description: 'Domain id or domain name' },
  messageId: { type: 'string', description: 'Mailbeacon message id (msg_…)' },
  recipient: { type: 'string', description: 'Recipient address (exact, case-insensitive)' },
  since: { type: 'string', description: 'ISO-8601 time or epoch ms, inclusive' },
  until: { type: 'string', description: 'ISO-8601 time or epoch ms, exclusive' },
  human: { type: 'string', enum: ['true', 'false'], description: 'Only opens/clicks classified human (true) or machine (false)' },
  cursor: { type: 'string', description: 'nextCursor of the previous page' },
} as const;

async function filterOf(ctx: AppContext, accountId: string, q: EventQuery, maxLimit?: number): Promise<EventFilter> {
  const f = parseEventQuery(q, maxLimit);
  if (f.domain) f.domainId = await resolveDomainParam(ctx.store, accountId, f.domain);
  return f;
}

export const eventsFeature: HttpFeature = {
  name: 'events',
  api(api, ctx) {
    api.get<{ Querystring: EventQuery }>(
      '/events',
      {
        schema: {
          tags: ['events'],
          summary: 'List events, oldest first, with stable cursor paging',
          querystring: { type: 'object', properties: { ...filterProps, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        },
      },
      async (req) => {
        const accountId = accountOf(req);
        const f = await filterOf(ctx, accountId, req.query);
        // One row more than asked tells whether another page exists without a count.
        const rows = await ctx.store.eventsRead.page(accountId, f, f.limit + 1);
        const hasMore = rows.length > f.limit;
        const page = hasMore ? rows.slice(0, f.limit) : rows;
        const last = page.length ? page[page.length - 1].id : f.afterId;
        return { data: page.map(toPublicEvent), hasMore, nextCursor: last === undefined ? null : encodeCursor(last) };
      },
    );

    api.get<{ Querystring: EventQuery & { format?: string } }>(
      '/events/export',
      {
        schema: {
          tags: ['events'],
          summary: 'Export every matching event as CSV or NDJSON (streamed)',
          querystring: { type: 'object', properties: { ...filterProps, format: { type: 'string', enum: ['csv', 'ndjson'], default: 'ndjson' } } },
        },
      },
      async (req, reply) => {
        const accountId = accountOf(req);
        const { format = 'ndjson', ...q } = req.query;
        if (q.limit !== undefined) throw invalid('export takes no limit', { limit: 'not allowed on export' });
        const f = await filterOf(ctx, accountId, q);
        const rows = ctx.store.eventsRead.iterate(accountId, f, 2000);
        // Readable.from pulls the next chunk only when the socket has drained the last one: backpressure
        // keeps memory constant whatever the row count.
        async function* lines() {
          if (format === 'csv') yield csvHeader();
          for await (const chunk of rows) {
            let out = '';
            for (const e of chunk) out += format === 'csv' ? csvRow(e) : ndjsonLine(e);
            yield out;
          }
        }
        const stamp = new Date(ctx.clock.now()).toISOString().replace(/[:.]/g, '-');
        reply
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
          .header('content-disposition', `attachment; filename="events-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`);
        return reply.send(Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 }));
      },
    );
  },
};
