// Creating a tenant with its first dashboard user, API key and SMTP credential.
import { newId } from '../domain/ids.ts';
import { hashPassword, newApiKey, randomPassword, randomToken, sha256Hex } from '../domain/secrets.ts';
import { invalid, conflict } from '../domain/errors.ts';
import type { Store } from '../store/store.ts';

export interface NewAccountCredentials {
  accountId: string;
  userId: string;
  apiKey: string;
  smtpUsername: string;
  smtpPassword: string;
}

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

export async function createAccount(store: Store, input: { email: string; password: string; name?: string }, now = Date.now()): Promise<NewAccountCredentials> {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email)) throw invalid('email is not a valid address', { email: 'not a valid address' });
  if (input.password.length < 8) throw invalid('password must be at least 8 characters', { password: 'at least 8 characters' });
  if (await store.accounts.userByEmail(email)) throw conflict('email_taken', `a user with email ${email} already exists`);
  const accountId = newId('acc_', now);
  const userId = newId('usr_', now);
  const apiKey = newApiKey();
  const smtpUsername = `mb-${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const smtpPassword = randomPassword(24);
  await store.accounts.create({
    account: { id: accountId, name: input.name ?? email, sendingMode: 'verified', createdAt: now },
    user: { id: userId, accountId, email, passwordHash: await hashPassword(input.password), createdAt: now },
    apiKey: { id: newId('key_', now), accountId, name: 'default', prefix: apiKey.slice(0, 10), keyHash: sha256Hex(apiKey), createdAt: now, revokedAt: null, lastUsedAt: null },
    smtp: { id: newId('smtp_', now), accountId, username: smtpUsername, passwordHash: sha256Hex(smtpPassword), createdAt: now, revokedAt: null },
  });
  return { accountId, userId, apiKey, smtpUsername, smtpPassword };
}

/** The account an API key belongs to, or undefined for a wrong or revoked key. */
export async function authenticateApiKey(store: Store, key: string): Promise<string | undefined> {
  if (!key.startsWith('mb_')) return undefined;
  const row = await store.accounts.apiKeyByHash(sha256Hex(key));
  return row?.accountId;
}

/** The account an SMTP login belongs to, or undefined. */
export async function authenticateSmtp(store: Store, username: string, password: string): Promise<string | undefined> {
  const row = await store.accounts.smtpCredentialByUsername(username);
  if (!row) return undefined;
  // Constant-time enough: both are hex digests of equal length.
  return row.passwordHash === sha256Hex(password) ? row.accountId : undefined;
}
