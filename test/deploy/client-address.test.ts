// The client-address rules as plain values: addresses, ranges, Forwarded parsing, and the right-most
// untrusted hop behind trusted proxies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, formatIp, normalizeIp, parseCidr, parseIp } from '../../src/domain/ip-address.ts';
import { clientAddress, parseForwarded, parseNode } from '../../src/http/client-address.ts';

test('IPv4 and IPv6 literals parse to canonical text; junk does not', () => {
  const cases: [string, string | undefined][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['256.1.1.1', undefined],
    ['1.2.3', undefined],
    ['01.2.3.4', undefined],
    ['1.2.3.4.5', undefined],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:db8:85a3::8a2e:370:7334'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:c000:0207', '192.0.2.7'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1::2::3', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1:2:3:4:5:6:7', undefined],
    ['12345::1', undefined],
    ['g::1', undefined],
    ['::ffff:300.1.1.1', undefined],
    ['', undefined],
    ['unknown', undefined],
  ];
  for (const [input, want] of cases) assert.equal(normalizeIp(input), want, input);
  assert.equal(formatIp(parseIp('1:0:0:2:0:0:0:3')!), '1:0:0:2::3', 'longest zero run is compressed');
  assert.equal(formatIp(parseIp('1:0:0:2:2:0:0:3')!), '1::2:2:0:0:3', 'first of equal runs is compressed');
});

test('CIDR ranges match inside and not outside, across families and mapped forms', () => {
  const set = new CidrSet(['10.0.0.0/8', '192.0.2.5', '2001:db8::/32', '::ffff:172.16.0.0/108', '100.64.0.0/10']);
  const yes = ['10.1.2.3', '10.255.255.255', '::ffff:10.0.0.1', '192.0.2.5', '2001:db8:ffff::1', '172.16.1.1', '172.31.255.255', '100.64.0.1', '100.127.255.255'];
  const no = ['11.0.0.0', '9.255.255.255', '192.0.2.6', '2001:db9::1', '172.32.0.0', '100.128.0.0', 'fe80::1', 'garbage', ''];
  for (const a of yes) assert.equal(set.has(a), true, a);
  for (const a of no) assert.equal(set.has(a), false, a);
  assert.deepEqual(parseCidr('::ffff:10.0.0.0/104'), { family: 4, network: 0x0a000000n, prefix: 8 });
  assert.deepEqual(parseCidr('10.1.2.3/8'), { family: 4, network: 0x0a000000n, prefix: 8 }, 'host bits are cleared');
  assert.equal(new CidrSet(['0.0.0.0/0']).has('203.0.113.9'), true);
  assert.equal(new CidrSet(['0.0.0.0/0']).has('2001:db8::1'), false, 'an IPv4 range never matches IPv6');
  assert.equal(new CidrSet(['::/0']).has('2001:db8::1'), true);
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0/8', 'abc', '1.2.3.4/x']) assert.equal(parseCidr(bad), undefined, bad);
  assert.throws(() => new CidrSet(['10.0.0.0/40']), /not an address or CIDR/);
  assert.equal(new CidrSet([]).has('10.0.0.1'), false);
});

test('nodes: ports, brackets and bare IPv6', () => {
  assert.equal(parseNode('192.0.2.43'), '192.0.2.43');
  assert.equal(parseNode(' 192.0.2.43:47011 '), '192.0.2.43');
  assert.equal(parseNode('[2001:db8:cafe::17]'), '2001:db8:cafe::17');
  assert.equal(parseNode('[2001:db8:cafe::17]:4711'), '2001:db8:cafe::17');
  assert.equal(parseNode('2001:db8:cafe::17'), '2001:db8:cafe::17');
  assert.equal(parseNode('[::ffff:192.0.2.1]:80'), '192.0.2.1');
  assert.equal(parseNode('[192.0.2.1]'), undefined, 'brackets are for IPv6 only');
  assert.equal(parseNode('[2001:db8::1]x'), undefined);
  assert.equal(parseNode('[2001:db8::1'), undefined);
  assert.equal(parseNode('unknown'), undefined);
  assert.equal(parseNode('_hidden'), undefined);
  assert.equal(parseNode('example.com'), undefined);
});

test('Forwarded: quoting, escapes, case, several headers, malformed elements', () => {
  assert.deepEqual(parseForwarded('for=192.0.2.60;proto=http;by=203.0.113.43'), [{ for: '192.0.2.60', proto: 'http', by: '203.0.113.43' }]);
  assert.deepEqual(parseForwarded('For="[2001:db8:cafe::17]:4711"'), [{ for: '[2001:db8:cafe::17]:4711' }]);
  assert.deepEqual(parseForwarded('for=192.0.2.43, for=198.51.100.17'), [{ for: '192.0.2.43' }, { for: '198.51.100.17' }]);
  assert.deepEqual(parseForwarded('for="a,b;c=\\"d"; proto=https , for=1.2.3.4'), [{ for: 'a,b;c="d', proto: 'https' }, { for: '1.2.3.4' }]);
  assert.deepEqual(parseForwarded('for=1.2.3.4,, for=5.6.7.8,'), [{ for: '1.2.3.4' }, { for: '5.6.7.8' }], 'empty list elements name no hop');
  assert.deepEqual(parseForwarded('garbage, for=5.6.7.8'), [{}, { for: '5.6.7.8' }], 'a malformed element stays as an unknown hop');
  assert.deepEqual(parseForwarded('for="unterminated, for=5.6.7.8'), [{}]);
  assert.deepEqual(parseForwarded('for=1.1.1.1;for=2.2.2.2, for=3.3.3.3'), [{}, { for: '3.3.3.3' }], 'duplicate parameter');
  assert.deepEqual(parseForwarded('for=1.1.1.1 x, for=3.3.3.3'), [{}, { for: '3.3.3.3' }]);
  assert.deepEqual(parseForwarded(''), []);
});

const PROXIES = new CidrSet(['10.0.0.0/8', '127.0.0.1/32', 'fd00::/8']);

test('untrusted peers: every proxy header is ignored (spoofing)', () => {
  const spoof = {
    forwarded: 'for=17.0.0.1;proto=https',
    'x-forwarded-for': '17.0.0.1',
    'x-forwarded-proto': 'https',
  };
  assert.deepEqual(clientAddress('203.0.113.9', spoof, PROXIES), { ip: '203.0.113.9', proto: 'http' });
  assert.deepEqual(clientAddress('::ffff:203.0.113.9', spoof, PROXIES), { ip: '203.0.113.9', proto: 'http' }, 'mapped peer is normalized');
  assert.deepEqual(clientAddress('2001:db8::9', spoof, PROXIES, 'https'), { ip: '2001:db8::9', proto: 'https' }, 'the socket proto stands');
  assert.deepEqual(clientAddress('10.0.0.1', spoof, new CidrSet([])), { ip: '10.0.0.1', proto: 'http' }, 'no trusted proxies configured');
  assert.deepEqual(clientAddress(undefined, spoof, PROXIES), { ip: '', proto: 'http' }, 'a vanished socket');
});

test('X-Forwarded-For: right-most untrusted hop wins, client-written hops to its left are ignored', () => {
  const peer = '10.0.0.2';
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5' }, PROXIES).ip, '17.0.0.5');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '6.6.6.6, 17.0.0.5' }, PROXIES).ip, '17.0.0.5', 'spoofed left part');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '6.6.6.6, 17.0.0.5, 10.1.1.1, 127.0.0.1' }, PROXIES).ip, '17.0.0.5', 'a chain of trusted proxies');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '10.9.9.9, 10.1.1.1' }, PROXIES).ip, '10.9.9.9', 'all trusted: the left-most');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': ['6.6.6.6', '17.0.0.5'] }, PROXIES).ip, '17.0.0.5', 'repeated headers');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5:5555' }, PROXIES).ip, '17.0.0.5', 'a port');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '[2001:db8::5]:5555' }, PROXIES).ip, '2001:db8::5');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '2001:DB8::5' }, PROXIES).ip, '2001:db8::5');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '::ffff:17.0.0.5' }, PROXIES).ip, '17.0.0.5');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5, unknown' }, PROXIES).ip, peer, 'a non-address stops the walk at the last vouched address');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5, garbage, 10.1.1.1' }, PROXIES).ip, '10.1.1.1');
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '' }, PROXIES).ip, peer, 'empty header');
  assert.equal(clientAddress(peer, {}, PROXIES).ip, peer, 'no header');
  assert.equal(clientAddress('::ffff:127.0.0.1', { 'x-forwarded-for': '17.0.0.5' }, PROXIES).ip, '17.0.0.5', 'a mapped trusted peer');
  assert.equal(clientAddress('fd00::1', { 'x-forwarded-for': '17.0.0.5' }, PROXIES).ip, '17.0.0.5', 'an IPv6 trusted peer');
});

test('X-Forwarded-Proto: aligned with the chosen hop, else the right-most value', () => {
  const peer = '10.0.0.2';
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5', 'x-forwarded-proto': 'https' }, PROXIES), { ip: '17.0.0.5', proto: 'https' });
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5', 'x-forwarded-proto': 'HTTPS' }, PROXIES).proto, 'https');
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5, 10.1.1.1', 'x-forwarded-proto': 'https, http' }, PROXIES), { ip: '17.0.0.5', proto: 'https' }, 'aligned lists');
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5, 10.1.1.1', 'x-forwarded-proto': 'http, https' }, PROXIES), { ip: '17.0.0.5', proto: 'http' }, 'aligned: the client hop decides');
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '6.6.6.6, 17.0.0.5', 'x-forwarded-proto': 'https' }, PROXIES), { ip: '17.0.0.5', proto: 'https' }, 'one value: what the proxy next to us saw');
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-proto': 'https' }, PROXIES), { ip: peer, proto: 'https' }, 'proto without for');
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '17.0.0.5', 'x-forwarded-proto': 'gopher' }, PROXIES), { ip: '17.0.0.5', proto: 'http' }, 'unknown schemes are ignored');
  assert.deepEqual(clientAddress('203.0.113.1', { 'x-forwarded-proto': 'https' }, PROXIES).proto, 'http', 'untrusted');
});

test('Forwarded: hops, proto per element, and precedence over X-Forwarded-For', () => {
  const peer = '127.0.0.1';
  assert.deepEqual(clientAddress(peer, { forwarded: 'for=17.0.0.5;proto=https' }, PROXIES), { ip: '17.0.0.5', proto: 'https' });
  assert.deepEqual(clientAddress(peer, { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' }, PROXIES), { ip: '2001:db8:cafe::17', proto: 'https' });
  assert.deepEqual(clientAddress(peer, { forwarded: 'for=6.6.6.6;proto=http, for=17.0.0.5;proto=https, for=10.1.1.1;proto=http' }, PROXIES), { ip: '17.0.0.5', proto: 'https' });
  assert.deepEqual(clientAddress(peer, { forwarded: ['for=6.6.6.6', 'for=17.0.0.5'] }, PROXIES).ip, '17.0.0.5', 'repeated headers');
  assert.deepEqual(clientAddress(peer, { forwarded: 'for=17.0.0.5;proto=https, for=10.1.1.1' }, PROXIES), { ip: '17.0.0.5', proto: 'https' }, 'proto of the client element');
  assert.deepEqual(clientAddress(peer, { forwarded: 'for=17.0.0.5, for=10.1.1.1;proto=https' }, PROXIES), { ip: '17.0.0.5', proto: 'https' }, 'nearest stated proto when the client element has none');
  assert.deepEqual(clientAddress(peer, { forwarded: 'for=_hidden, for=10.1.1.1' }, PROXIES).ip, '10.1.1.1', 'obfuscated node');
  assert.deepEqual(clientAddress(peer, { forwarded: 'for=unknown' }, PROXIES).ip, peer);
  assert.deepEqual(clientAddress(peer, { forwarded: 'by=10.0.0.1;proto=https' }, PROXIES), { ip: peer, proto: 'https' }, 'an element without for');
  assert.deepEqual(clientAddress(peer, { forwarded: '"junk, for=17.0.0.5' }, PROXIES).ip, peer, 'malformed throughout');
  assert.deepEqual(clientAddress(peer, { forwarded: 'junk junk, for=17.0.0.5' }, PROXIES).ip, '17.0.0.5', 'client garbage to the left of the proxy element');
  const both = { forwarded: 'for=17.0.0.5', 'x-forwarded-for': '6.6.6.6' };
  assert.equal(clientAddress(peer, both, PROXIES).ip, '17.0.0.5', 'auto: Forwarded wins');
  assert.equal(clientAddress(peer, both, PROXIES, 'http', 'x-forwarded-for').ip, '6.6.6.6', 'pinned to X-Forwarded-For');
  assert.equal(clientAddress(peer, both, PROXIES, 'http', 'forwarded').ip, '17.0.0.5', 'pinned to Forwarded');
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' }, PROXIES, 'http', 'forwarded'), { ip: peer, proto: 'http' }, 'pinned to Forwarded ignores X-Forwarded-*');
  assert.equal(clientAddress(peer, { forwarded: '  ', 'x-forwarded-for': '6.6.6.6' }, PROXIES).ip, '6.6.6.6', 'a blank Forwarded falls back');
});
