// Storage for the tracking endpoint: the copy lookups, first-open claims, event inserts and rollup upserts
// of one group-commit batch (all inside the caller's transaction), and the retention purge of raw events.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Db } from './database.ts';
import type { Database, EventsTable, RollupsBreakdownTable, RollupsHourlyTable } from './schema.ts';

type Exec = Kysely<Database> | Transaction<Database>;

export interface CopyInfo {
  id: string;
  accountId: string;
  domainId: string | null;
  messageId: string;
  recipient: string;
  deliveredAt: number | null;
}

export type HourlyDelta = Omit<RollupsHourlyTable, 'delivered'>;
export type BreakdownDelta = RollupsBreakdownTable;

const CHUNK = 400;
function chunks<T>(xs: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * The same batch operations, synchronous, as prepared better-sqlite3 statements. On SQLite the whole batch
 * then runs as one synchronous transaction: Kysely's per-query building and plugin work cost ~10x the
 * SQLite work itself on the pixel's hot path.
 */
export interface SyncBatchOps {
  copy(id: string): CopyInfo | undefined;
  ipTruncation(domainId: string): boolean | undefined;
  /** True when this call claimed the first (copy, kind). */
  claimFirst(copyId: string, kind: string, at: number): boolean;
  insertEvent(row: Insertable<EventsTable>): void;
  addHourly(row: HourlyDelta): void;
  addBreakdown(row: BreakdownDelta): void;
  /** A kv row (the event journal keeps its ingest checkpoint there, written in the same transaction). */
  getKv(key: string): string | undefined;
  setKv(key: string, value: string): void;
}

const EVENT_COLS = ['accountId', 'domainId', 'messageId', 'copyId', 'type', 'createdAt', 'recipient', 'linkIndex', 'url', 'ip', 'userAgent', 'clientName', 'clientVersion', 'os', 'device', 'classification', 'reason', 'isFirst', 'data'] as const;
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export class TrackingRepo {
  private syncOps: SyncBatchOps | undefined;

  constructor(private readonly db: Db) {}

  /**
   * Runs `fn` synchronously in one SQLite transaction with prepared statements; undefined on PostgreSQL, or
   * when the connection is inside someone else's (Kysely) transaction that our writes must not join.
   */
  runSync<T>(fn: (ops: SyncBatchOps) => T): { value: T } | undefined {
    const sqlite = this.db.sqlite;
    if (!sqlite || sqlite.inTransaction) return undefined;
    if (!this.syncOps) {
      const copy = sqlite.prepare('select id, account_id as accountId, domain_id as domainId, message_id as messageId, recipient, delivered_at as deliveredAt from message_copies where id = ?');
      const dom = sqlite.prepare('select ip_truncation as t from domains where id = ?');
      const claim = sqlite.prepare('insert into tracking_firsts (copy_id, kind, at) values (?, ?, ?) on conflict do nothing');
      const ev = sqlite.prepare(`insert into events (${EVENT_COLS.map(snake).join(', ')}) values (${EVENT_COLS.map(() => '?').join(', ')})`);
      const hourly = sqlite.prepare(`insert into rollups_hourly (account_id, domain_id, hour, delivered, opens, unique_opens, human_opens, machine_opens, clicks, unique_clicks)
        values (?, ?, ?, 0, ?, ?, ?, ?, ?, ?) on conflict (account_id, domain_id, hour) do update set
        opens = opens + excluded.opens, unique_opens = unique_opens + excluded.unique_opens, human_opens = human_opens + excluded.human_opens,
        machine_opens = machine_opens + excluded.machine_opens, clicks = clicks + excluded.clicks, unique_clicks = unique_clicks + excluded.unique_clicks`);
      const bd = sqlite.prepare(`insert into rollups_breakdown (account_id, domain_id, hour, dimension, value, opens, human_opens, machine_opens, clicks)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (account_id, domain_id, hour, dimension, value) do update set
        opens = opens + excluded.opens, human_opens = human_opens + excluded.human_opens, machine_opens = machine_opens + excluded.machine_opens, clicks = clicks + excluded.clicks`);
      const kvGet = sqlite.prepare('select value from kv where key = ?').pluck();
      const kvSet = sqlite.prepare('insert into kv (key, value) values (?, ?) on conflict (key) do update set value = excluded.value');
      this.syncOps = {
        getKv: (key) => kvGet.get(key) as string | undefined,
        setKv: (key, value) => { kvSet.run(key, value); },
        copy: (id) => copy.get(id) as CopyInfo | undefined,
        ipTruncation: (id) => {
          const r = dom.get(id) as { t: number } | undefined;
          return r ? !!r.t : undefined;
        },
        claimFirst: (copyId, kind, at) => claim.run(copyId, kind, at).changes === 1,
        insertEvent: (row) => { ev.run(...EVENT_COLS.map((c) => (row as Record<string, unknown>)[c] ?? null)); },
        addHourly: (r) => { hourly.run(r.accountId, r.domainId, r.hour, r.opens, r.uniqueOpens, r.humanOpens, r.machineOpens, r.clicks, r.uniqueClicks); },
        addBreakdown: (r) => { bd.run(r.accountId, r.domainId, r.hour, r.dimension, r.value, r.opens, r.humanOpens, r.machineOpens, r.clicks); },
      };
    }
    const ops = this.syncOps;
    return { value: sqlite.transaction(() => fn(ops)).immediate() };
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.kysely.transaction().execute(fn);
  }

  async copies(ex: Exec, ids: string[]): Promise<Map<string, CopyInfo>> {
    const out = new Map<string, CopyInfo>();
    for (const part of chunks(ids)) {
      const rows = await ex.selectFrom('messageCopies')
        .select(['id', 'accountId', 'domainId', 'messageId', 'recipient', 'deliveredAt'])
        .where('id', 'in', part).execute();
      for (const r of rows) out.set(r.id, r);
    }
    return out;
  }

  /** ip_truncation per domain id. */
  async domainPrivacy(ex: Exec, ids: string[]): Promise<Map<string, { ipTruncation: boolean; retentionDays: number }>> {
    const out = new Map<string, { ipTruncation: boolean; retentionDays: number }>();
    for (const part of chunks(ids)) {
      const rows = await ex.selectFrom('domains').select(['id', 'ipTruncation', 'retentionDays']).where('id', 'in', part).execute();
      for (const r of rows) out.set(r.id, { ipTruncation: !!r.ipTruncation, retentionDays: r.retentionDays });
    }
    return out;
  }

  /** Claims first open/click marks; returns the `copyId kind` keys this call won (others existed already). */
  async claimFirsts(ex: Exec, rows: { copyId: string; kind: string; at: number }[]): Promise<Set<string>> {
    const won = new Set<string>();
    for (const part of chunks(rows)) {
      const r = await ex.insertInto('trackingFirsts').values(part)
        .onConflict((oc) => oc.columns(['copyId', 'kind']).doNothing())
        .returning(['copyId', 'kind']).execute();
      for (const x of r) won.add(`${x.copyId} ${x.kind}`);
    }
    return won;
  }

  async insertEvents(ex: Exec, rows: Insertable<EventsTable>[]): Promise<void> {
    for (const part of chunks(rows, 100)) await ex.insertInto('events').values(part).execute();
  }

  /** Adds the deltas (one row per key: aggregate before calling). */
  async addHourly(ex: Exec, rows: HourlyDelta[]): Promise<void> {
    for (const part of chunks(rows, 200)) {
      await ex.insertInto('rollupsHourly').values(part.map((r) => ({ ...r, delivered: 0 })))
        .onConflict((oc) => oc.columns(['accountId', 'domainId', 'hour']).doUpdateSet((eb) => ({
          opens: eb('rollupsHourly.opens', '+', eb.ref('excluded.opens')),
          uniqueOpens: eb('rollupsHourly.uniqueOpens', '+', eb.ref('excluded.uniqueOpens')),
          humanOpens: eb('rollupsHourly.humanOpens', '+', eb.ref('excluded.humanOpens')),
          machineOpens: eb('rollupsHourly.machineOpens', '+', eb.ref('excluded.machineOpens')),
          clicks: eb('rollupsHourly.clicks', '+', eb.ref('excluded.clicks')),
          uniqueClicks: eb('rollupsHourly.uniqueClicks', '+', eb.ref('excluded.uniqueClicks')),
        }))).execute();
    }
  }

  async addBreakdown(ex: Exec, rows: BreakdownDelta[]): Promise<void> {
    for (const part of chunks(rows, 200)) {
      await ex.insertInto('rollupsBreakdown').values(part)
        .onConflict((oc) => oc.columns(['accountId', 'domainId', 'hour', 'dimension', 'value']).doUpdateSet((eb) => ({
          opens: eb('rollupsBreakdown.opens', '+', eb.ref('excluded.opens')),
          humanOpens: eb('rollupsBreakdown.humanOpens', '+', eb.ref('excluded.humanOpens')),
          machineOpens: eb('rollupsBreakdown.machineOpens', '+', eb.ref('excluded.machineOpens')),
          clicks: eb('rollupsBreakdown.clicks', '+', eb.ref('excluded.clicks')),
        }))).execute();
    }
  }

  /** Every domain's id and retention window (for the purge). */
  retentionByDomain(): Promise<{ id: string; retentionDays: number }[]> {
    return this.db.kysely.selectFrom('domains').select(['id', 'retentionDays']).execute();
  }

  /**
   * Deletes up to `limit` raw events of one domain (null: events without a domain) created before `before`.
   * Returns how many went. Rollups are separate tables and stay.
   */
  async purgeEvents(domainId: string | null, before: number, limit = 5000): Promise<number> {
    const db = this.db.kysely;
    let ids = db.selectFrom('events').select('id').where('createdAt', '<', before).limit(limit);
    ids = domainId === null ? ids.where('domainId', 'is', null) : ids.where('domainId', '=', domainId);
    const r = await db.deleteFrom('events').where('id', 'in', ids).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
