// Sending domains of an account, with their source, validation status, DKIM key and tracking settings.
import type { Updateable } from 'kysely';
import type { Db } from './database.ts';
import type { DomainsTable } from './schema.ts';

export class DomainsRepo {
  constructor(private readonly db: Db) {}

  async insert(row: DomainsTable): Promise<void> {
    await this.db.kysely.insertInto('domains').values(row).execute();
  }

  /** A domain of this account (another account's id gives undefined). */
  get(accountId: string, id: string): Promise<DomainsTable | undefined> {
    return this.db.kysely.selectFrom('domains').selectAll().where('id', '=', id).where('accountId', '=', accountId).executeTakeFirst();
  }

  /** Internal lookups (workers, tracking): not scoped to an account. */
  getById(id: string): Promise<DomainsTable | undefined> {
    return this.db.kysely.selectFrom('domains').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(accountId: string, name: string): Promise<DomainsTable | undefined> {
    return this.db.kysely.selectFrom('domains').selectAll().where('accountId', '=', accountId).where('name', '=', name.toLowerCase()).executeTakeFirst();
  }

  list(accountId: string): Promise<DomainsTable[]> {
    return this.db.kysely.selectFrom('domains').selectAll().where('accountId', '=', accountId).orderBy('name').execute();
  }

  /** Dashboard domains not checked since `checkedBefore` (the periodic DNS re-check; not account-scoped). */
  dueForCheck(checkedBefore: number, limit = 200): Promise<DomainsTable[]> {
    return this.db.kysely.selectFrom('domains').selectAll().where('source', '=', 'dashboard')
      // Never checked: due one interval after it was added (not at once, so a fresh row is left alone).
      .where((eb) => eb.or([eb('lastCheckedAt', '<', checkedBefore), eb.and([eb('lastCheckedAt', 'is', null), eb('createdAt', '<', checkedBefore)])]))
      .orderBy('lastCheckedAt').limit(limit).execute();
  }

  async update(accountId: string, id: string, patch: Updateable<DomainsTable>): Promise<boolean> {
    const r = await this.db.kysely.updateTable('domains').set(patch).where('id', '=', id).where('accountId', '=', accountId).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(accountId: string, id: string): Promise<boolean> {
    const r = await this.db.kysely.deleteFrom('domains').where('id', '=', id).where('accountId', '=', accountId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
