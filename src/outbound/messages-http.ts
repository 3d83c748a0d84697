// The send API and the messages API: POST /api/v1/messages (JSON or raw MIME) → 202 once committed;
// GET /api/v1/messages/{id} (each recipient's status, attempts, events); GET /api/v1/messages (filters,
// cursor paging). Every query is scoped to the authenticated account.
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import type { FastifyInstance } from 'fastify';
import type { HttpFeature } from '../http/http-feature.ts';
import { accountOf } from '../http/auth.ts';
import { invalid, notFound } from '../domain/errors.ts';
import type { AppContext } from '../app-context.ts';
import { acceptanceFor } from './acceptance.ts';
import { isAddress } from './message-headers.ts';

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

interface JsonAttachment {
  filename?: string;
  contentType?: string;
  content?: string;
}

interface SendBody {
  from?: string;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string;
  subject?: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: JsonAttachment[];
  track?: { opens?: boolean; clicks?: boolean };
  raw?: string;
  envelope?: { from?: string; to?: string[] };
}

const addressList = { type: 'array', items: { type: 'string', maxLength: 998 }, maxItems: 1000 };
const sendSchema = {
  tags: ['messages'],
  summary: 'Send a message (JSON fields or raw MIME); 202 once it is durably queued',
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: { type: 'string', maxLength: 998, description: 'From: address, e.g. "Shop <news@example.com>"' },
      to: addressList,
      cc: addressList,
      bcc: addressList,
      replyTo: { type: 'string', maxLength: 998 },
      subject: { type: 'string', maxLength: 998 },
      text: { type: 'string' },
      html: { type: 'string' },
      headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 998 } },
      attachments: {
        type: 'array',
        maxItems: 100,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['filename', 'content'],
          properties: { filename: { type: 'string', maxLength: 255 }, contentType: { type: 'string', maxLength: 255 }, content: { type: 'string', description: 'base64' } },
        },
      },
      track: { type: 'object', additionalProperties: false, properties: { opens: { type: 'boolean' }, clicks: { type: 'boolean' } } },
      raw: { type: 'string', description: 'The whole message as base64 MIME (then envelope is required)' },
      envelope: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: { from: { type: 'string', maxLength: 998 }, to: addressList },
      },
    },
  },
  response: {
    202: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        messageId: { type: 'string' },
        recipients: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' } } } },
      },
    },
  },
};

const HEADER_NAME = /^[!-9;-~]+$/;
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;
const hasCrLf = (s: string) => /[\r\n]/.test(s);

/** The plain addresses of a list of "Name <addr>" / "addr" strings; problems go to fields[key]. */
function parseAddresses(list: string[] | undefined, key: string, fields: Record<string, string>): string[] {
  const out: string[] = [];
  (list ?? []).forEach((entry, i) => {
    if (hasCrLf(entry)) {
      fields[`${key}.${i}`] = 'must not contain CR or LF';
      return;
    }
    const parsed = addressparser(entry, { flatten: true });
    if (!parsed.length || parsed.some((a) => !isAddress(a.address))) fields[`${key}.${i}`] = `${JSON.stringify(entry)} is not a valid address`;
    else out.push(...parsed.map((a) => a.address));
  });
  return out;
}

async function buildFromJson(b: SendBody, fields: Record<string, string>): Promise<{ raw: Buffer; mailFrom: string; recipients: string[] } | undefined> {
  if (!b.from) fields.from = 'required';
  const from = b.from ? parseAddresses([b.from], 'from', fields) : [];
  if (fields['from.0']) {
    fields.from = fields['from.0'];
    delete fields['from.0'];
  }
  const to = parseAddresses(b.to, 'to', fields);
  const cc = parseAddresses(b.cc, 'cc', fields);
  const bcc = parseAddresses(b.bcc, 'bcc', fields);
  if (!to.length && !cc.length && !bcc.length && !Object.keys(fields).some((k) => /^(to|cc|bcc)\./.test(k))) fields.to = 'at least one recipient in to, cc or bcc';
  if (b.replyTo !== undefined) {
    parseAddresses([b.replyTo], 'replyTo', fields);
    if (fields['replyTo.0']) {
      fields.replyTo = fields['replyTo.0'];
      delete fields['replyTo.0'];
    }
  }
  if (b.subject !== undefined && hasCrLf(b.subject)) fields.subject = 'must not contain CR or LF';
  if (b.text === undefined && b.html === undefined) fields.text = 'text or html is required';
  for (const [name, value] of Object.entries(b.headers ?? {})) {
    if (!HEADER_NAME.test(name)) fields[`headers.${name}`] = 'not a valid header name';
    else if (hasCrLf(value)) fields[`headers.${name}`] = 'must not contain CR or LF';
  }
  (b.attachments ?? []).forEach((a, i) => {
    if (a.filename && hasCrLf(a.filename)) fields[`attachments.${i}.filename`] = 'must not contain CR or LF';
    if (a.contentType && (hasCrLf(a.contentType) || !/^[\w.+-]+\/[\w.+-]+$/.test(a.contentType))) fields[`attachments.${i}.contentType`] = 'expected type/subtype';
    if (!a.content || !BASE64.test(a.content)) fields[`attachments.${i}.content`] = 'expected base64';
  });
  if (Object.keys(fields).length) return undefined;
  const composer = new MailComposer({
    from: b.from,
    to: b.to,
    cc: b.cc,
    bcc: b.bcc,
    replyTo: b.replyTo,
    subject: b.subject ?? '',
    text: b.text,
    html: b.html,
    headers: b.headers,
    attachments: (b.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content!, 'base64') })),
  });
  // MailComposer leaves Bcc out of the built message: Bcc recipients get the copy without being shown.
  const raw: Buffer = await new Promise((resolve, reject) => composer.compile().build((err, msg) => (err ? reject(err) : resolve(msg))));
  return { raw, mailFrom: from[0], recipients: [...to, ...cc, ...bcc] };
}

function buildFromRaw(b: SendBody, fields: Record<string, string>): { raw: Buffer; mailFrom: string; recipients: string[] } | undefined {
  if (!b.raw || !BASE64.test(b.raw)) fields.raw = 'expected base64 MIME';
  if (!b.envelope) fields.envelope = 'required with raw';
  else {
    if (!b.envelope.from || hasCrLf(b.envelope.from) || !isAddress(b.envelope.from)) fields['envelope.from'] = 'expected an address';
    if (!b.envelope.to?.length) fields['envelope.to'] = 'at least one recipient';
    (b.envelope.to ?? []).forEach((t, i) => {
      if (hasCrLf(t) || !isAddress(t)) fields[`envelope.to.${i}`] = `${JSON.stringify(t)} is not a valid address`;
    });
  }
  for (const k of ['from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'text', 'html', 'headers', 'attachments'] as const) {
    if (b[k] !== undefined) fields[k] = 'not allowed together with raw';
  }
  if (Object.keys(fields).length) return undefined;
  const raw = Buffer.from(b.raw!, 'base64');
  if (!raw.length) {
    fields.raw = 'empty message';
    return undefined;
  }
  return { raw, mailFrom: b.envelope!.from!, recipients: b.envelope!.to! };
}

async function messageDetail(ctx: AppContext, accountId: string, id: string) {
  const m = await ctx.store.messages.get(accountId, id);
  if (!m) throw notFound('message');
  const [copies, attempts, events] = await Promise.all([
    ctx.store.messages.copiesOf(accountId, [id]),
    ctx.store.messages.attemptsOf(accountId, id),
    ctx.store.messages.eventsOf(accountId, id),
  ]);
  return {
    id: m.id,
    messageId: m.messageIdHeader,
    from: m.fromAddress,
    mailFrom: m.mailFrom,
    subject: m.subject,
    source: m.source,
    size: m.size,
    domainId: m.domainId,
    track: { opens: m.trackOpens == null ? null : m.trackOpens === 1, clicks: m.trackClicks == null ? null : m.trackClicks === 1 },
    createdAt: iso(m.createdAt),
    recipients: copies.map((c) => ({
      id: c.id,
      email: c.recipient,
      status: c.status,
      attempts: c.attempts,
      nextAttemptAt: c.status === 'queued' || c.status === 'deferred' ? iso(c.nextAttemptAt) : null,
      lastError: c.lastError,
      deliveredAt: iso(c.deliveredAt),
      trackingBase: c.trackingBase,
      attemptLog: attempts.filter((a) => a.copyId === c.id).map((a) => ({
        attempt: a.attempt, at: iso(a.startedAt), durationMs: a.durationMs, result: a.result, smtpCode: a.smtpCode, response: a.response, relay: a.relay,
      })),
      events: events.filter((e) => e.copyId === c.id).map((e) => ({ id: e.id, type: e.type, at: iso(e.createdAt), data: e.data ? JSON.parse(e.data) : null })),
    })),
  };
}

const STATUSES = ['queued', 'delivering', 'delivered', 'deferred', 'bounced'];

function parseTime(v: string | undefined, key: string, fields: Record<string, string>): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) fields[key] = 'expected an ISO 8601 date or milliseconds';
  return n;
}

export function registerMessagesApi(api: FastifyInstance, ctx: AppContext) {
  const acceptance = acceptanceFor(ctx);
  // 25 MB of MIME as base64 in JSON is about 34 MB.
  const bodyLimit = Math.ceil(ctx.config.smtpMaxSize * 1.37) + 1024 * 1024;
  api.post<{ Body: SendBody }>('/messages', { bodyLimit, schema: sendSchema }, async (req, reply) => {
    const accountId = accountOf(req);
    const b = req.body ?? {};
    const fields: Record<string, string> = {};
    const built = b.raw !== undefined ? buildFromRaw(b, fields) : await buildFromJson(b, fields);
    if (!built) throw invalid('the message is not valid', fields);
    const r = await acceptance.accept({ accountId, mailFrom: built.mailFrom, recipients: built.recipients, raw: built.raw, source: 'api', track: b.track });
    return reply.code(202).send(r);
  });

  api.get<{ Params: { id: string } }>('/messages/:id', { schema: { tags: ['messages'], summary: 'A message with each recipient\'s status, attempts and events' } }, async (req) =>
    messageDetail(ctx, accountOf(req), req.params.id),
  );

  api.get<{ Querystring: { recipient?: string; subject?: string; since?: string; until?: string; status?: string; cursor?: string; limit?: number } }>(
    '/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'List messages, newest first, with filters and cursor paging',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            recipient: { type: 'string', description: 'exact recipient address' },
            subject: { type: 'string', description: 'substring of the subject (case-insensitive)' },
            since: { type: 'string', description: 'ISO date or ms: created at or after' },
            until: { type: 'string', description: 'ISO date or ms: created before' },
            status: { type: 'string', enum: STATUSES, description: 'messages with at least one recipient in this status' },
            cursor: { type: 'string', description: 'nextCursor of the previous page' },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          },
        },
      },
    },
    async (req) => {
      const accountId = accountOf(req);
      const q = req.query;
      const fields: Record<string, string> = {};
      const since = parseTime(q.since, 'since', fields);
      const until = parseTime(q.until, 'until', fields);
      if (Object.keys(fields).length) throw invalid('the query is not valid', fields);
      const limit = q.limit ?? 50;
      const rows = await ctx.store.messages.list(accountId, { recipient: q.recipient, subject: q.subject, since, until, status: q.status, cursor: q.cursor, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const copies = await ctx.store.messages.copiesOf(accountId, page.map((m) => m.id));
      return {
        data: page.map((m) => {
          const mine = copies.filter((c) => c.messageId === m.id);
          const counts: Record<string, number> = {};
          for (const c of mine) counts[c.status] = (counts[c.status] ?? 0) + 1;
          return {
            id: m.id, messageId: m.messageIdHeader, from: m.fromAddress, subject: m.subject, source: m.source, size: m.size, createdAt: iso(m.createdAt),
            recipients: mine.map((c) => ({ id: c.id, email: c.recipient, status: c.status })), statusCounts: counts,
          };
        }),
        nextCursor: rows.length > limit ? page[page.length - 1].id : null,
      };
    },
  );
}

export function registerOutboxApi(api: FastifyInstance, ctx: AppContext) {
  api.get<{ Querystring: { cursor?: string; limit?: number; messageId?: string } }>(
    '/outbox',
    {
      schema: {
        tags: ['outbox'],
        summary: 'Messages delivered to the outbox relay, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { cursor: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, messageId: { type: 'string' } },
        },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 50;
      const rows = await ctx.store.messages.listOutbox(accountOf(req), { cursor: req.query.cursor, limit: limit + 1, messageId: req.query.messageId });
      const page = rows.slice(0, limit);
      return {
        data: page.map((r) => ({ id: r.id, messageId: r.messageId, copyId: r.copyId, mailFrom: r.mailFrom, recipient: r.recipient, subject: r.subject, size: r.size, createdAt: iso(r.createdAt) })),
        nextCursor: rows.length > limit ? page[page.length - 1].id : null,
      };
    },
  );
  api.get<{ Params: { id: string } }>('/outbox/:id/raw', { schema: { tags: ['outbox'], summary: 'The exact delivered MIME bytes (message/rfc822)' } }, async (req, reply) => {
    const row = await ctx.store.messages.outboxEntry(accountOf(req), req.params.id);
    if (!row) throw notFound('outbox message');
    return reply.type('message/rfc822').send(Buffer.from(row.raw));
  });
}

export const messagesFeature: HttpFeature = {
  name: 'messages',
  api(api, ctx) {
    registerMessagesApi(api, ctx);
    registerOutboxApi(api, ctx);
  },
};
