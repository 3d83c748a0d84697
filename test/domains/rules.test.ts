// The pure domain rules: names, subdomains, the tracking gate, sending per source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDomainName, isSubdomainOf, parentNames, sendingRefusal, trackingDecision, notEligibleError } from '../../src/domains/domain-rules.ts';
import { baseUrlForHostname } from '../../src/domains/tracking-base.ts';
import { dkimSelectorFor } from '../../src/domains/domain-service.ts';

test('domain names are normalized or refused with a reason', () => {
  assert.deepEqual(checkDomainName(' Example.COM. '), { name: 'example.com' });
  assert.deepEqual(checkDomainName('bücher.example'), { name: 'xn--bcher-kva.example' });
  for (const bad of ['', 'localhost', 'exa mple.com', 'https://example.com', 'a..com', '-a.com', 'a-.com', '192.168.0.1', 'user@example.com', `${'a'.repeat(64)}.com`]) {
    const r = checkDomainName(bad);
    assert.ok('error' in r, `${bad} should be refused`);
    assert.ok(r.error.length > 5);
  }
});

test('subdomains and parents', () => {
  assert.equal(isSubdomainOf('t.example.com', 'example.com'), true);
  assert.equal(isSubdomainOf('a.b.example.com', 'example.com'), true);
  assert.equal(isSubdomainOf('example.com', 'example.com'), false);
  assert.equal(isSubdomainOf('t.other.com', 'example.com'), false);
  assert.equal(isSubdomainOf('tevilexample.com', 'example.com'), false);
  assert.deepEqual(parentNames('news.mail.example.com'), ['news.mail.example.com', 'mail.example.com', 'example.com']);
});

test('the tracking gate: dashboard + validated + toggles, with a reason otherwise', () => {
  const base = { name: 'example.com', openTracking: 1, clickTracking: 1 };
  assert.deepEqual(trackingDecision({ ...base, source: 'dashboard', status: 'validated' }), { opens: true, clicks: true });
  assert.deepEqual(trackingDecision({ ...base, clickTracking: 0, source: 'dashboard', status: 'validated' }), { opens: true, clicks: false });
  const cp = trackingDecision({ ...base, source: 'control_panel', status: 'pending' });
  assert.equal(cp.opens, false);
  assert.match(cp.reason!, /control panel/);
  const lost = trackingDecision({ ...base, source: 'dashboard', status: 'failed', statusReason: 'the verification TXT record is missing' });
  assert.equal(lost.opens || lost.clicks, false);
  assert.match(lost.reason!, /failed validation.*TXT record is missing/);
  assert.match(trackingDecision({ ...base, source: 'dashboard', status: 'pending' }).reason!, /not verified yet/);
  const e = notEligibleError({ name: 'example.com', source: 'control_panel', status: 'pending' }, 'open');
  assert.equal(e.code, 'domain_not_eligible');
  assert.equal(e.kind, 'conflict');
  assert.match(e.message, /^Open tracking needs a domain validated in the dashboard; example\.com was added through a hosting control panel/);
});

test('sending per source and mode', () => {
  assert.equal(sendingRefusal({ name: 'a.com', source: 'dashboard' }, 'verified'), undefined);
  assert.equal(sendingRefusal({ name: 'a.com', source: 'control_panel' }, 'verified'), undefined);
  assert.equal(sendingRefusal({ name: 'a.com', source: 'manual_dns' }, 'any'), undefined);
  assert.match(sendingRefusal({ name: 'a.com', source: 'manual_dns' }, 'verified')!, /switch the account to "any"/);
});

test('tracking base URLs and DKIM selectors', () => {
  const td = { hostname: 't.example.com', https: 1, certPem: 'x' };
  assert.equal(baseUrlForHostname({ publicUrl: 'http://track.mb.test:8080', httpsPort: 8443 }, td), 'https://t.example.com:8443');
  assert.equal(baseUrlForHostname({ publicUrl: 'http://track.mb.test:8080', httpsPort: 443 }, td), 'https://t.example.com');
  assert.equal(baseUrlForHostname({ publicUrl: 'http://track.mb.test:8080', httpsPort: undefined }, td), 'http://t.example.com:8080');
  assert.equal(baseUrlForHostname({ publicUrl: 'https://track.mb.test', httpsPort: 8443 }, { ...td, https: 0 }), 'http://t.example.com');
  assert.equal(dkimSelectorFor(Date.UTC(2026, 10, 26)), 'mb202611');
});
