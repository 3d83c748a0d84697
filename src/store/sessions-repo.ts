// Dashboard sessions (see migrations/0700): looked up by the hash of the cookie token, scoped by expiry.
import type { Db } from './database.ts';
import type { SessionsTable } from './schema.ts';

export class SessionsRepo {
  constructor(private readonly db: Db) {}

  async insert(row: SessionsTable): Promise<void> {
    await this.db.kysely.insertInto('sessions').values(row).execute();
  }

  /** A live session (not expired at `now`). */
  get(id: string, now: number): Promise<SessionsTable | undefined> {
    return this.db.kysely.selectFrom('sessions').selectAll().where('id', '=', id).where('expiresAt', '>', now).executeTakeFirst();
  }

  async delete(id: string): Promise<void> {
    await this.db.kysely.deleteFrom('sessions').where('id', '=', id).execute();
  }

  /** Ends every session of a user except `keepId` (after a password change). */
  async deleteForUser(userId: string, keepId?: string): Promise<number> {
    let q = this.db.kysely.deleteFrom('sessions').where('userId', '=', userId);
    if (keepId) q = q.where('id', '!=', keepId);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpired(now: number): Promise<number> {
    const r = await this.db.kysely.deleteFrom('sessions').where('expiresAt', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
