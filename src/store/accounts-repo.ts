// Accounts (tenants), dashboard users, API keys and SMTP credentials.
import type { Db } from './database.ts';
import type { AccountsTable, ApiKeysTable, SmtpCredentialsTable, UsersTable } from './schema.ts';

export class AccountsRepo {
  constructor(private readonly db: Db) {}

  async create(input: { account: AccountsTable; user?: UsersTable; apiKey?: ApiKeysTable; smtp?: SmtpCredentialsTable }): Promise<void> {
    await this.db.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values(input.account).execute();
      if (input.user) await trx.insertInto('users').values(input.user).execute();
      if (input.apiKey) await trx.insertInto('apiKeys').values(input.apiKey).execute();
      if (input.smtp) await trx.insertInto('smtpCredentials').values(input.smtp).execute();
    });
  }

  async count(): Promise<number> {
    const r = await this.db.kysely.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  get(id: string): Promise<AccountsTable | undefined> {
    return this.db.kysely.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async setSendingMode(id: string, mode: 'verified' | 'any'): Promise<void> {
    await this.db.kysely.updateTable('accounts').set({ sendingMode: mode }).where('id', '=', id).execute();
  }

  userByEmail(email: string): Promise<UsersTable | undefined> {
    return this.db.kysely.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
  }

  userById(id: string): Promise<UsersTable | undefined> {
    return this.db.kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async setUserPassword(userId: string, passwordHash: string): Promise<void> {
    await this.db.kysely.updateTable('users').set({ passwordHash }).where('id', '=', userId).execute();
  }

  /** The active (not revoked) API key with this hash. */
  apiKeyByHash(keyHash: string): Promise<ApiKeysTable | undefined> {
    return this.db.kysely.selectFrom('apiKeys').selectAll().where('keyHash', '=', keyHash).where('revokedAt', 'is', null).executeTakeFirst();
  }

  async addApiKey(row: ApiKeysTable): Promise<void> {
    await this.db.kysely.insertInto('apiKeys').values(row).execute();
  }

  listApiKeys(accountId: string): Promise<ApiKeysTable[]> {
    return this.db.kysely.selectFrom('apiKeys').selectAll().where('accountId', '=', accountId).orderBy('createdAt').execute();
  }

  /** Revokes a key of this account; false when there is none (another account's id included). */
  async revokeApiKey(accountId: string, id: string, now: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('apiKeys').set({ revokedAt: now }).where('id', '=', id).where('accountId', '=', accountId).where('revokedAt', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  smtpCredentialByUsername(username: string): Promise<SmtpCredentialsTable | undefined> {
    return this.db.kysely.selectFrom('smtpCredentials').selectAll().where('username', '=', username).where('revokedAt', 'is', null).executeTakeFirst();
  }

  async addSmtpCredential(row: SmtpCredentialsTable): Promise<void> {
    await this.db.kysely.insertInto('smtpCredentials').values(row).execute();
  }

  listSmtpCredentials(accountId: string): Promise<SmtpCredentialsTable[]> {
    return this.db.kysely.selectFrom('smtpCredentials').selectAll().where('accountId', '=', accountId).orderBy('createdAt').execute();
  }

  async revokeSmtpCredential(accountId: string, id: string, now: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('smtpCredentials').set({ revokedAt: now }).where('id', '=', id).where('accountId', '=', accountId).where('revokedAt', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
