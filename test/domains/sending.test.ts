// createDomain / resolveSendingDomain / trackingBaseFor against a real store, on both dialects.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createPrivateKey, createSign, createVerify } from 'node:crypto';
import { DIALECTS, createTestStore } from '../helpers/dialects.ts';
import { createAccount } from '../../src/accounts/account-service.ts';
import { createDomain, dnsRecordsFor } from '../../src/domains/domain-service.ts';
import { resolveSendingDomain, trackingAllowed } from '../../src/domains/sending-rules.ts';
import { trackingBaseFor } from '../../src/domains/tracking-base.ts';
import { AppError } from '../../src/domain/errors.ts';
import { contextFor } from './ctx.ts';

let n = 0;
for (const dialect of DIALECTS) {
  describe(`sending domains on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof createTestStore>>;
    before(async () => { store = await createTestStore(dialect); });
    after(async () => { await store.cleanup(); });
    const account = () => createAccount(store, { email: `s${++n}@example.test`, password: 'password 123' });

    test('createDomain makes a pending row with a working RSA-2048 DKIM key and its records', async () => {
      const ctx = contextFor(store);
      const a = await account();
      const d = await createDomain(ctx, a.accountId, 'Example.COM', 'dashboard');
      assert.equal(d.name, 'example.com');
      assert.equal(d.status, 'pending');
      assert.match(d.dkimSelector, /^mb\d{6}$/);
      const pub = createPublicKey(d.dkimPublicKey);
      assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
      const sig = createSign('sha256').update('x').sign(createPrivateKey(d.dkimPrivateKey));
      assert.equal(createVerify('sha256').update('x').verify(pub, sig), true);
      const recs = dnsRecordsFor(d);
      assert.deepEqual(recs.map((r) => [r.purpose, r.name]), [['verification', '_mailbeacon.example.com'], ['dkim', `${d.dkimSelector}._domainkey.example.com`], ['spf', 'example.com']]);
      assert.equal(recs[0].value, `mailbeacon-verification=${d.verificationToken}`);
      assert.match(recs[1].value, /^v=DKIM1; k=rsa; p=MIIB[A-Za-z0-9+/=]+$/);
      await assert.rejects(createDomain(ctx, a.accountId, 'example.com', 'dashboard'), (e: unknown) => e instanceof AppError && e.code === 'domain_exists');
      const again = await createDomain(ctx, a.accountId, 'example.com', 'control_panel');
      assert.equal(again.id, d.id);
      assert.equal(again.source, 'dashboard');
      assert.deepEqual(trackingAllowed(d), { opens: false, clicks: false, reason: trackingAllowed(d).reason });
      assert.match(trackingAllowed(d).reason!, /not verified yet/);
    });

    test('resolveSendingDomain: own domains and their subdomains; any-mode records manual_dns; verified mode refuses', async () => {
      const ctx = contextFor(store, { MAILBEACON_PUBLIC_URL: 'http://track.mb.test:8080' });
      const a = await account();
      const d = await createDomain(ctx, a.accountId, 'shop.test', 'dashboard');
      assert.equal((await resolveSendingDomain(ctx, a.accountId, 'shop.test')).id, d.id);
      assert.equal((await resolveSendingDomain(ctx, a.accountId, 'News.Shop.Test')).id, d.id);
      const cp = await createDomain(ctx, a.accountId, 'panel.test', 'control_panel');
      assert.equal((await resolveSendingDomain(ctx, a.accountId, 'panel.test')).id, cp.id);
      await assert.rejects(resolveSendingDomain(ctx, a.accountId, 'elsewhere.test'), (e: unknown) =>
        e instanceof AppError && e.kind === 'forbidden' && e.code === 'sender_domain_not_allowed' && /elsewhere\.test is not a domain of this account/.test(e.message));
      await store.accounts.setSendingMode(a.accountId, 'any');
      const m = await resolveSendingDomain(ctx, a.accountId, 'elsewhere.test');
      assert.equal(m.source, 'manual_dns');
      assert.equal((await resolveSendingDomain(ctx, a.accountId, 'elsewhere.test')).id, m.id, 'recorded once');
      assert.match(trackingAllowed(m).reason!, /any domain/);
      await store.accounts.setSendingMode(a.accountId, 'verified');
      await assert.rejects(resolveSendingDomain(ctx, a.accountId, 'elsewhere.test'), (e: unknown) => e instanceof AppError && /only used while the account sent from any domain/.test(e.message));
      // Another account's domain is not ours.
      const b = await account();
      await assert.rejects(resolveSendingDomain(ctx, b.accountId, 'shop.test'), (e: unknown) => e instanceof AppError && e.code === 'sender_domain_not_allowed');
      // Adding a manual_dns domain in the dashboard upgrades it (same row, same DKIM key).
      const up = await createDomain(ctx, a.accountId, 'elsewhere.test', 'dashboard');
      assert.equal(up.id, m.id);
      assert.equal(up.source, 'dashboard');
      assert.equal((await resolveSendingDomain(ctx, a.accountId, 'elsewhere.test')).id, m.id);
    });

    test('trackingBaseFor: the default host until a custom tracking domain is verified', async () => {
      const ctx = contextFor(store, { MAILBEACON_PUBLIC_URL: 'http://track.mb.test:8080', MAILBEACON_HTTPS_PORT: '8443' });
      const a = await account();
      const d = await createDomain(ctx, a.accountId, 'base.test', 'dashboard');
      assert.equal(await trackingBaseFor(ctx, d), 'http://track.mb.test:8080');
      const row = { id: 'trk_1' + dialect, domainId: d.id, accountId: a.accountId, hostname: 't.base.test', status: 'pending', statusReason: null, certPem: null, keyPem: null, certExpiresAt: null, certStatus: 'none', certError: null, certAttemptAt: null, https: 0, retiredAt: null, createdAt: Date.now(), verifiedAt: null, lastCheckedAt: null };
      await store.trackingDomains.insert(row);
      assert.equal(await trackingBaseFor(ctx, d), 'http://track.mb.test:8080');
      await store.trackingDomains.update(row.id, { status: 'verified' });
      assert.equal(await trackingBaseFor(ctx, d), 'http://t.base.test:8080');
      await store.trackingDomains.update(row.id, { https: 1, certPem: 'PEM' });
      assert.equal(await trackingBaseFor(ctx, d), 'https://t.base.test:8443');
      await store.trackingDomains.retireForDomain(d.id, Date.now());
      assert.equal(await trackingBaseFor(ctx, d), 'http://track.mb.test:8080');
      assert.deepEqual(await store.trackingDomains.servedHostnames(), ['t.base.test'], 'a retired hostname keeps answering');
    });
  });
}
