// Who is really on the other end of an HTTP request, behind reverse proxies. Pure: socket address +
// headers + trusted ranges in, {ip, proto} out.
//
// Rules (the same as nginx's realip module with `real_ip_recursive on`, and proxy-addr):
// - Headers are believed only when the socket peer is a trusted proxy (MAILBEACON_TRUSTED_PROXIES).
//   From anyone else, `Forwarded` / `X-Forwarded-*` are ignored: the socket address is the client.
// - The hop list is read right to left (each proxy appends the address it received the request from):
//   skip hops that are themselves trusted proxies, and stop at the first untrusted one: that is the client.
//   Anything to its left was written by the client (or a proxy we do not trust) and is ignored.
// - A hop that is not an address (`unknown`, an obfuscated `_id`, garbage) stops the walk: the client is
//   then the last address a trusted proxy vouched for.
// - `Forwarded` (RFC 7239) wins over `X-Forwarded-For` when a trusted proxy sent it (header = 'auto');
//   a deployment can pin one header so that a proxy which passes the other through unchanged cannot be
//   used to spoof (MAILBEACON_TRUSTED_PROXY_HEADER).
// - proto comes from the same element as the client address (`proto=` in Forwarded; X-Forwarded-Proto
//   aligned with X-Forwarded-For when both lists have the same length, otherwise its right-most value,
//   which the proxy next to us wrote). Only http and https are understood.
import { CidrSet, formatIp, parseIp } from '../domain/ip-address.ts';

export type Proto = 'http' | 'https';
export type ProxyHeader = 'auto' | 'forwarded' | 'x-forwarded-for';

export interface ClientAddress {
  /** The client's address in canonical form (IPv4-mapped IPv6 shown as IPv4). */
  ip: string;
  /** The scheme the client used to reach the first proxy (or us). */
  proto: Proto;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

interface Hop {
  /** Canonical address, or undefined for unknown / obfuscated / malformed nodes. */
  ip?: string;
  proto?: Proto;
}

function headerText(h: string | string[] | undefined): string | undefined {
  if (h === undefined) return undefined;
  return Array.isArray(h) ? h.join(', ') : h;
}

function canonical(ip: string): string | undefined {
  const a = parseIp(ip);
  return a ? formatIp(a) : undefined;
}

/**
 * A node as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`, or a
 * bare IPv6 literal (not standard, but some proxies write it). Returns the canonical address.
 */
export function parseNode(raw: string): string | undefined {
  const s = raw.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return undefined;
    const after = s.slice(end + 1);
    if (after !== '' && !/^:\d{1,5}$/.test(after)) return undefined;
    const inner = s.slice(1, end);
    return inner.includes(':') ? canonical(inner) : undefined;
  }
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(s);
  if (m) return canonical(m[1]);
  return canonical(s);
}

function asProto(v: string | undefined): Proto | undefined {
  const p = v?.trim().toLowerCase();
  return p === 'http' || p === 'https' ? p : undefined;
}

/**
 * Splits a Forwarded header into elements of lower-cased parameter names → unquoted values. Commas and
 * semicolons inside quoted strings are data. An element that does not parse becomes an empty object (a
 * hop of unknown address), so a client's garbage to the left cannot hide what a proxy appended after it.
 */
export function parseForwarded(header: string): Record<string, string>[] {
  const elements: Record<string, string>[] = [];
  let i = 0;
  const n = header.length;
  while (i <= n) {
    const el: Record<string, string> = {};
    let ok = true;
    // One element: pairs separated by ';' until ',' or end.
    for (;;) {
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      if (i >= n || header[i] === ',') break;
      if (header[i] === ';') { i++; continue; }
      const nameStart = i;
      while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i])) i++;
      const name = header.slice(nameStart, i).toLowerCase();
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      if (!name || header[i] !== '=') { ok = false; break; }
      i++;
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = header[i];
          if (c === '\\' && i + 1 < n) { value += header[i + 1]; i += 2; continue; }
          if (c === '"') { closed = true; i++; break; }
          value += c;
          i++;
        }
        if (!closed) { ok = false; break; }
      } else {
        const vStart = i;
        while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z:[\]-]/.test(header[i])) i++;
        value = header.slice(vStart, i);
        if (!value) { ok = false; break; }
      }
      if (name in el) { ok = false; break; } // RFC 7239 §4: a parameter must not occur twice in an element
      el[name] = value;
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      if (i < n && header[i] !== ';' && header[i] !== ',') { ok = false; break; }
    }
    if (!ok) {
      // Skip to the next top-level comma, honouring quotes.
      let quoted = false;
      while (i < n && (quoted || header[i] !== ',')) {
        if (header[i] === '\\' && quoted) i++;
        else if (header[i] === '"') quoted = !quoted;
        i++;
      }
    }
    // Empty list elements ("a, , b", a trailing comma) are allowed by the # rule and name no hop.
    if (!ok) elements.push({});
    else if (Object.keys(el).length) elements.push(el);
    i++; // past the ',' (or past the end, which ends the loop)
  }
  return elements;
}

function forwardedHops(header: string): Hop[] {
  return parseForwarded(header).map((el) => ({ ip: el.for === undefined ? undefined : parseNode(el.for), proto: asProto(el.proto) }));
}

function xffHops(xff: string | undefined, xfp: string | undefined): Hop[] {
  const ips = xff === undefined ? [] : xff.split(',').map((s) => s.trim());
  if (ips.length === 1 && ips[0] === '') ips.length = 0;
  const protos = xfp === undefined ? [] : xfp.split(',').map((s) => s.trim());
  const hops: Hop[] = ips.map((s) => ({ ip: parseNode(s) }));
  if (protos.length && hops.length === protos.length) hops.forEach((h, k) => (h.proto = asProto(protos[k])));
  else if (protos.length && hops.length) hops[hops.length - 1].proto = asProto(protos[protos.length - 1]);
  return hops;
}

/**
 * The client address and scheme of a request. `socketAddress` is the TCP peer (`req.socket.remoteAddress`),
 * `socketProto` whether that connection is TLS.
 */
export function clientAddress(socketAddress: string | undefined, headers: HeaderBag, trusted: CidrSet, socketProto: Proto = 'http', which: ProxyHeader = 'auto'): ClientAddress {
  const peer = socketAddress === undefined ? '' : (canonical(socketAddress) ?? socketAddress);
  if (!trusted.size || !trusted.has(peer)) return { ip: peer, proto: socketProto };

  const fwd = which === 'x-forwarded-for' ? undefined : headerText(headers.forwarded);
  const xff = which === 'forwarded' ? undefined : headerText(headers['x-forwarded-for']);
  const xfp = which === 'forwarded' ? undefined : headerText(headers['x-forwarded-proto']);
  let hops: Hop[];
  if (fwd !== undefined && fwd.trim() !== '') hops = forwardedHops(fwd);
  else {
    hops = xffHops(xff, xfp);
    // A proxy that sets only X-Forwarded-Proto (the client is the peer itself, e.g. a TLS terminator
    // on the same host talking to us without X-Forwarded-For).
    if (!hops.length && xfp !== undefined) {
      const parts = xfp.split(',');
      return { ip: peer, proto: asProto(parts[parts.length - 1]) ?? socketProto };
    }
  }

  let ip = peer;
  let proto = socketProto;
  for (let k = hops.length - 1; k >= 0; k--) {
    const hop = hops[k];
    // hop k was written by a proxy we trust (the peer, or a hop we already walked past), so its proto
    // describes the connection it received from hop k's address.
    if (hop.proto) proto = hop.proto;
    if (!hop.ip) break;
    ip = hop.ip;
    if (!trusted.has(ip)) break;
  }
  return { ip, proto };
}
