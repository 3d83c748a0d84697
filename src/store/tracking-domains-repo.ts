// Custom tracking hostnames of sending domains: the active one per domain, retired ones kept so old
// tokens keep answering, and their ACME certificates.
import type { Updateable } from 'kysely';
import type { Db } from './database.ts';
import type { TrackingDomainsTable } from './schema.ts';

export class TrackingDomainsRepo {
  constructor(private readonly db: Db) {}

  async insert(row: TrackingDomainsTable): Promise<void> {
    await this.db.kysely.insertInto('trackingDomains').values(row).execute();
  }

  /** The active (not retired) tracking domain of a sending domain, scoped to the account. */
  active(accountId: string, domainId: string): Promise<TrackingDomainsTable | undefined> {
    return this.db.kysely.selectFrom('trackingDomains').selectAll()
      .where('accountId', '=', accountId).where('domainId', '=', domainId).where('retiredAt', 'is', null)
      .executeTakeFirst();
  }

  byHostname(hostname: string): Promise<TrackingDomainsTable | undefined> {
    return this.db.kysely.selectFrom('trackingDomains').selectAll().where('hostname', '=', hostname.toLowerCase()).executeTakeFirst();
  }

  getById(id: string): Promise<TrackingDomainsTable | undefined> {
    return this.db.kysely.selectFrom('trackingDomains').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Hostnames the tracking listener answers for: verified ones, active or retired (never dangling). */
  async servedHostnames(): Promise<string[]> {
    const rows = await this.db.kysely.selectFrom('trackingDomains').select('hostname').where('status', '=', 'verified').execute();
    return rows.map((r) => r.hostname);
  }

  /** Rows the periodic check looks at: everything once verified (active or retired) and pending ones. */
  dueForCheck(checkedBefore: number, limit = 200): Promise<TrackingDomainsTable[]> {
    return this.db.kysely.selectFrom('trackingDomains').selectAll()
      .where('status', 'in', ['verified', 'pending'])
      // Never checked: due one interval after it was added (not at once, so a fresh row is left alone).
      .where((eb) => eb.or([eb('lastCheckedAt', '<', checkedBefore), eb.and([eb('lastCheckedAt', 'is', null), eb('createdAt', '<', checkedBefore)])]))
      .orderBy('lastCheckedAt').limit(limit).execute();
  }

  /** Verified rows that need a certificate: none yet, failed a while ago, or expiring before `renewBefore`. */
  needingCertificate(renewBefore: number, retryBefore: number, limit = 50): Promise<TrackingDomainsTable[]> {
    return this.db.kysely.selectFrom('trackingDomains').selectAll()
      .where('status', '=', 'verified').where('retiredAt', 'is', null)
      .where((eb) => eb.or([
        eb('certStatus', 'in', ['none', 'pending']),
        eb.and([eb('certStatus', '=', 'failed'), eb.or([eb('certAttemptAt', 'is', null), eb('certAttemptAt', '<', retryBefore)])]),
        eb.and([eb('certStatus', '=', 'valid'), eb('certExpiresAt', '<', renewBefore), eb.or([eb('certAttemptAt', 'is', null), eb('certAttemptAt', '<', retryBefore)])]),
        eb.and([eb('certStatus', '=', 'issuing'), eb('certAttemptAt', '<', retryBefore)]),
      ]))
      .limit(limit).execute();
  }

  /**
   * Claims a row for issuing a certificate (one node at a time): true when this caller won. A claim older
   * than `staleBefore` (a node died mid-issuance) can be taken over.
   */
  async claimIssuance(id: string, now: number, staleBefore: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('trackingDomains').set({ certStatus: 'issuing', certAttemptAt: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('certStatus', '!=', 'issuing'), eb('certAttemptAt', 'is', null), eb('certAttemptAt', '<', staleBefore)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async update(id: string, patch: Updateable<TrackingDomainsTable>): Promise<void> {
    await this.db.kysely.updateTable('trackingDomains').set(patch).where('id', '=', id).execute();
  }

  /** Retires every active tracking domain of a sending domain (replaced or deleted). */
  async retireForDomain(domainId: string, now: number): Promise<void> {
    await this.db.kysely.updateTable('trackingDomains').set({ retiredAt: now }).where('domainId', '=', domainId).where('retiredAt', 'is', null).execute();
  }

  /** A certificate for the HTTPS listener: only for hostnames that are served. */
  async certificateFor(hostname: string): Promise<{ certPem: string; keyPem: string; certExpiresAt: number | null } | undefined> {
    const r = await this.db.kysely.selectFrom('trackingDomains').select(['certPem', 'keyPem', 'certExpiresAt'])
      .where('hostname', '=', hostname.toLowerCase()).where('status', '=', 'verified').where('certPem', 'is not', null)
      .executeTakeFirst();
    return r?.certPem && r.keyPem ? { certPem: r.certPem, keyPem: r.keyPem, certExpiresAt: r.certExpiresAt } : undefined;
  }
}
