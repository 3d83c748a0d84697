// Live events for the dashboard over Server-Sent Events (plain `message` events whose JSON data carries
// the type: an SSE event named "open" would collide with EventSource's own open event). One poller per account per node follows the
// events table by id (every ~500 ms) and fans rows out to that account's open streams, so many tabs cost
// one query. It reads the store, not process memory, so events written by any node show up.
//
// Serial ids are allocated before commit, so on PostgreSQL a lower id can become visible after a higher
// one was read. The poller therefore re-reads a short lookback window (ids above the highest id it had
// seen LOOKBACK_MS ago) and skips the ids it already sent: a transaction that takes longer than that to
// commit is the only thing it can miss.
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../app-context.ts';

const POLL_MS = 500;
const LOOKBACK_MS = 5000;
const BATCH = 500;
const KEEPALIVE_MS = 15_000;

export interface LiveEvent {
  id: number;
  type: string;
  createdAt: string;
  domainId: string | null;
  messageId: string | null;
  copyId: string | null;
  recipient: string | null;
  classification: string | null;
  reason: string | null;
  clientName: string | null;
  os: string | null;
  device: string | null;
  userAgent: string | null;
  url: string | null;
  isFirst: boolean;
}

interface Feed {
  subscribers: Set<FastifyReply>;
  low: number;
  high: number;
  sent: Set<number>;
  history: { at: number; maxId: number }[];
  timer?: NodeJS.Timeout;
  busy: boolean;
}

export class LiveHub {
  private readonly feeds = new Map<string, Feed>();
  private readonly keepalive: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly ctx: AppContext) {
    this.keepalive = setInterval(() => {
      for (const f of this.feeds.values()) for (const r of f.subscribers) r.raw.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Takes over the reply and streams the account's new events until the client goes away. */
  async subscribe(accountId: string, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    const open = () => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
    };
    if (this.closed) {
      open();
      return void res.end();
    }
    let feed = this.feeds.get(accountId);
    if (!feed) {
      let start: number;
      try {
        start = await this.maxId(accountId);
      } catch (err) {
        // The reply is already ours (hijacked): end it; EventSource reconnects after `retry`.
        this.ctx.log.warn({ event: 'dashboard.live_start_failed', err }, 'live events stream could not start');
        open();
        return void res.end();
      }
      feed = this.feeds.get(accountId);
      if (!feed) {
        feed = { subscribers: new Set(), low: start, high: start, sent: new Set(), history: [], busy: false };
        this.feeds.set(accountId, feed);
        const f = feed;
        f.timer = setInterval(() => void this.poll(accountId, f), POLL_MS);
      }
    }
    const f = feed;
    // The client sees the stream open only once its starting point is read: an event written after that
    // moment is always sent (it used to be possible to miss one written during the read).
    const leave = () => {
      f.subscribers.delete(reply);
      if (!f.subscribers.size) {
        clearInterval(f.timer);
        if (this.feeds.get(accountId) === f) this.feeds.delete(accountId);
      }
    };
    // Gone while the starting point was read: no subscriber (and no poller left behind for nobody).
    if (res.destroyed) return leave();
    open();
    f.subscribers.add(reply);
    res.on('close', leave);
  }

  private async maxId(accountId: string): Promise<number> {
    const r = await this.ctx.store.db.kysely.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).where('accountId', '=', accountId).executeTakeFirst();
    return Number(r?.m ?? 0);
  }

  private async poll(accountId: string, f: Feed): Promise<void> {
    if (f.busy || this.closed) return;
    f.busy = true;
    try {
      const rows = await this.ctx.store.db.kysely
        .selectFrom('events')
        .select(['id', 'type', 'createdAt', 'domainId', 'messageId', 'copyId', 'recipient', 'classification', 'reason', 'clientName', 'os', 'device', 'userAgent', 'url', 'isFirst'])
        .where('accountId', '=', accountId)
        .where('id', '>', f.low)
        .orderBy('id')
        .limit(BATCH)
        .execute();
      let chunk = '';
      for (const r of rows) {
        const id = Number(r.id);
        if (f.sent.has(id)) continue;
        f.sent.add(id);
        if (id > f.high) f.high = id;
        const ev: LiveEvent = { ...r, id, createdAt: new Date(Number(r.createdAt)).toISOString(), isFirst: !!r.isFirst };
        chunk += `id: ${id}\ndata: ${JSON.stringify(ev)}\n\n`;
      }
      if (chunk) for (const reply of f.subscribers) reply.raw.write(chunk);
      const now = Date.now();
      f.history.push({ at: now, maxId: f.high });
      // A full batch means a burst: stop looking back so we never spin on rows already sent.
      if (rows.length === BATCH) {
        f.history = [{ at: now, maxId: f.high }];
        f.low = Math.max(f.low, Number(rows[rows.length - 1].id));
      }
      while (f.history.length && f.history[0].at <= now - LOOKBACK_MS) f.low = Math.max(f.low, f.history.shift()!.maxId);
      for (const id of f.sent) if (id <= f.low) f.sent.delete(id);
    } catch (err) {
      this.ctx.log.warn({ event: 'dashboard.live_poll_failed', err }, 'live events poll failed');
    } finally {
      f.busy = false;
    }
  }

  /** Ends every stream (server shutdown: open streams would otherwise keep the listener from closing). */
  close(): void {
    this.closed = true;
    clearInterval(this.keepalive);
    for (const f of this.feeds.values()) {
      clearInterval(f.timer);
      for (const r of f.subscribers) r.raw.end();
    }
    this.feeds.clear();
  }
}
