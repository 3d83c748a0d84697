// DNS verification against a real dnsmasq (and a silent / SERVFAIL server), the periodic re-check that
// takes validation away and marks dangling CNAMEs, on both store dialects.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestStore } from '../helpers/dialects.ts';
import { createAccount } from '../../src/accounts/account-service.ts';
import { createDomain, dnsRecordsFor } from '../../src/domains/domain-service.ts';
import { verifyDomain, verifyTrackingDomain } from '../../src/domains/verification.ts';
import { trackingAllowed } from '../../src/domains/sending-rules.ts';
import { DomainRecheckService } from '../../src/domains/recheck-service.ts';
import type { TrackingDomainsTable } from '../../src/store/schema.ts';
import { Dnsmasq, servfailDnsServer, silentDnsServer } from './dnsmasq.ts';
import { contextFor } from './ctx.ts';

let n = 0;
for (const dialect of DIALECTS) {
  describe(`DNS verification on ${dialect}`, () => {
    let store: Awaited<ReturnType<typeof createTestStore>>;
    let dns: Dnsmasq;
    let now = Date.UTC(2026, 10, 1);
    const clock = { now: () => now };
    before(async () => {
      store = await createTestStore(dialect);
      dns = await Dnsmasq.start({});
    });
    after(async () => {
      await dns.stop();
      await store.cleanup();
    });
    const env = () => ({ MAILBEACON_DNS_SERVERS: dns.server, MAILBEACON_DNS_TIMEOUT: '400', MAILBEACON_PUBLIC_URL: 'http://track.mb.test:8080', MAILBEACON_DOMAIN_RECHECK_INTERVAL: '60' });

    test('missing, wrong, right; then the periodic re-check takes validation (and tracking) away', async () => {
      const ctx = contextFor(store, env(), clock);
      const a = await createAccount(store, { email: `v${++n}-${dialect}@example.test`, password: 'password 123' });
      const d = await createDomain(ctx, a.accountId, `shop${n}.test`, 'dashboard');
      const [ver, dkim] = dnsRecordsFor(d);

      let r = await verifyDomain(ctx, d);
      assert.equal(r.status, 'failed');
      assert.equal(r.checks.find((c) => c.record === 'verification')!.result, 'missing');
      assert.match(r.statusReason!, new RegExp(`verification TXT record _mailbeacon\\.${d.name.replace('.', '\\.')} is missing`));

      await dns.set({ txt: { [ver.name]: ['mailbeacon-verification=not-the-token'], [dkim.name]: [dkim.value] } });
      r = await verifyDomain(ctx, d);
      assert.equal(r.status, 'failed');
      const c = r.checks.find((x) => x.record === 'verification')!;
      assert.equal(c.result, 'wrong_value');
      assert.deepEqual(c.found, ['mailbeacon-verification=not-the-token']);
      assert.match(r.statusReason!, /has the wrong value: found "mailbeacon-verification=not-the-token", expected "mailbeacon-verification=/);

      await dns.set({ txt: { [ver.name]: ['other=1', ver.value], [dkim.name]: [dkim.value] } });
      r = await verifyDomain(ctx, d);
      assert.equal(r.status, 'validated', JSON.stringify(r.checks));
      assert.equal(r.statusReason, null);
      assert.equal(r.checks.find((x) => x.record === 'dkim')!.ok, true, 'the DKIM key split over several strings is joined');
      assert.equal(r.checks.find((x) => x.record === 'spf')!.ok, false, 'SPF is advice, not required');
      await store.domains.update(a.accountId, d.id, { openTracking: 1 });
      let row = (await store.domains.get(a.accountId, d.id))!;
      assert.deepEqual(trackingAllowed(row), { opens: true, clicks: false });
      assert.equal(row.verifiedAt, now);

      // Records removed; the re-check runs when the interval has passed.
      await dns.set({});
      const svc = new DomainRecheckService(ctx);
      now += 30_000;
      await svc.tick();
      assert.equal((await store.domains.get(a.accountId, d.id))!.status, 'validated', 'not due yet');
      now += 31_000;
      await svc.tick();
      row = (await store.domains.get(a.accountId, d.id))!;
      assert.equal(row.status, 'failed');
      assert.match(row.statusReason!, /^lost validation on 2026-11-01 00:01 UTC: the verification TXT record .* is missing/);
      const t = trackingAllowed(row);
      assert.equal(t.opens, false);
      assert.match(t.reason!, /failed validation: lost validation/);
      await svc.stop();
    });

    test('the re-check leaves a fresh domain alone, then promotes a pending one whose records appeared', async () => {
      const ctx = contextFor(store, env(), clock);
      const a = await createAccount(store, { email: `p${++n}-${dialect}@example.test`, password: 'password 123' });
      const d = await createDomain(ctx, a.accountId, `auto${n}.test`, 'dashboard');
      const [ver, dkim] = dnsRecordsFor(d);
      await dns.set({ txt: { [ver.name]: [ver.value], [dkim.name]: [dkim.value] } });
      const svc = new DomainRecheckService(ctx);
      await svc.tick();
      assert.equal((await store.domains.get(a.accountId, d.id))!.lastCheckedAt, null, 'not checked at once');
      now += 61_000;
      await svc.tick();
      await svc.stop();
      const row = (await store.domains.get(a.accountId, d.id))!;
      assert.equal(row.status, 'validated');
      assert.equal(row.lastCheckedAt, now);
    });

    test('a DNS timeout and a SERVFAIL conclude nothing and say so', async () => {
      const silent = await silentDnsServer();
      const sf = await servfailDnsServer();
      try {
        const a = await createAccount(store, { email: `t${++n}-${dialect}@example.test`, password: 'password 123' });
        const ctx0 = contextFor(store, env(), clock);
        const d = await createDomain(ctx0, a.accountId, `slow${n}.test`, 'dashboard');
        const ctx = contextFor(store, { ...env(), MAILBEACON_DNS_SERVERS: silent.server }, clock);
        const t0 = Date.now();
        let r = await verifyDomain(ctx, d);
        assert.ok(Date.now() - t0 < 3000, 'bounded by the timeout');
        assert.equal(r.status, 'pending');
        assert.equal(r.checks[0].result, 'dns_error');
        assert.match(r.statusReason!, new RegExp(`no answer from ${silent.server} within 0\\.4 s \\(DNS timeout\\); status stays pending`));
        const ctx2 = contextFor(store, { ...env(), MAILBEACON_DNS_SERVERS: sf.server }, clock);
        r = await verifyDomain(ctx2, d);
        assert.equal(r.status, 'pending');
        assert.match(r.statusReason!, /answered SERVFAIL/);
        // A validated domain stays validated through a DNS outage.
        await store.domains.update(a.accountId, d.id, { status: 'validated', verifiedAt: now });
        r = await verifyDomain(ctx, (await store.domains.get(a.accountId, d.id))!, { periodic: true });
        assert.equal(r.status, 'validated');
        assert.match(r.statusReason!, /still validated/);
      } finally {
        await silent.close();
        await sf.close();
      }
    });

    test('tracking CNAME: missing, elsewhere, right; dangling after it goes away; served hostnames', async () => {
      const ctx = contextFor(store, env(), clock);
      const a = await createAccount(store, { email: `c${++n}-${dialect}@example.test`, password: 'password 123' });
      const d = await createDomain(ctx, a.accountId, `cn${n}.test`, 'dashboard');
      const host = `t.${d.name}`;
      const td: TrackingDomainsTable = { id: `trk_${dialect}${n}`, domainId: d.id, accountId: a.accountId, hostname: host, status: 'pending', statusReason: null, certPem: null, keyPem: null, certExpiresAt: null, certStatus: 'none', certError: null, certAttemptAt: null, https: 0, retiredAt: null, createdAt: now, verifiedAt: null, lastCheckedAt: null };
      await store.trackingDomains.insert(td);
      const get = async () => (await store.trackingDomains.getById(td.id))!;

      await dns.set({ a: { 'track.mb.test': '127.0.0.1' } });
      let r = await verifyTrackingDomain(ctx, await get());
      assert.equal(r.status, 'failed');
      assert.equal(r.statusReason, `${host} has no CNAME record (the name does not exist (NXDOMAIN)); add: ${host} CNAME track.mb.test`);

      await dns.set({ a: { 'track.mb.test': '127.0.0.1', 'elsewhere.test': '127.0.0.2' }, cname: { [host]: 'elsewhere.test' } });
      r = await verifyTrackingDomain(ctx, await get());
      assert.equal(r.status, 'failed');
      assert.equal(r.statusReason, `${host} is a CNAME to elsewhere.test, not to track.mb.test`);

      await dns.set({ a: { 'track.mb.test': '127.0.0.1' }, cname: { [host]: 'track.mb.test' } });
      r = await verifyTrackingDomain(ctx, await get());
      assert.equal(r.status, 'verified');
      assert.ok((await store.trackingDomains.servedHostnames()).includes(host));

      // Retired (deleted) but still verified: old tokens keep answering.
      await store.trackingDomains.retireForDomain(d.id, now);
      assert.ok((await store.trackingDomains.servedHostnames()).includes(host));

      await dns.set({ a: { 'track.mb.test': '127.0.0.1' } });
      now += 61_000;
      const svc = new DomainRecheckService(ctx);
      await svc.tick();
      await svc.stop();
      const after = await get();
      assert.equal(after.status, 'dangling');
      assert.match(after.statusReason!, /^no longer served: .* has no CNAME record/);
      assert.ok(!(await store.trackingDomains.servedHostnames()).includes(host), 'a dangling hostname is not served');
    });

    test('certificate bookkeeping queries: due for renewal, one claim at a time', async () => {
      const a = await createAccount(store, { email: `k${++n}-${dialect}@example.test`, password: 'password 123' });
      const base: TrackingDomainsTable = { id: '', domainId: 'dom_x', accountId: a.accountId, hostname: '', status: 'verified', statusReason: null, certPem: null, keyPem: null, certExpiresAt: null, certStatus: 'pending', certError: null, certAttemptAt: null, https: 0, retiredAt: null, createdAt: now, verifiedAt: now, lastCheckedAt: now };
      const day = 86_400_000;
      const rows = [
        { ...base, id: `k1${dialect}`, hostname: `k1.${dialect}.test` },
        { ...base, id: `k2${dialect}`, hostname: `k2.${dialect}.test`, certStatus: 'valid', certPem: 'x', keyPem: 'y', certExpiresAt: now + 20 * day, certAttemptAt: now - 60 * day },
        { ...base, id: `k3${dialect}`, hostname: `k3.${dialect}.test`, certStatus: 'valid', certPem: 'x', keyPem: 'y', certExpiresAt: now + 60 * day, certAttemptAt: now - 30 * day },
        { ...base, id: `k4${dialect}`, hostname: `k4.${dialect}.test`, certStatus: 'failed', certAttemptAt: now - 1000 },
        { ...base, id: `k5${dialect}`, hostname: `k5.${dialect}.test`, status: 'dangling' },
      ];
      for (const r of rows) await store.trackingDomains.insert(r);
      const due = (await store.trackingDomains.needingCertificate(now + 30 * day, now - 600_000)).map((r) => r.id).filter((id) => id.endsWith(dialect)).sort();
      assert.deepEqual(due, [`k1${dialect}`, `k2${dialect}`]);
      assert.equal(await store.trackingDomains.claimIssuance(`k1${dialect}`, now, now - 600_000), true);
      assert.equal(await store.trackingDomains.claimIssuance(`k1${dialect}`, now, now - 600_000), false, 'a second node does not take a fresh claim');
      assert.equal(await store.trackingDomains.claimIssuance(`k1${dialect}`, now + 700_000, now + 100_000), true, 'a stale claim is taken over');
      assert.ok(await store.trackingDomains.certificateFor(`k2.${dialect}.test`));
      await store.trackingDomains.update(`k2${dialect}`, { status: 'dangling' });
      assert.equal(await store.trackingDomains.certificateFor(`k2.${dialect}.test`), undefined, 'no certificate served for a dangling hostname');
    });
  });
}
