// Webhooks, their deliveries (one row per event and endpoint: the durable queue) and the attempt log.
// Claims are atomic: PostgreSQL takes rows with FOR UPDATE SKIP LOCKED, SQLite has one writer; both set a
// lease (locked_by, locked_until) so a node that dies mid-attempt only delays the delivery until the lease
// runs out.
import { sql, type Updateable } from 'kysely';
import type { Db } from './database.ts';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhooksTable } from './schema.ts';
import type { EventRow } from '../events/public-event.ts';

export type AttemptRow = Omit<WebhookAttemptsTable, 'id'> & { id: number };

export interface FanOutPlan {
  deliveries: WebhookDeliveriesTable[];
  /** The cursor's new value (the last event id handled). */
  lastId: number;
}

export class WebhooksRepo {
  constructor(private readonly db: Db) {}

  async insert(row: WebhooksTable): Promise<void> {
    await this.db.kysely.insertInto('webhooks').values(row).execute();
  }

  get(accountId: string, id: string): Promise<WebhooksTable | undefined> {
    return this.db.kysely.selectFrom('webhooks').selectAll().where('id', '=', id).where('accountId', '=', accountId).executeTakeFirst();
  }

  getById(id: string): Promise<WebhooksTable | undefined> {
    return this.db.kysely.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(accountId: string): Promise<WebhooksTable[]> {
    return this.db.kysely.selectFrom('webhooks').selectAll().where('accountId', '=', accountId).orderBy('id').execute();
  }

  async update(accountId: string, id: string, patch: Updateable<WebhooksTable>): Promise<boolean> {
    const r = await this.db.kysely.updateTable('webhooks').set(patch).where('id', '=', id).where('accountId', '=', accountId).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async disable(id: string, reason: string, now: number): Promise<void> {
    await this.db.kysely.updateTable('webhooks').set({ enabled: 0, disabledReason: reason, updatedAt: now }).where('id', '=', id).execute();
  }

  async delete(accountId: string, id: string): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const w = await trx.selectFrom('webhooks').select('id').where('id', '=', id).where('accountId', '=', accountId).executeTakeFirst();
      if (!w) return false;
      await trx.deleteFrom('webhookAttempts').where('deliveryId', 'in', trx.selectFrom('webhookDeliveries').select('webhookDeliveries.id').where('webhookId', '=', id)).execute();
      await trx.deleteFrom('webhookDeliveries').where('webhookId', '=', id).execute();
      await trx.deleteFrom('webhooks').where('id', '=', id).execute();
      return true;
    });
  }

  async insertDeliveries(rows: WebhookDeliveriesTable[]): Promise<void> {
    if (rows.length) await this.db.kysely.insertInto('webhookDeliveries').values(rows).execute();
  }

  getDelivery(accountId: string, webhookId: string, id: string): Promise<WebhookDeliveriesTable | undefined> {
    return this.db.kysely.selectFrom('webhookDeliveries').selectAll().where('id', '=', id).where('webhookId', '=', webhookId).where('accountId', '=', accountId).executeTakeFirst();
  }

  getDeliveryById(id: string): Promise<WebhookDeliveriesTable | undefined> {
    return this.db.kysely.selectFrom('webhookDeliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A webhook's deliveries, newest first, before the given delivery id. */
  listDeliveries(accountId: string, webhookId: string, opts: { beforeId?: string; limit: number; status?: string }): Promise<WebhookDeliveriesTable[]> {
    let q = this.db.kysely.selectFrom('webhookDeliveries').selectAll().where('webhookId', '=', webhookId).where('accountId', '=', accountId);
    if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
    if (opts.status) q = q.where('status', '=', opts.status);
    return q.orderBy('id', 'desc').limit(opts.limit).execute();
  }

  async attemptsOf(deliveryIds: string[]): Promise<AttemptRow[]> {
    if (!deliveryIds.length) return [];
    return (await this.db.kysely.selectFrom('webhookAttempts').selectAll().where('deliveryId', 'in', deliveryIds).orderBy('id').execute()) as AttemptRow[];
  }

  async cursor(): Promise<number> {
    const r = await this.db.kysely.selectFrom('webhookCursor').select('lastEventId').where('name', '=', 'events').executeTakeFirst();
    return Number(r?.lastEventId ?? 0);
  }

  /**
   * One fan-out step, atomically: lock the cursor row (PostgreSQL: SKIP LOCKED, so a second node just skips
   * this round), read up to `batch` events after it, let `plan` decide the deliveries and the new cursor,
   * insert them and move the cursor in the same transaction. Returns how many events were handled, or
   * undefined when another node holds the cursor.
   */
  async fanOut(batch: number, plan: (events: EventRow[], webhooks: WebhooksTable[], cursor: number, maxId: number) => FanOutPlan): Promise<{ events: number; deliveries: number } | undefined> {
    const pgsql = this.db.dialect === 'postgres';
    return this.db.kysely.transaction().execute(async (trx) => {
      let cq = trx.selectFrom('webhookCursor').select('lastEventId').where('name', '=', 'events');
      if (pgsql) cq = cq.forUpdate().skipLocked();
      const cur = await cq.executeTakeFirst();
      if (!cur) return undefined;
      const cursor = Number(cur.lastEventId);
      // Read before the webhooks, so a jump over events when none subscribes never passes an event that a
      // webhook committed meanwhile could want.
      const maxSeen = await trx.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
      const webhooks = await trx.selectFrom('webhooks').selectAll().where('enabled', '=', 1).execute();
      const events = (await trx.selectFrom('events').selectAll().where('id', '>', cursor).orderBy('id', 'asc').limit(batch).execute()) as EventRow[];
      const p = await plan(events, webhooks, cursor, Number(maxSeen?.m ?? 0));
      // Chunked so a big batch stays under the drivers' parameter limits.
      for (let i = 0; i < p.deliveries.length; i += 200) await trx.insertInto('webhookDeliveries').values(p.deliveries.slice(i, i + 200)).execute();
      if (p.lastId !== cursor) await trx.updateTable('webhookCursor').set({ lastEventId: p.lastId }).where('name', '=', 'events').execute();
      return { events: events.length, deliveries: p.deliveries.length };
    });
  }

  /**
   * Takes up to `limit` due deliveries of enabled webhooks for this node until `leaseUntil`. A row another
   * node holds (lease not expired) is never returned, so one attempt is never made twice at once.
   */
  async claimDue(nodeId: string, now: number, leaseUntil: number, limit: number): Promise<WebhookDeliveriesTable[]> {
    const lock = this.db.dialect === 'postgres' ? sql`for update of d skip locked` : sql``;
    const r = await sql<WebhookDeliveriesTable>`
      update webhook_deliveries set locked_by = ${nodeId}, locked_until = ${leaseUntil}
      where id in (
        select d.id from webhook_deliveries d
        where d.status = 'pending' and d.next_attempt_at <= ${now} and (d.locked_until is null or d.locked_until < ${now})
          and exists (select 1 from webhooks w where w.id = d.webhook_id and w.enabled = 1)
        order by d.next_attempt_at limit ${limit} ${lock})
      and status = 'pending' and (locked_until is null or locked_until < ${now})
      returning *`.execute(this.db.kysely);
    return r.rows;
  }

  /**
   * Records an attempt and the delivery's new state, only if this node still holds the lease (a node whose
   * lease ran out must not overwrite the state another node has since written).
   */
  async finishAttempt(nodeId: string, deliveryId: string, patch: Updateable<WebhookDeliveriesTable>, attempt: Omit<WebhookAttemptsTable, 'id'>): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const r = await trx.updateTable('webhookDeliveries').set({ ...patch, lockedBy: null, lockedUntil: null }).where('id', '=', deliveryId).where('lockedBy', '=', nodeId).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await trx.insertInto('webhookAttempts').values(attempt).execute();
      return true;
    });
  }

  /** Counts by status (metrics, tests). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db.kysely.selectFrom('webhookDeliveries').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
