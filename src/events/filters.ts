// Event query parameters → a typed filter, and the opaque paging cursor. Pure: no store, no HTTP.
import { invalid } from '../domain/errors.ts';

export const PUBLIC_EVENT_TYPES = ['accepted', 'delivered', 'deferred', 'bounced', 'open', 'click'] as const;
export type PublicEventType = (typeof PUBLIC_EVENT_TYPES)[number];

export interface EventQuery {
  type?: string;
  domain?: string;
  messageId?: string;
  recipient?: string;
  since?: string;
  until?: string;
  human?: string;
  cursor?: string;
  limit?: string | number;
}

export interface EventFilter {
  types?: string[];
  /** The domain as given (id or name); the HTTP edge resolves it to domainId. */
  domain?: string;
  domainId?: string;
  messageId?: string;
  recipient?: string;
  /** Inclusive, ms. */
  since?: number;
  /** Exclusive, ms. */
  until?: number;
  /** true: classification human; false: machine (events without a classification are left out either way). */
  human?: boolean;
  /** Only events with a larger id. */
  afterId?: number;
  limit: number;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** An ISO-8601 date/time or milliseconds since the epoch. */
export function parseTime(value: string, field: string): number {
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw invalid(`${field} must be an ISO-8601 time or milliseconds since the epoch`, { [field]: 'expected an ISO-8601 time or epoch milliseconds' });
  return ms;
}

export function parseEventQuery(q: EventQuery, maxLimit = MAX_LIMIT): EventFilter {
  const f: EventFilter = { limit: DEFAULT_LIMIT };
  if (q.type) {
    const types = q.type.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = types.find((t) => !(PUBLIC_EVENT_TYPES as readonly string[]).includes(t));
    if (bad) throw invalid(`unknown event type ${bad}`, { type: `expected ${PUBLIC_EVENT_TYPES.join('|')}` });
    f.types = types;
  }
  if (q.domain) f.domain = q.domain.trim();
  if (q.messageId) f.messageId = q.messageId.trim();
  if (q.recipient) f.recipient = q.recipient.trim().toLowerCase();
  if (q.since) f.since = parseTime(q.since, 'since');
  if (q.until) f.until = parseTime(q.until, 'until');
  if (q.human !== undefined && q.human !== '') {
    if (q.human !== 'true' && q.human !== 'false') throw invalid('human must be true or false', { human: 'expected true or false' });
    f.human = q.human === 'true';
  }
  if (q.cursor) f.afterId = decodeCursor(q.cursor);
  if (q.limit !== undefined && q.limit !== '') {
    const n = Number(q.limit);
    if (!Number.isInteger(n) || n < 1 || n > maxLimit) throw invalid(`limit must be 1..${maxLimit}`, { limit: `expected an integer from 1 to ${maxLimit}` });
    f.limit = n;
  }
  return f;
}

// The cursor is the last event id a page returned, wrapped so clients treat it as opaque: ids only grow,
// so paging by "id greater than" is stable while new events are inserted.
const CURSOR_PREFIX = 'ev1:';

export function encodeCursor(lastId: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${lastId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!s.startsWith(CURSOR_PREFIX) || !/^\d+$/.test(s.slice(CURSOR_PREFIX.length))) throw invalid('cursor is not valid', { cursor: 'not a cursor this API returned' });
  const n = Number(s.slice(CURSOR_PREFIX.length));
  if (!Number.isSafeInteger(n)) throw invalid('cursor is not valid', { cursor: 'not a cursor this API returned' });
  return n;
}
