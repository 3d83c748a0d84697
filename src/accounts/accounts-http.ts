// /api/v1/account, API keys and SMTP credentials of the authenticated account.
import type { HttpFeature } from '../http/http-feature.ts';
import { accountOf } from '../http/auth.ts';
import { newId } from '../domain/ids.ts';
import { newApiKey, randomPassword, randomToken, sha256Hex } from '../domain/secrets.ts';
import { notFound } from '../domain/errors.ts';

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export const accountsFeature: HttpFeature = {
  name: 'accounts',
  api(api, ctx) {
    const { store, clock } = ctx;
    api.get('/account', { schema: { tags: ['account'], summary: 'The authenticated account' } }, async (req) => {
      const acc = await store.accounts.get(accountOf(req));
      if (!acc) throw notFound('account');
      return { id: acc.id, name: acc.name, sendingMode: acc.sendingMode, createdAt: iso(acc.createdAt) };
    });
    api.patch<{ Body: { sendingMode: 'verified' | 'any' } }>(
      '/account',
      { schema: { tags: ['account'], summary: 'Change the sending mode', body: { type: 'object', required: ['sendingMode'], additionalProperties: false, properties: { sendingMode: { type: 'string', enum: ['verified', 'any'] } } } } },
      async (req) => {
        await store.accounts.setSendingMode(accountOf(req), req.body.sendingMode);
        return { sendingMode: req.body.sendingMode };
      },
    );
    api.get('/api-keys', { schema: { tags: ['account'], summary: 'List API keys (never the key itself)' } }, async (req) => {
      const rows = await store.accounts.listApiKeys(accountOf(req));
      return { data: rows.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, createdAt: iso(k.createdAt), revokedAt: iso(k.revokedAt) })) };
    });
    api.post<{ Body: { name?: string } }>(
      '/api-keys',
      { schema: { tags: ['account'], summary: 'Create an API key (shown once)', body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', maxLength: 100 } } } } },
      async (req, reply) => {
        const key = newApiKey();
        const now = clock.now();
        const id = newId('key_', now);
        await store.accounts.addApiKey({ id, accountId: accountOf(req), name: req.body?.name ?? 'key', prefix: key.slice(0, 10), keyHash: sha256Hex(key), createdAt: now, revokedAt: null, lastUsedAt: null });
        return reply.code(201).send({ id, name: req.body?.name ?? 'key', apiKey: key });
      },
    );
    api.delete<{ Params: { id: string } }>('/api-keys/:id', { schema: { tags: ['account'], summary: 'Revoke an API key' } }, async (req, reply) => {
      if (!(await store.accounts.revokeApiKey(accountOf(req), req.params.id, clock.now()))) throw notFound('API key');
      return reply.code(204).send();
    });
    api.get('/smtp-credentials', { schema: { tags: ['account'], summary: 'List SMTP credentials (never the password)' } }, async (req) => {
      const rows = await store.accounts.listSmtpCredentials(accountOf(req));
      return { data: rows.map((c) => ({ id: c.id, username: c.username, createdAt: iso(c.createdAt), revokedAt: iso(c.revokedAt) })) };
    });
    api.post('/smtp-credentials', { schema: { tags: ['account'], summary: 'Create an SMTP credential (password shown once)' } }, async (req, reply) => {
      const now = clock.now();
      const id = newId('smtp_', now);
      const username = `mb-${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
      const password = randomPassword(24);
      await store.accounts.addSmtpCredential({ id, accountId: accountOf(req), username, passwordHash: sha256Hex(password), createdAt: now, revokedAt: null });
      return reply.code(201).send({ id, username, password });
    });
    api.delete<{ Params: { id: string } }>('/smtp-credentials/:id', { schema: { tags: ['account'], summary: 'Revoke an SMTP credential' } }, async (req, reply) => {
      if (!(await store.accounts.revokeSmtpCredential(accountOf(req), req.params.id, clock.now()))) throw notFound('SMTP credential');
      return reply.code(204).send();
    });
  },
};
