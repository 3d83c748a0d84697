// The store suite runs on both dialects: SQLite (file) and PostgreSQL (own schema).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestStore } from '../helpers/dialects.ts';
import { createAccount, authenticateApiKey, authenticateSmtp } from '../../src/accounts/account-service.ts';
import { pendingMigrations } from '../../src/store/migrator.ts';
import { AppError } from '../../src/domain/errors.ts';
import { verifyPassword } from '../../src/domain/secrets.ts';

for (const dialect of DIALECTS) {
  describe(`store on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof createTestStore>>;
    before(async () => { store = await createTestStore(dialect); });
    after(async () => { await store.cleanup(); });

    test('migrations are all applied and the store answers', async () => {
      assert.deepEqual(await pendingMigrations(store.db), []);
      assert.equal(await store.ping(), true);
      assert.equal(store.dialect, dialect);
    });

    test('account create stores hashes, never the secrets', async () => {
      const c = await createAccount(store, { email: 'Owner@Example.test', password: 'sup3r secret pw' });
      assert.match(c.apiKey, /^mb_[A-Za-z0-9_-]{40,}$/);
      const user = await store.accounts.userByEmail('owner@example.test');
      assert.ok(user);
      assert.notEqual(user.passwordHash, 'sup3r secret pw');
      assert.equal(await verifyPassword('sup3r secret pw', user.passwordHash), true);
      assert.equal(await verifyPassword('wrong', user.passwordHash), false);
      const keys = await store.accounts.listApiKeys(c.accountId);
      assert.equal(keys.length, 1);
      assert.ok(!JSON.stringify(keys).includes(c.apiKey), 'the key itself is not stored');
      assert.equal(await authenticateApiKey(store, c.apiKey), c.accountId);
      assert.equal(await authenticateApiKey(store, c.apiKey + 'x'), undefined);
      assert.equal(await authenticateSmtp(store, c.smtpUsername, c.smtpPassword), c.accountId);
      assert.equal(await authenticateSmtp(store, c.smtpUsername, 'nope'), undefined);
    });

    test('a duplicate email is refused with a clear error', async () => {
      await createAccount(store, { email: 'dup@example.test', password: 'password one' });
      await assert.rejects(createAccount(store, { email: 'DUP@example.test', password: 'password two' }), (e: unknown) => e instanceof AppError && e.code === 'email_taken');
    });

    test('revoked API keys stop working; another account cannot revoke them', async () => {
      const a = await createAccount(store, { email: 'a-rev@example.test', password: 'password aaa' });
      const b = await createAccount(store, { email: 'b-rev@example.test', password: 'password bbb' });
      const [keyA] = await store.accounts.listApiKeys(a.accountId);
      assert.equal(await store.accounts.revokeApiKey(b.accountId, keyA.id, Date.now()), false);
      assert.equal(await authenticateApiKey(store, a.apiKey), a.accountId);
      assert.equal(await store.accounts.revokeApiKey(a.accountId, keyA.id, Date.now()), true);
      assert.equal(await authenticateApiKey(store, a.apiKey), undefined);
    });

    test('large millisecond times round-trip as numbers', async () => {
      const t = 1_900_000_000_123;
      await store.db.kysely.insertInto('events').values({ accountId: 'acc_x', type: 'open', createdAt: t, isFirst: 1 }).execute();
      const row = await store.db.kysely.selectFrom('events').select(['createdAt', 'id']).where('accountId', '=', 'acc_x').executeTakeFirstOrThrow();
      assert.equal(row.createdAt, t);
      assert.equal(typeof row.id, 'number');
    });

    test('kv set/get upserts', async () => {
      await store.kv.set('k', 'v1');
      await store.kv.set('k', 'v2');
      assert.equal(await store.kv.get('k'), 'v2');
      assert.equal(await store.kv.get('missing'), undefined);
    });
  });
}
