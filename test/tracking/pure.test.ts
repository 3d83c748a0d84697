// Pure pieces of the tracking endpoint: IP truncation and ranges, host policy, redirect safety, group commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, cidrMatcher, truncateIp } from '../../src/tracking/ip.ts';
import { TrackingHostPolicy } from '../../src/tracking/tracking-host-policy.ts';
import { safeRedirect } from '../../src/tracking/tracking-http.ts';
import { GroupCommit } from '../../src/tracking/group-commit.ts';

test('IP truncation keeps /24 of IPv4 and /48 of IPv6', () => {
  assert.equal(truncateIp('203.0.113.77'), '203.0.113.0');
  assert.equal(truncateIp('::ffff:198.51.100.200'), '198.51.100.0');
  assert.equal(truncateIp('2001:db8:abcd:12:34:56:78:9a'), '2001:db8:abcd::');
  assert.equal(truncateIp('2a00:1450:4001:82a::200e'), '2a00:1450:4001::');
  assert.equal(truncateIp('::1'), '::');
  assert.equal(truncateIp('fe80::1%eth0'), 'fe80::');
  assert.equal(truncateIp('not an ip'), 'not an ip');
  assert.equal(canonicalIp('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
});

test('CIDR matching for IPv4 and IPv6', () => {
  const m = cidrMatcher(['17.0.0.0/8', '2620:149::/32', '10.1.2.3']);
  assert.equal(m('17.255.0.1'), true);
  assert.equal(m('::ffff:17.1.1.1'), true);
  assert.equal(m('18.0.0.1'), false);
  assert.equal(m('2620:149:a44::1'), true);
  assert.equal(m('2620:14a::1'), false);
  assert.equal(m('10.1.2.3'), true);
  assert.equal(m('10.1.2.4'), false);
  assert.equal(cidrMatcher([])('1.2.3.4'), false);
});

test('host policy: the public URL host (any case, any port) plus registered sources', () => {
  const p = new TrackingHostPolicy(['Track.Example.com:8443']);
  assert.equal(p.allows('track.example.com'), true);
  assert.equal(p.allows('TRACK.example.com:80'), true);
  assert.equal(p.allows('track.example.com.'), true);
  assert.equal(p.allows('evil.test'), false);
  assert.equal(p.allows(undefined), false);
  const custom = new Set(['t.customer.test']);
  p.registerHostSource((h) => custom.has(h));
  p.registerHostSource(() => { throw new Error('broken source'); });
  assert.equal(p.allows('T.customer.test:443'), true);
  assert.equal(p.allows('x.customer.test'), false);
});

test('only absolute http(s) URLs are redirect targets, never with CR/LF', () => {
  assert.equal(safeRedirect('https://example.com/a?b=c#d'), 'https://example.com/a?b=c#d');
  assert.equal(safeRedirect('http://example.com'), 'http://example.com/');
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', '//evil.test', '\\\\evil.test', '/relative', 'data:text/html,x', 'mailto:a@b', 'https://a.test/\r\nX: y', 'java\nscript:alert(1)', 'http://', '', undefined]) {
    assert.equal(safeRedirect(bad), undefined, String(bad));
  }
});

test('group commit: items within the window share one write, and each settles after it', async () => {
  const writes: number[][] = [];
  const gc = new GroupCommit<number, string>(async (xs) => {
    writes.push(xs);
    await new Promise((r) => setTimeout(r, 5));
    return xs.map((x) => `ok${x}`);
  }, 5);
  const results = await Promise.all([1, 2, 3].map((x) => gc.add(x)));
  assert.deepEqual(results, ['ok1', 'ok2', 'ok3']);
  assert.deepEqual(writes, [[1, 2, 3]]);
  // While a write runs, new items gather for the next one.
  const p1 = gc.add(4);
  await new Promise((r) => setTimeout(r, 7));
  const p2 = [gc.add(5), gc.add(6)];
  assert.deepEqual(await Promise.all([p1, ...p2]), ['ok4', 'ok5', 'ok6']);
  assert.deepEqual(writes.slice(1), [[4], [5, 6]]);
  const failing = new GroupCommit<number, string>(async () => { throw new Error('store down'); }, 1);
  await assert.rejects(Promise.all([failing.add(1), failing.add(2)]), /store down/);
  await gc.close();
});
