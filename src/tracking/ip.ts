// IP address helpers for the tracking endpoint, pure: parse to bytes, CIDR membership, privacy truncation.
import { isIP } from 'node:net';

/** The address as 4 (IPv4) or 16 (IPv6) bytes; IPv4-mapped IPv6 (::ffff:1.2.3.4) becomes IPv4. */
export function parseIp(ip: string): Uint8Array | undefined {
  let s = ip.trim();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) s = mapped[1];
  const v = isIP(s);
  if (v === 4) return Uint8Array.from(s.split('.').map(Number));
  if (v !== 6) return undefined;
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  // An embedded IPv4 in the last 32 bits (::1.2.3.4, 64:ff9b::1.2.3.4).
  const toGroups = (part: string | undefined): number[] => {
    if (!part) return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = g.split('.').map(Number);
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => { bytes[i * 2] = g >> 8; bytes[i * 2 + 1] = g & 0xff; });
  return bytes;
}

function format(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let best = -1; let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Zeroes the host part: IPv4 keeps its /24, IPv6 its /48 (the domain's "IP truncation" privacy setting). */
export function truncateIp(ip: string): string {
  const b = parseIp(ip);
  if (!b) return ip;
  const keep = b.length === 4 ? 3 : 6;
  const out = new Uint8Array(b.length);
  out.set(b.subarray(0, keep));
  return format(out);
}

/** The address in canonical text (IPv4-mapped IPv6 shown as IPv4). */
export function canonicalIp(ip: string): string {
  const b = parseIp(ip);
  return b ? format(b) : ip;
}

export interface Cidr { bytes: Uint8Array; bits: number }

export function parseCidr(s: string): Cidr | undefined {
  const [addr, len] = s.split('/');
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const bits = len === undefined ? bytes.length * 8 : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) return undefined;
  return { bytes, bits };
}

export function inCidr(ip: Uint8Array, c: Cidr): boolean {
  if (ip.length !== c.bytes.length) return false;
  let bits = c.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (c.bytes[i] & mask)) return false;
  }
  return true;
}

/** A matcher over a list of CIDRs (bad entries are skipped; the config schema checks their shape). */
export function cidrMatcher(list: readonly string[]): (ip: string | Uint8Array | undefined) => boolean {
  const cidrs = list.map(parseCidr).filter((c): c is Cidr => !!c);
  return (ip) => {
    if (!ip || !cidrs.length) return false;
    const b = typeof ip === 'string' ? parseIp(ip) : ip;
    return !!b && cidrs.some((c) => inCidr(b, c));
  };
}
