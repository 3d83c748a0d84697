// Writes one group-commit batch of verified pixel loads and clicks: in ONE transaction it looks up the
// recipient copies, classifies each hit, claims first opens/clicks, inserts the events and adds the hourly
// and breakdown rollups. A token for a copy that does not exist records nothing.
import type { Insertable } from 'kysely';
import type { EventsTable } from '../store/schema.ts';
import type { BreakdownDelta, CopyInfo, HourlyDelta, SyncBatchOps, TrackingRepo } from '../store/tracking-repo.ts';
import { classify, type ClassifyOptions, type Verdict } from './classify.ts';
import { truncateIp } from './ip.ts';

export interface TrackHit {
  kind: 'open' | 'click';
  method: string;
  copyId: string;
  /** Arrival time (ms). */
  at: number;
  /** Canonical client address. */
  ip: string;
  userAgent: string;
  linkIndex?: number;
  url?: string;
}

export type HitOutcome = 'recorded' | 'unknown_copy';

export interface SyncBatchResult {
  claims: { copyId: string; kind: string; at: number }[];
  copies: Map<string, CopyInfo>;
  outcomes: HitOutcome[];
}

const HOUR = 3_600_000;
const CLICK_WINDOW_MS = 5_000;
const DOMAIN_TTL_MS = 10_000;

/** Which hit may claim a first open / first click: the first of each (copy, kind) in the batch. */
function planClaims(hits: TrackHit[], copies: Map<string, CopyInfo>) {
  const claims: { copyId: string; kind: string; at: number }[] = [];
  const claimedBy = new Map<string, number>();
  hits.forEach((h, i) => {
    if (!copies.has(h.copyId) || h.method === 'HEAD') return;
    for (const kind of h.kind === 'click' ? ['click', 'open'] : ['open']) {
      const k = `${h.copyId} ${kind}`;
      if (claimedBy.has(k)) continue;
      claimedBy.set(k, i);
      claims.push({ copyId: h.copyId, kind, at: h.at });
    }
  });
  return { claims, claimedBy };
}

export class EventWriter {
  private readonly domainCache = new Map<string, { ipTruncation: boolean; until: number }>();
  /** Recent clicks per copy on this node (bounded), for "many links clicked within seconds". */
  private readonly recentClicks = new Map<string, { linkIndex: number; at: number }[]>();
  /** (copy, kind) pairs known to have their first event claimed already (bounded). */
  private readonly claimed = new Set<string>();

  /**
   * Copy metadata by id (bounded, oldest dropped first). Only delivered copies: what the events need from
   * them (account, domain, message, recipient, delivery time) no longer changes after delivery.
   */
  private readonly copyCache = new Map<string, CopyInfo>();

  private cacheCopies(copies: Map<string, CopyInfo>) {
    for (const c of copies.values()) {
      if (c.deliveredAt === null || this.copyCache.has(c.id)) continue;
      if (this.copyCache.size >= 100_000) this.copyCache.delete(this.copyCache.keys().next().value!);
      this.copyCache.set(c.id, c);
    }
  }

  private remember(key: string) {
    if (this.claimed.size >= 200_000) this.claimed.delete(this.claimed.values().next().value!);
    this.claimed.add(key);
  }

  constructor(private readonly repo: TrackingRepo, private readonly opts: ClassifyOptions, private readonly now: () => number) {}

  async write(hits: TrackHit[]): Promise<HitOutcome[]> {
    // SQLite: one synchronous transaction of prepared statements (fast path).
    const sync = this.repo.runSync((ops) => this.applySync(ops, hits));
    if (sync) {
      this.afterCommit(sync.value);
      return sync.value.outcomes;
    }
    const ids = [...new Set(hits.map((h) => h.copyId))];
    return this.repo.transaction(async (trx) => {
      const copies = await this.repo.copies(trx, ids.filter((id) => !this.copyCache.has(id)));
      for (const id of ids) {
        const c = this.copyCache.get(id);
        if (c) copies.set(id, c);
      }
      const privacy = await this.privacyFromCache(copies, async (missing) => {
        const rows = await this.repo.domainPrivacy(trx, missing);
        return new Map(missing.map((id) => [id, rows.get(id)?.ipTruncation ?? false]));
      });
      const { claims, claimedBy } = planClaims(hits, copies);
      const todo = claims.filter((c) => !this.claimed.has(`${c.copyId} ${c.kind}`));
      const won = todo.length ? await this.repo.claimFirsts(trx, todo) : new Set<string>();
      const b = this.build(hits, copies, privacy, claimedBy, won);
      if (b.events.length) await this.repo.insertEvents(trx, b.events);
      if (b.hourly.length) await this.repo.addHourly(trx, b.hourly);
      if (b.breakdown.length) await this.repo.addBreakdown(trx, b.breakdown);
      return { claims, copies, outcomes: b.outcomes };
    }).then(({ claims, copies, outcomes }) => {
      // Only after the commit: a rolled-back claim must not be remembered.
      for (const c of claims) this.remember(`${c.copyId} ${c.kind}`);
      this.cacheCopies(copies);
      return outcomes;
    });
  }

  /**
   * The whole batch on SQLite's prepared statements, inside the caller's synchronous transaction (runSync):
   * copy lookup, classification, first-open claims, events and rollups. Call afterCommit() with the result
   * once that transaction has committed. The event journal's ingester runs this beside its checkpoint update.
   */
  applySync(ops: SyncBatchOps, hits: TrackHit[]): SyncBatchResult {
    const copies = new Map<string, CopyInfo>();
    for (const h of hits) {
      if (copies.has(h.copyId)) continue;
      const c = this.copyCache.get(h.copyId) ?? ops.copy(h.copyId);
      if (c) copies.set(h.copyId, c);
    }
    const privacy = this.privacyFromCache(copies, (missing) => new Map(missing.map((id) => [id, ops.ipTruncation(id) ?? false])));
    const { claims, claimedBy } = planClaims(hits, copies);
    // A (copy, kind) this node has seen claimed needs no insert attempt: claims are never undone.
    const won = new Set(claims.filter((c) => !this.claimed.has(`${c.copyId} ${c.kind}`) && ops.claimFirst(c.copyId, c.kind, c.at)).map((c) => `${c.copyId} ${c.kind}`));
    const b = this.build(hits, copies, privacy, claimedBy, won);
    for (const e of b.events) ops.insertEvent(e);
    for (const h of b.hourly) ops.addHourly(h);
    for (const x of b.breakdown) ops.addBreakdown(x);
    return { claims, copies, outcomes: b.outcomes };
  }

  /** Only after the commit: a rolled-back claim must not be remembered. */
  afterCommit(r: SyncBatchResult): void {
    for (const c of r.claims) this.remember(`${c.copyId} ${c.kind}`);
    this.cacheCopies(r.copies);
  }

  /** Classifies every hit and builds the event rows and rollup deltas of the batch. */
  private build(hits: TrackHit[], copies: Map<string, CopyInfo>, privacy: Map<string, boolean>, claimedBy: Map<string, number>, won: Set<string>) {
    const isFirst = (i: number, kind: string, copyId: string) => claimedBy.get(`${copyId} ${kind}`) === i && won.has(`${copyId} ${kind}`);
    const events: Insertable<EventsTable>[] = [];
    const hourly = new Map<string, HourlyDelta>();
    const breakdown = new Map<string, BreakdownDelta>();
    const outcomes: HitOutcome[] = hits.map((h, i) => {
      const copy = copies.get(h.copyId);
      if (!copy) return 'unknown_copy';
      const v = classify({
        kind: h.kind,
        method: h.method,
        userAgent: h.userAgent,
        ip: h.ip,
        sinceDeliveryMs: copy.deliveredAt === null ? undefined : h.at - copy.deliveredAt,
        recentOtherClicks: h.kind === 'click' && h.method !== 'HEAD' ? this.noteClick(h) : undefined,
      }, this.opts);
      const trunc = copy.domainId ? privacy.get(copy.domainId) : false;
      const ip = trunc ? truncateIp(h.ip) : h.ip;
      if (h.method === 'HEAD') {
        events.push(this.row(copy, h, v, ip, h.kind === 'open' ? 'open_signal' : 'click_signal', false, {}));
        return 'recorded';
      }
      if (h.kind === 'click') {
        // A click on a copy never opened: the images were blocked, so it was opened too (implied open).
        if (isFirst(i, 'open', h.copyId)) {
          events.push(this.row(copy, h, v, ip, 'open', true, { implied: true }));
          this.count(hourly, breakdown, copy, h.at, v, 'open', true);
        }
        const first = isFirst(i, 'click', h.copyId);
        events.push(this.row(copy, h, v, ip, 'click', first, {}));
        this.count(hourly, breakdown, copy, h.at, v, 'click', first);
      } else {
        const first = isFirst(i, 'open', h.copyId);
        events.push(this.row(copy, h, v, ip, 'open', first, {}));
        this.count(hourly, breakdown, copy, h.at, v, 'open', first);
      }
      return 'recorded';
    });
    return { events, hourly: [...hourly.values()], breakdown: [...breakdown.values()], outcomes };
  }

  /** ip_truncation per domain of the batch, from a short-lived cache; `load` fetches the misses. */
  private privacyFromCache<R extends Map<string, boolean> | Promise<Map<string, boolean>>>(copies: Map<string, CopyInfo>, load: (missing: string[]) => R): R {
    const now = this.now();
    const out = new Map<string, boolean>();
    const missing = new Set<string>();
    for (const c of copies.values()) {
      if (!c.domainId || out.has(c.domainId)) continue;
      const hit = this.domainCache.get(c.domainId);
      if (hit && hit.until > now) out.set(c.domainId, hit.ipTruncation);
      else missing.add(c.domainId);
    }
    const merge = (rows: Map<string, boolean>) => {
      if (this.domainCache.size > 10_000) this.domainCache.clear();
      for (const [id, ipTruncation] of rows) {
        out.set(id, ipTruncation);
        this.domainCache.set(id, { ipTruncation, until: now + DOMAIN_TTL_MS });
      }
      return out;
    };
    if (!missing.size) return out as R;
    const loaded = load([...missing]);
    return (loaded instanceof Promise ? loaded.then(merge) : merge(loaded)) as R;
  }

  /** Records a click and returns how many OTHER links of the copy were clicked in the window. */
  private noteClick(h: TrackHit): number {
    const list = (this.recentClicks.get(h.copyId) ?? []).filter((c) => h.at - c.at <= CLICK_WINDOW_MS);
    const others = new Set(list.filter((c) => c.linkIndex !== h.linkIndex).map((c) => c.linkIndex)).size;
    list.push({ linkIndex: h.linkIndex ?? 0, at: h.at });
    this.recentClicks.delete(h.copyId);
    this.recentClicks.set(h.copyId, list);
    if (this.recentClicks.size > 10_000) this.recentClicks.delete(this.recentClicks.keys().next().value!);
    return others;
  }

  private row(copy: CopyInfo, h: TrackHit, v: Verdict, ip: string, type: string, first: boolean, extra: Record<string, unknown>): Insertable<EventsTable> {
    const data: Record<string, unknown> = { ...v.signals, ...extra, method: h.method };
    if (v.proxied) data.proxied = true;
    if (v.osVersion) data.osVersion = v.osVersion;
    return {
      accountId: copy.accountId,
      domainId: copy.domainId,
      messageId: copy.messageId,
      copyId: copy.id,
      type,
      createdAt: h.at,
      recipient: copy.recipient,
      linkIndex: type === 'click' || type === 'click_signal' ? h.linkIndex ?? null : null,
      url: type === 'click' || type === 'click_signal' ? h.url ?? null : null,
      ip,
      userAgent: h.userAgent || null,
      clientName: v.clientName,
      clientVersion: v.clientVersion,
      os: v.os,
      device: v.device,
      classification: v.classification,
      reason: v.reason,
      isFirst: first ? 1 : 0,
      data: JSON.stringify(data),
    };
  }

  private count(hourly: Map<string, HourlyDelta>, breakdown: Map<string, BreakdownDelta>, copy: CopyInfo, at: number, v: Verdict, kind: 'open' | 'click', first: boolean) {
    const hour = Math.floor(at / HOUR) * HOUR;
    const domainId = copy.domainId ?? '';
    const hk = `${copy.accountId}\0${domainId}\0${hour}`;
    let h = hourly.get(hk);
    if (!h) hourly.set(hk, (h = { accountId: copy.accountId, domainId, hour, opens: 0, uniqueOpens: 0, humanOpens: 0, machineOpens: 0, clicks: 0, uniqueClicks: 0 }));
    const human = v.classification === 'human';
    if (kind === 'open') {
      h.opens++;
      if (first) h.uniqueOpens++;
      if (human) h.humanOpens++;
      else h.machineOpens++;
    } else {
      h.clicks++;
      if (first) h.uniqueClicks++;
    }
    const dims: [string, string | null][] = [['client', v.clientName], ['os', v.os], ['device', v.device], ['reason', v.reason]];
    for (const [dimension, value] of dims) {
      const k = `${hk}\0${dimension}\0${value ?? ''}`;
      let b = breakdown.get(k);
      if (!b) breakdown.set(k, (b = { accountId: copy.accountId, domainId, hour, dimension, value: value ?? '', opens: 0, humanOpens: 0, machineOpens: 0, clicks: 0 }));
      if (kind === 'open') {
        b.opens++;
        if (human) b.humanOpens++;
        else b.machineOpens++;
      } else b.clicks++;
    }
  }
}
