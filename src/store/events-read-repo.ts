// Reading the events table for the events API, exports and the webhook dispatcher. Every query is keyset
// paged on the serial id (never OFFSET), so a page costs the same at row 10 and at row 10 million.
import type { Db } from './database.ts';
import type { EventFilter } from '../events/filters.ts';
import type { EventRow } from '../events/public-event.ts';

export class EventsReadRepo {
  constructor(private readonly db: Db) {}

  /** One page of an account's events matching the filter, ascending by id, after filter.afterId. */
  async page(accountId: string, f: EventFilter, limit = f.limit): Promise<EventRow[]> {
    return (await this.pageQuery(accountId, f, limit).execute()) as EventRow[];
  }

  private pageQuery(accountId: string, f: EventFilter, limit: number) {
    let q = this.db.kysely.selectFrom('events').selectAll().where('accountId', '=', accountId);
    if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
    if (f.types?.length) q = q.where('type', 'in', f.types);
    else q = q.where('type', '!=', 'open_signal');
    if (f.domainId !== undefined) q = q.where('domainId', '=', f.domainId);
    if (f.messageId !== undefined) q = q.where('messageId', '=', f.messageId);
    if (f.recipient !== undefined) q = q.where('recipient', '=', f.recipient);
    if (f.since !== undefined) q = q.where('createdAt', '>=', f.since);
    if (f.until !== undefined) q = q.where('createdAt', '<', f.until);
    if (f.human !== undefined) q = q.where('classification', '=', f.human ? 'human' : 'machine');
    return q.orderBy('id', 'asc').limit(limit);
  }

  /** Every matching event, fetched `chunk` rows at a time (constant memory however many there are). */
  async *iterate(accountId: string, f: EventFilter, chunk = 2000): AsyncGenerator<EventRow[]> {
    let after = f.afterId;
    while (true) {
      const rows = this.db.sqlite ? this.pageSqliteRaw(accountId, { ...f, afterId: after }, chunk) : await this.page(accountId, { ...f, afterId: after }, chunk);
      if (rows.length) yield rows;
      if (rows.length < chunk) return;
      after = rows[rows.length - 1].id;
    }
  }

  /**
   * The same page straight from better-sqlite3 in raw (array) mode: for exports of millions of rows this
   * halves the cost of building row objects (and skips the camel-case pass). The SQL is Kysely's own.
   */
  private pageSqliteRaw(accountId: string, f: EventFilter, limit: number): EventRow[] {
    const c = this.pageQuery(accountId, f, limit).compile();
    const stmt = this.db.sqlite!.prepare(c.sql).raw(true);
    const i = Object.fromEntries(stmt.columns().map((col, n) => [col.name, n]));
    return (stmt.all(...(c.parameters as unknown[])) as unknown[][]).map((r) => ({
      id: r[i.id] as number, accountId: r[i.account_id] as string, domainId: r[i.domain_id] as string | null, messageId: r[i.message_id] as string | null,
      copyId: r[i.copy_id] as string | null, type: r[i.type] as string, createdAt: r[i.created_at] as number, recipient: r[i.recipient] as string | null,
      linkIndex: r[i.link_index] as number | null, url: r[i.url] as string | null, ip: r[i.ip] as string | null, userAgent: r[i.user_agent] as string | null,
      clientName: r[i.client_name] as string | null, clientVersion: r[i.client_version] as string | null, os: r[i.os] as string | null, device: r[i.device] as string | null,
      classification: r[i.classification] as string | null, reason: r[i.reason] as string | null, isFirst: r[i.is_first] as number, data: r[i.data] as string | null,
    }));
  }

  /** Events of any account after an id (dispatcher), ascending. */
  async after(afterId: number, limit: number): Promise<EventRow[]> {
    return (await this.db.kysely.selectFrom('events').selectAll().where('id', '>', afterId).orderBy('id', 'asc').limit(limit).execute()) as EventRow[];
  }

  async maxId(): Promise<number> {
    const r = await this.db.kysely.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
    return Number(r?.m ?? 0);
  }
}
