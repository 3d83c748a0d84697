// Messages, their per-recipient copies (the durable queue), delivery attempts and the outbox.
// Writes come in batches (group commit): the acceptance service commits many accepted messages in one
// transaction, the worker records many delivery results in one transaction.
import { sql, type Selectable } from 'kysely';
import type { Db } from './database.ts';
import type { DeliveryAttemptsTable, EventsTable, MessageCopiesTable, MessagesTable, OutboxTable } from './schema.ts';

export const HOUR_MS = 3_600_000;

const snake = (c: string) => c.replace(/[A-Z]/g, (x) => `_${x.toLowerCase()}`);
const MESSAGE_COLS = ['id', 'accountId', 'domainId', 'messageIdHeader', 'fromAddress', 'mailFrom', 'subject', 'source', 'size', 'trackOpens', 'trackClicks', 'raw', 'createdAt'] as const;
const COPY_COLS = ['id', 'messageId', 'accountId', 'domainId', 'recipient', 'status', 'attempts', 'nextAttemptAt', 'lockedBy', 'lockedUntil', 'lastError', 'trackingBase', 'deliveredAt', 'createdAt'] as const;
const EVENT_COLS = ['accountId', 'domainId', 'messageId', 'copyId', 'type', 'createdAt', 'recipient', 'isFirst', 'data'] as const;
const ATTEMPT_COLS = ['copyId', 'messageId', 'accountId', 'attempt', 'startedAt', 'durationMs', 'result', 'smtpCode', 'response', 'relay', 'nodeId'] as const;
const OUTBOX_COLS = ['id', 'accountId', 'messageId', 'copyId', 'mailFrom', 'recipient', 'subject', 'size', 'raw', 'createdAt'] as const;
const insertSql = (table: string, cols: readonly string[]) => `insert into ${table} (${cols.map(snake).join(', ')}) values (${cols.map(() => '?').join(', ')})`;
const valuesOf = (row: object, cols: readonly string[]) => cols.map((c) => (row as Record<string, unknown>)[c] ?? null);

type Stmt = { run(...a: unknown[]): { changes: number }; all(...a: unknown[]): unknown[] };
interface SqliteOps {
  insertMessage: Stmt;
  insertCopy: Stmt;
  insertEvent: Stmt;
  claim: Stmt;
  complete: Stmt;
  insertAttempt: Stmt;
  insertOutbox: Stmt;
  addDelivered: Stmt;
  /** select of full messages by n ids, per n. */
  messagesByIds: Map<number, Stmt>;
}

// The due copies, oldest first: each branch is one range scan of message_copies_due_ix (status,
// next_attempt_at) that stops after `limit` rows, so a claim reads O(limit) rows however long the queue
// is. (One WHERE with an OR of the three cases made SQLite read and sort every queued copy on each claim:
// with a backlog of a few thousand that was the worker's largest single cost.) Parameters: now, limit,
// now, limit, now, limit, limit.
const DUE_BRANCH = (cond: string) => `select * from (select id, next_attempt_at from message_copies where ${cond} order by next_attempt_at limit ?)`;
const DUE_IDS_SQLITE = `select id from (${DUE_BRANCH(`status = 'queued' and next_attempt_at <= ?`)}
  union all ${DUE_BRANCH(`status = 'deferred' and next_attempt_at <= ?`)}
  union all ${DUE_BRANCH(`status = 'delivering' and locked_until < ?`)}) order by next_attempt_at limit ?`;

export interface AcceptedMessage {
  message: MessagesTable;
  copies: MessageCopiesTable[];
}

/** One finished delivery attempt: the copy's new state plus what to record beside it. */
export interface DeliveryResult {
  copy: MessageCopiesTable;
  status: 'delivered' | 'deferred' | 'bounced';
  nextAttemptAt: number;
  lastError: string | null;
  trackingBase: string | null;
  attempt: Omit<DeliveryAttemptsTable, 'id'>;
  /** Set when the relay is the outbox: the exact delivered bytes. */
  outbox?: OutboxTable;
  /** Event data (the SMTP reply). */
  data: Record<string, unknown>;
  at: number;
}

export interface MessageListFilter {
  recipient?: string;
  subject?: string;
  since?: number;
  until?: number;
  status?: string;
  /** Id of the last message of the previous page (newest first). */
  cursor?: string;
  limit: number;
}

export type MessageSummary = Omit<MessagesTable, 'raw'>;

const SUMMARY_COLUMNS = ['id', 'accountId', 'domainId', 'messageIdHeader', 'fromAddress', 'mailFrom', 'subject', 'source', 'size', 'trackOpens', 'trackClicks', 'createdAt'] as const;

export class MessagesRepo {
  private ops: SqliteOps | undefined;

  constructor(private readonly db: Db) {}

  /**
   * On SQLite, the queue's hot writes run as one synchronous transaction of prepared statements (no query
   * building, no statement preparation per call, the writer held for microseconds). Undefined on
   * PostgreSQL, or while the connection is inside someone else's Kysely transaction, which these writes
   * must not join: then the Kysely path runs.
   */
  private sync(): { ops: SqliteOps; run<T>(fn: () => T): T } | undefined {
    const sqlite = this.db.sqlite;
    if (!sqlite || sqlite.inTransaction) return undefined;
    if (!this.ops) {
      const p = (q: string) => sqlite.prepare(q) as unknown as Stmt;
      this.ops = {
        insertMessage: p(insertSql('messages', MESSAGE_COLS)),
        insertCopy: p(insertSql('message_copies', COPY_COLS)),
        insertEvent: p(insertSql('events', EVENT_COLS)),
        claim: p(`update message_copies set status = 'delivering', locked_by = ?, locked_until = ?
          where id in (${DUE_IDS_SQLITE})
          returning ${COPY_COLS.map((c) => `${snake(c)} as "${c}"`).join(', ')}`),
        messagesByIds: new Map(),
        complete: p(`update message_copies set status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, tracking_base = ?, delivered_at = ?, locked_by = null, locked_until = null
          where id = ? and locked_by = ? and status = 'delivering'`),
        insertAttempt: p(insertSql('delivery_attempts', ATTEMPT_COLS)),
        insertOutbox: p(insertSql('outbox', OUTBOX_COLS)),
        addDelivered: p(`insert into rollups_hourly (account_id, domain_id, hour, delivered, opens, unique_opens, human_opens, machine_opens, clicks, unique_clicks)
          values (?, ?, ?, ?, 0, 0, 0, 0, 0, 0) on conflict (account_id, domain_id, hour) do update set delivered = delivered + excluded.delivered`),
      };
    }
    const ops = this.ops;
    const lock = this.db.writeLock;
    return { ops, run: (fn) => (lock ? lock.run(() => sqlite.transaction(fn).immediate()) : sqlite.transaction(fn).immediate()) };
  }

  /** Commits accepted messages, their copies and one `accepted` event per copy, all in ONE transaction. */
  async acceptBatch(items: AcceptedMessage[]): Promise<void> {
    if (!items.length) return;
    const fast = this.sync();
    if (fast) {
      const { ops } = fast;
      fast.run(() => {
        for (const { message, copies } of items) {
          ops.insertMessage.run(...valuesOf(message, MESSAGE_COLS));
          for (const c of copies) {
            ops.insertCopy.run(...valuesOf(c, COPY_COLS));
            ops.insertEvent.run(c.accountId, c.domainId, c.messageId, c.id, 'accepted', c.createdAt, c.recipient, 0, null);
          }
        }
      });
      return;
    }
    await this.db.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('messages').values(items.map((i) => i.message)).execute();
      const copies = items.flatMap((i) => i.copies);
      const events: Omit<EventsTable, 'id'>[] = copies.map((c) => ({
        accountId: c.accountId, domainId: c.domainId, messageId: c.messageId, copyId: c.id, type: 'accepted', createdAt: c.createdAt,
        recipient: c.recipient, linkIndex: null, url: null, ip: null, userAgent: null, clientName: null, clientVersion: null, os: null, device: null,
        classification: null, reason: null, isFirst: 0, data: null,
      }));
      // Chunk to stay under SQLite's bound-parameter limit.
      for (let i = 0; i < copies.length; i += 500) await trx.insertInto('messageCopies').values(copies.slice(i, i + 500)).execute();
      for (let i = 0; i < events.length; i += 400) await trx.insertInto('events').values(events.slice(i, i + 400)).execute();
    });
  }

  /**
   * Claims up to `limit` due copies for `nodeId`: queued/deferred ones whose time has come, and delivering
   * ones whose lease ran out (their node died). PostgreSQL: FOR UPDATE SKIP LOCKED so nodes never wait on
   * each other; SQLite: one conditional UPDATE (a single writer, so no two claims overlap).
   */
  async claimDue(nodeId: string, now: number, limit: number, leaseMs: number): Promise<MessageCopiesTable[]> {
    if (limit <= 0) return [];
    const lockedUntil = now + leaseMs;
    const fast = this.sync();
    if (fast) return fast.run(() => fast.ops.claim.all(nodeId, lockedUntil, now, limit, now, limit, now, limit, limit) as MessageCopiesTable[]);
    const lockClause = this.db.dialect === 'postgres' ? sql`for update skip locked` : sql``;
    const branch = (cond: ReturnType<typeof sql>) => sql`select id, next_attempt_at from message_copies where ${cond} order by next_attempt_at limit ${limit} ${lockClause}`;
    const r = await sql<MessageCopiesTable>`
      with q as (${branch(sql`status = 'queued' and next_attempt_at <= ${now}`)}),
        d as (${branch(sql`status = 'deferred' and next_attempt_at <= ${now}`)}),
        l as (${branch(sql`status = 'delivering' and locked_until < ${now}`)}),
        pick as (select id from (select * from q union all select * from d union all select * from l) due order by next_attempt_at limit ${limit})
      update message_copies set status = 'delivering', locked_by = ${nodeId}, locked_until = ${lockedUntil}
      where id in (select id from pick)
      returning *`.execute(this.db.kysely);
    return r.rows;
  }

  /** The soonest time a queued/deferred copy becomes due (for the worker's sleep), or undefined. */
  async nextDueAt(): Promise<number | undefined> {
    const r = await this.db.kysely.selectFrom('messageCopies').select((eb) => eb.fn.min<number>('nextAttemptAt').as('t')).where('status', 'in', ['queued', 'deferred']).executeTakeFirst();
    return r?.t == null ? undefined : Number(r.t);
  }

  /** Internal (worker): full messages, raw bytes included. */
  async messagesByIds(ids: string[]): Promise<MessagesTable[]> {
    if (!ids.length) return [];
    const fast = this.sync();
    if (fast && ids.length <= 100) {
      let st = fast.ops.messagesByIds.get(ids.length);
      if (!st) {
        st = this.db.sqlite!.prepare(`select ${MESSAGE_COLS.map((c) => `${snake(c)} as "${c}"`).join(', ')} from messages where id in (${ids.map(() => '?').join(', ')})`) as unknown as Stmt;
        fast.ops.messagesByIds.set(ids.length, st);
      }
      return st.all(...ids) as MessagesTable[];
    }
    return this.db.kysely.selectFrom('messages').selectAll().where('id', 'in', ids).execute();
  }

  /**
   * Records delivery results in ONE transaction: each copy's new status (only if this node still holds
   * the lock), the attempt, the delivered/deferred/bounced event, the delivered rollup and the outbox row.
   */
  async completeBatch(results: DeliveryResult[], nodeId: string): Promise<void> {
    if (!results.length) return;
    const fast = this.sync();
    if (fast) {
      const { ops } = fast;
      fast.run(() => {
        const rollups = new Map<string, [string, string, number, number]>();
        for (const r of results) {
          const u = ops.complete.run(r.status, r.copy.attempts + 1, r.nextAttemptAt, r.lastError, r.trackingBase, r.status === 'delivered' ? r.at : null, r.copy.id, nodeId);
          if (u.changes === 0) continue;
          ops.insertAttempt.run(...valuesOf(r.attempt, ATTEMPT_COLS));
          ops.insertEvent.run(r.copy.accountId, r.copy.domainId || null, r.copy.messageId, r.copy.id, r.status, r.at, r.copy.recipient, 0, JSON.stringify(r.data));
          if (r.outbox) ops.insertOutbox.run(...valuesOf(r.outbox, OUTBOX_COLS));
          if (r.status === 'delivered') {
            const hour = Math.floor(r.at / HOUR_MS) * HOUR_MS;
            const key = `${r.copy.accountId}\0${r.copy.domainId ?? ''}\0${hour}`;
            const cur = rollups.get(key);
            if (cur) cur[3]++;
            else rollups.set(key, [r.copy.accountId, r.copy.domainId ?? '', hour, 1]);
          }
        }
        for (const v of rollups.values()) ops.addDelivered.run(...v);
      });
      return;
    }
    await this.db.kysely.transaction().execute(async (trx) => {
      const rollups = new Map<string, { accountId: string; domainId: string; hour: number; delivered: number }>();
      const events: Omit<EventsTable, 'id'>[] = [];
      const attempts: Omit<DeliveryAttemptsTable, 'id'>[] = [];
      const outbox: OutboxTable[] = [];
      for (const r of results) {
        const u = await trx.updateTable('messageCopies')
          .set({
            status: r.status, attempts: r.copy.attempts + 1, nextAttemptAt: r.nextAttemptAt, lastError: r.lastError,
            trackingBase: r.trackingBase, deliveredAt: r.status === 'delivered' ? r.at : null, lockedBy: null, lockedUntil: null,
          })
          .where('id', '=', r.copy.id).where('lockedBy', '=', nodeId).where('status', '=', 'delivering')
          .executeTakeFirst();
        // Lost the lease to another node meanwhile: its result wins, ours is not recorded twice.
        if (Number(u.numUpdatedRows) === 0) continue;
        attempts.push(r.attempt);
        events.push({
          accountId: r.copy.accountId, domainId: r.copy.domainId || null, messageId: r.copy.messageId, copyId: r.copy.id, type: r.status, createdAt: r.at,
          recipient: r.copy.recipient, linkIndex: null, url: null, ip: null, userAgent: null, clientName: null, clientVersion: null, os: null, device: null,
          classification: null, reason: null, isFirst: 0, data: JSON.stringify(r.data),
        });
        if (r.outbox) outbox.push(r.outbox);
        if (r.status === 'delivered') {
          const hour = Math.floor(r.at / HOUR_MS) * HOUR_MS;
          const domainId = r.copy.domainId ?? '';
          const key = `${r.copy.accountId}\0${domainId}\0${hour}`;
          const cur = rollups.get(key);
          if (cur) cur.delivered++;
          else rollups.set(key, { accountId: r.copy.accountId, domainId, hour, delivered: 1 });
        }
      }
      for (let i = 0; i < attempts.length; i += 300) await trx.insertInto('deliveryAttempts').values(attempts.slice(i, i + 300)).execute();
      for (let i = 0; i < events.length; i += 300) await trx.insertInto('events').values(events.slice(i, i + 300)).execute();
      for (let i = 0; i < outbox.length; i += 300) await trx.insertInto('outbox').values(outbox.slice(i, i + 300)).execute();
      for (const r of rollups.values()) {
        await trx.insertInto('rollupsHourly')
          .values({ ...r, opens: 0, uniqueOpens: 0, humanOpens: 0, machineOpens: 0, clicks: 0, uniqueClicks: 0 })
          .onConflict((oc) => oc.columns(['accountId', 'domainId', 'hour']).doUpdateSet((eb) => ({ delivered: eb('rollupsHourly.delivered', '+', eb.ref('excluded.delivered')) })))
          .execute();
      }
    });
  }

  /** Gives claimed copies back (graceful stop before they were attempted). */
  async release(copyIds: string[], nodeId: string): Promise<void> {
    if (!copyIds.length) return;
    await this.db.kysely.updateTable('messageCopies').set({ status: 'queued', lockedBy: null, lockedUntil: null })
      .where('id', 'in', copyIds).where('lockedBy', '=', nodeId).where('status', '=', 'delivering').where('attempts', '=', 0).execute();
    await this.db.kysely.updateTable('messageCopies').set({ status: 'deferred', lockedBy: null, lockedUntil: null })
      .where('id', 'in', copyIds).where('lockedBy', '=', nodeId).where('status', '=', 'delivering').execute();
  }

  // ---- reads for the API (scoped by account) ----

  get(accountId: string, id: string): Promise<MessageSummary | undefined> {
    return this.db.kysely.selectFrom('messages').select(SUMMARY_COLUMNS).where('id', '=', id).where('accountId', '=', accountId).executeTakeFirst();
  }

  copiesOf(accountId: string, messageIds: string[]): Promise<MessageCopiesTable[]> {
    if (!messageIds.length) return Promise.resolve([]);
    return this.db.kysely.selectFrom('messageCopies').selectAll().where('accountId', '=', accountId).where('messageId', 'in', messageIds).orderBy('id').execute();
  }

  attemptsOf(accountId: string, messageId: string): Promise<Selectable<DeliveryAttemptsTable>[]> {
    return this.db.kysely.selectFrom('deliveryAttempts').selectAll().where('accountId', '=', accountId).where('messageId', '=', messageId).orderBy('id').execute();
  }

  eventsOf(accountId: string, messageId: string): Promise<Selectable<EventsTable>[]> {
    return this.db.kysely.selectFrom('events').selectAll().where('accountId', '=', accountId).where('messageId', '=', messageId).orderBy('id').execute();
  }

  async list(accountId: string, f: MessageListFilter): Promise<MessageSummary[]> {
    let q = this.db.kysely.selectFrom('messages').select(SUMMARY_COLUMNS).where('accountId', '=', accountId);
    if (f.cursor) q = q.where('id', '<', f.cursor);
    if (f.since !== undefined) q = q.where('createdAt', '>=', f.since);
    if (f.until !== undefined) q = q.where('createdAt', '<', f.until);
    if (f.subject) {
      const needle = f.subject.toLowerCase();
      q = q.where(this.db.dialect === 'postgres' ? sql<boolean>`position(${needle} in lower(subject)) > 0` : sql<boolean>`instr(lower(subject), ${needle}) > 0`);
    }
    if (f.recipient || f.status) {
      q = q.where((eb) => {
        let sub = eb.selectFrom('messageCopies').select('messageCopies.id').whereRef('messageCopies.messageId', '=', 'messages.id').where('messageCopies.accountId', '=', accountId);
        if (f.recipient) sub = sub.where('messageCopies.recipient', '=', f.recipient.toLowerCase());
        if (f.status) sub = sub.where('messageCopies.status', '=', f.status);
        return eb.exists(sub);
      });
    }
    return q.orderBy('id', 'desc').limit(f.limit).execute();
  }

  // ---- outbox ----

  listOutbox(accountId: string, opts: { cursor?: string; limit: number; messageId?: string }): Promise<Omit<OutboxTable, 'raw'>[]> {
    let q = this.db.kysely.selectFrom('outbox').select(['id', 'accountId', 'messageId', 'copyId', 'mailFrom', 'recipient', 'subject', 'size', 'createdAt']).where('accountId', '=', accountId);
    if (opts.cursor) q = q.where('id', '<', opts.cursor);
    if (opts.messageId) q = q.where('messageId', '=', opts.messageId);
    return q.orderBy('id', 'desc').limit(opts.limit).execute();
  }

  outboxEntry(accountId: string, id: string): Promise<OutboxTable | undefined> {
    return this.db.kysely.selectFrom('outbox').selectAll().where('accountId', '=', accountId).where('id', '=', id).executeTakeFirst();
  }
}
