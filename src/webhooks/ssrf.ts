// Which destinations a webhook may reach. Private, loopback, link-local and the other special-use ranges
// (IANA IPv4/IPv6 special-purpose registries, RFC 6890) are refused, checked on the address DNS returns,
// and the connection then goes to exactly that address (no second lookup, so no DNS rebinding).
import net from 'node:net';
import { AppError } from '../domain/errors.ts';

const V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const V6: [string, number][] = [
  ['::', 128], ['::1', 128], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
];

const blocked = new net.BlockList();
for (const [a, p] of V4) blocked.addSubnet(a, p, 'ipv4');
for (const [a, p] of V6) blocked.addSubnet(a, p, 'ipv6');

/** The IPv4 address hidden in an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedV4(ip: string): string | undefined {
  const m = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1];
  const h = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (h) {
    const hi = parseInt(h[1], 16);
    const lo = parseInt(h[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** True for any address a webhook must not reach (and for anything that is not an IP address). */
export function isSpecialUseAddress(ip: string): boolean {
  const kind = net.isIP(ip);
  if (kind === 4) return blocked.check(ip, 'ipv4');
  if (kind === 6) {
    const v4 = embeddedV4(ip.toLowerCase());
    if (v4) return blocked.check(v4, 'ipv4');
    return blocked.check(ip, 'ipv6');
  }
  return true;
}

/** Checks a webhook URL's shape (http/https, a host, no credentials); returns the parsed URL. */
export function parseWebhookUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AppError('invalid', 'invalid_url', 'url is not a valid URL', { url: 'not a valid URL' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AppError('invalid', 'invalid_url', 'url must be http or https', { url: 'must be http or https' });
  if (u.username || u.password) throw new AppError('invalid', 'invalid_url', 'url must not carry credentials', { url: 'must not carry credentials' });
  if (!u.hostname) throw new AppError('invalid', 'invalid_url', 'url needs a host', { url: 'needs a host' });
  return u;
}

/** The host part without IPv6 brackets. */
export function hostOf(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

/**
 * Resolves the URL's host and returns the address to connect to. Refuses (AppError 'destination_refused')
 * when any resolved address is special-use, unless allowPrivate.
 */
export async function resolveDestination(u: URL, resolve: Resolver, allowPrivate: boolean): Promise<{ address: string; family: number }> {
  const host = hostOf(u);
  const literal = net.isIP(host);
  const addrs = literal ? [{ address: host, family: literal }] : await resolve(host).catch((e) => {
    throw new AppError('invalid', 'unresolvable_host', `cannot resolve ${host}: ${e.code ?? e.message}`, { url: 'host does not resolve' });
  });
  if (!addrs.length) throw new AppError('invalid', 'unresolvable_host', `cannot resolve ${host}`, { url: 'host does not resolve' });
  if (!allowPrivate) {
    const bad = addrs.find((a) => isSpecialUseAddress(a.address));
    if (bad) throw new AppError('invalid', 'destination_refused', `${host} resolves to ${bad.address}, a private or special-use address`, { url: 'resolves to a private, loopback or link-local address' });
  }
  return addrs[0];
}
