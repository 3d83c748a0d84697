// Shared by the security tests: two accounts with real data in one server, an API client, and a minimal
// valid request body generated from a route's JSON schema (so a 404 is about the id, not validation).
import { newId } from '../../src/domain/ids.ts';
import type { Store } from '../../src/store/store.ts';

export interface Api {
  (method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string; headers: Headers }>;
}

/** A JSON client for /api/v1 with one API key. Event-stream answers are cut after the headers. */
export function apiClient(baseUrl: string, apiKey: string): Api {
  return async (method, path, body) => {
    const ac = new AbortController();
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: ac.signal,
    });
    if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      ac.abort();
      return { status: res.status, json: undefined, text: '', headers: res.headers };
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
}

/** A value that satisfies a JSON schema (required properties only), for bodies sent at other tenants' ids. */
export function sampleOf(schema: any): unknown {
  if (!schema || typeof schema !== 'object') return undefined;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.example !== undefined) return schema.example;
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of schema.required ?? []) out[k] = sampleOf(schema.properties?.[k] ?? {});
      // minProperties without required ones: fill optional properties until there are enough.
      for (const k of Object.keys(schema.properties ?? {})) {
        if (Object.keys(out).length >= (schema.minProperties ?? 0)) break;
        if (!(k in out)) out[k] = sampleOf(schema.properties[k]);
      }
      return out;
    }
    case 'array':
      return schema.minItems ? [sampleOf(schema.items)] : [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'email') return 'sample@example.test';
      if (schema.format === 'uri' || schema.format === 'url') return 'https://example.test/';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    default:
      return schema.properties ? sampleOf({ ...schema, type: 'object' }) : undefined;
  }
}

/** One message with `recipients` copies (delivered an hour ago) and one open per copy, straight into the store. */
export async function seedMessage(store: Store, accountId: string, opts: { domainId?: string | null; subject?: string; from?: string; recipients: string[]; userAgent?: string }): Promise<{ messageId: string; copyIds: string[] }> {
  const db = store.db.kysely;
  const now = Date.now();
  const messageId = newId('msg');
  await db.insertInto('messages').values({
    id: messageId, accountId, domainId: opts.domainId ?? null, messageIdHeader: `<${messageId}@example.test>`, fromAddress: opts.from ?? 'sender@example.test',
    subject: opts.subject ?? 'hello', source: 'api', size: 10, trackOpens: null, trackClicks: null, raw: Buffer.from(`Subject: ${opts.subject ?? 'hello'}\r\n\r\nhi\r\n`), createdAt: now,
  }).execute();
  const copyIds: string[] = [];
  for (const recipient of opts.recipients) {
    const id = newId('cpy');
    copyIds.push(id);
    await db.insertInto('messageCopies').values({
      id, messageId, accountId, domainId: opts.domainId ?? null, recipient, status: 'delivered', attempts: 1, nextAttemptAt: now,
      lockedBy: null, lockedUntil: null, lastError: null, trackingBase: null, deliveredAt: now - 3_600_000, createdAt: now,
    }).execute();
    for (const type of ['accepted', 'delivered', 'open']) {
      await db.insertInto('events').values({
        accountId, domainId: opts.domainId ?? null, messageId, copyId: id, recipient, type, createdAt: now - (type === 'open' ? 0 : 3_600_000),
        ip: type === 'open' ? '192.0.2.7' : null, userAgent: type === 'open' ? (opts.userAgent ?? 'Mozilla/5.0') : null,
        clientName: null, clientVersion: null, os: null, device: null, classification: type === 'open' ? 'human' : null,
        reason: type === 'open' ? 'client' : null, isFirst: type === 'open' ? 1 : 0, linkIndex: null, url: null, data: null,
      }).execute();
    }
  }
  const n = opts.recipients.length;
  await db.insertInto('rollupsHourly').values({
    accountId, domainId: opts.domainId ?? '', hour: Math.floor(now / 3_600_000) * 3_600_000, delivered: n, opens: n, uniqueOpens: n, humanOpens: n, machineOpens: 0, clicks: 0, uniqueClicks: 0,
  }).execute();
  return { messageId, copyIds };
}
