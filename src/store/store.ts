// The one store interface: repositories over a Db, the same code on SQLite and PostgreSQL.
import { sql } from 'kysely';
import { openDatabase, type Db, type OpenOptions } from './database.ts';
import { migrateToLatest } from './migrator.ts';
import { AccountsRepo } from './accounts-repo.ts';
import { KvRepo } from './kv-repo.ts';
import { DomainsRepo } from './domains-repo.ts';
import { TrackingDomainsRepo } from './tracking-domains-repo.ts';
import { SessionsRepo } from './sessions-repo.ts';
import { TrackingRepo } from './tracking-repo.ts';
import { EventsReadRepo } from './events-read-repo.ts';
import { StatsRepo } from './stats-repo.ts';
import { WebhooksRepo } from './webhooks-repo.ts';
import { MessagesRepo } from './messages-repo.ts';

export class Store {
  readonly accounts: AccountsRepo;
  readonly kv: KvRepo;
  readonly domains: DomainsRepo;
  readonly trackingDomains: TrackingDomainsRepo;
  readonly sessions: SessionsRepo;
  readonly tracking: TrackingRepo;
  readonly eventsRead: EventsReadRepo;
  readonly stats: StatsRepo;
  readonly webhooks: WebhooksRepo;
  readonly messages: MessagesRepo;

  constructor(readonly db: Db) {
    this.accounts = new AccountsRepo(db);
    this.kv = new KvRepo(db);
    this.domains = new DomainsRepo(db);
    this.trackingDomains = new TrackingDomainsRepo(db);
    this.sessions = new SessionsRepo(db);
    this.tracking = new TrackingRepo(db);
    this.eventsRead = new EventsReadRepo(db);
    this.stats = new StatsRepo(db);
    this.webhooks = new WebhooksRepo(db);
    this.messages = new MessagesRepo(db);
  }

  get dialect() {
    return this.db.dialect;
  }

  /** True when the store answers a trivial query (readiness). */
  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db.kysely);
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** Opens the store and brings its schema up to date. */
export async function openStore(url: string, opts: OpenOptions & { migrate?: boolean } = {}): Promise<Store> {
  const db = await openDatabase(url, opts);
  if (opts.migrate !== false) await migrateToLatest(db);
  return new Store(db);
}
