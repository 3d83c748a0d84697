// IP addresses and CIDR ranges as plain values: parse, normalize, format, match. No sockets, no DNS.
// IPv4-mapped IPv6 addresses (::ffff:192.0.2.1, what a dual-stack socket reports for an IPv4 peer) are
// treated as the IPv4 address they carry, both when matching and when printing, so `127.0.0.1/32`
// matches a peer Node reports as `::ffff:127.0.0.1` and an event records `192.0.2.1`, not the mapped form.

export interface IpAddress {
  family: 4 | 6;
  /** 32 bits for IPv4, 128 bits for IPv6. */
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): bigint | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    // Leading zeros are ambiguous (octal in some parsers): refuse them rather than guess.
    if (part.length > 1 && part[0] === '0') return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  // A zone id (fe80::1%eth0) names an interface, not part of the address.
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (!s.includes(':')) return undefined;
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is rewritten as its two hex groups.
  const lastColon = s.lastIndexOf(':');
  const maybeV4 = s.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const v4 = parseV4(maybeV4);
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...rest];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const explicit = all.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const zeros = 8 - explicit;
  const words = [...head.map((g) => BigInt(parseInt(g, 16))), ...Array<bigint>(halves.length === 2 ? zeros : 0).fill(0n), ...rest.map((g) => BigInt(parseInt(g, 16)))];
  let v = 0n;
  for (const w of words) v = (v << 16n) | w;
  return v;
}

/** Parses an IPv4 or IPv6 literal (no brackets, no port); IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(s: string): IpAddress | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseV6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** Canonical text: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(a: IpAddress): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join('.');
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** The canonical form of an address literal, or undefined when it is not one. */
export function normalizeIp(s: string): string | undefined {
  const a = parseIp(s);
  return a ? formatIp(a) : undefined;
}

/** Parses `addr` or `addr/prefix`; a bare address is a single host. IPv4-mapped ranges become IPv4. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const addrText = slash >= 0 ? s.slice(0, slash) : s;
  const prefixText = slash >= 0 ? s.slice(slash + 1) : undefined;
  const v4 = parseV4(addrText);
  const raw = v4 !== undefined ? { family: 4 as const, value: v4 } : (() => {
    const v6 = parseV6(addrText);
    return v6 === undefined ? undefined : { family: 6 as const, value: v6 };
  })();
  if (!raw) return undefined;
  const bits = raw.family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  let family: 4 | 6 = raw.family;
  let value = raw.value;
  if (family === 6 && value >> 32n === 0xffffn && prefix >= 96) {
    family = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  const width = family === 4 ? 32 : 128;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { family, network: value & mask, prefix };
}

export function cidrContains(c: Cidr, a: IpAddress): boolean {
  if (c.family !== a.family) return false;
  const width = c.family === 4 ? 32 : 128;
  const shift = BigInt(width - c.prefix);
  return a.value >> shift === c.network >> shift;
}

/** A set of ranges to test addresses against (trusted proxies, trusted SMTP networks, provider ranges). */
export class CidrSet {
  readonly ranges: Cidr[];

  constructor(cidrs: Iterable<string>) {
    this.ranges = [];
    for (const text of cidrs) {
      const c = parseCidr(text.trim());
      if (!c) throw new Error(`not an address or CIDR range: ${text}`);
      this.ranges.push(c);
    }
  }

  get size(): number {
    return this.ranges.length;
  }

  /** True when the address (a literal or a parsed address) lies in one of the ranges. */
  has(addr: string | IpAddress | undefined): boolean {
    if (addr === undefined || !this.ranges.length) return false;
    const a = typeof addr === 'string' ? parseIp(addr) : addr;
    if (!a) return false;
    return this.ranges.some((c) => cidrContains(c, a));
  }
}
