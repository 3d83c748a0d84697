// Reading the events table for the events API, exports and the webhook dispatcher. Every query is keyset
// paged on the serial id (never OFFSET), so a page costs the same at row 10 and at row 10 million.
import type { Db } from './database.ts';
import type { EventFilter } from '../events/filters.ts';
import type { EventRow } from '../events/public-event.ts';

export class EventsReadRepo {
  constructor(private readonly db: Db) {}

  /** One page of an account's events matching the filter, ascending by id, after filter.afterId. */
  async page(accountId: string, f: EventFilter, limit = f.limit): Promise<EventRow[]> {
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
    return (await q.orderBy('id', 'asc').limit(limit).execute()) as EventRow[];
  }

  /** Every matching event, fetched `chunk` rows at a time (constant memory however many there are). */
  async *iterate(accountId: string, f: EventFilter, chunk = 2000): AsyncGenerator<EventRow[]> {
    let after = f.afterId;
    while (true) {
      const rows = await this.page(accountId, { ...f, afterId: after }, chunk);
      if (rows.length) yield rows;
      if (rows.length < chunk) return;
      after = rows[rows.length - 1].id;
    }
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
