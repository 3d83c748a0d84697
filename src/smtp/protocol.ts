// SMTP rules as plain functions and small state machines, testable without sockets.
import net from 'node:net';
import { AppError } from '../domain/errors.ts';

/**
 * Watches DATA content (after dot-unstuffing) for a bare CR or a bare LF: a line ending other than CRLF is
 * how SMTP smuggling (CVE-2023-51764 and friends) sneaks a second message past one server and into the
 * next; Postfix 3.9 refuses such input, and so do we. Feed chunks in order; `found` says what was seen.
 */
export class BareLineEndingDetector {
  found: 'CR' | 'LF' | undefined;
  private prevCR = false;

  feed(chunk: Buffer): void {
    if (this.found || !chunk.length) return;
    let pos = 0;
    if (this.prevCR) {
      this.prevCR = false;
      if (chunk[0] !== 0x0a) { this.found = 'CR'; return; }
      pos = 1;
    }
    // From one CR to the next with native scans (Buffer.indexOf), not a JS loop over every byte: each CR
    // must be followed by LF, and no LF may come before the next CR.
    for (;;) {
      const cr = chunk.indexOf(0x0d, pos);
      const lf = chunk.indexOf(0x0a, pos);
      if (lf !== -1 && (cr === -1 || lf < cr)) { this.found = 'LF'; return; }
      if (cr === -1) return;
      if (cr === chunk.length - 1) { this.prevCR = true; return; }
      if (chunk[cr + 1] !== 0x0a) { this.found = 'CR'; return; }
      pos = cr + 2;
    }
  }

  /** Call at the end of DATA: a CR as the very last byte is bare too. */
  end(): void {
    if (!this.found && this.prevCR) this.found = 'CR';
  }
}

export function isLoopback(ip: string): boolean {
  const a = ip.replace(/^::ffff:/i, '');
  return a === '::1' || /^127\./.test(a);
}

const blockLists = new WeakMap<string[], net.BlockList>();

/** Whether `ip` is inside one of the CIDRs (IPv4 and IPv6; a bare address is a /32 or /128). */
export function inNetworks(ip: string, cidrs: string[]): boolean {
  if (!cidrs.length) return false;
  // One BlockList per list of CIDRs: the configured list is asked on every message.
  let list = blockLists.get(cidrs);
  if (!list) {
    list = new net.BlockList();
    for (const c of cidrs) {
      const [addr, bits] = c.split('/');
      const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    blockLists.set(cidrs, list);
  }
  const a = ip.replace(/^::ffff:/i, '');
  return list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
}

/** May this session use AUTH? Over TLS always; in clear text only from loopback or when configured. */
export function authAllowed(opts: { secure: boolean; remoteAddress: string; allowInsecure: boolean }): boolean {
  return opts.secure || opts.allowInsecure || isLoopback(opts.remoteAddress);
}

export interface SmtpReply {
  code: number;
  message: string;
}

/** Maps a domain error to the SMTP reply at the edge; anything unknown is a temporary failure. */
export function replyForError(err: unknown): SmtpReply {
  if (err instanceof AppError) {
    switch (err.kind) {
      case 'forbidden': return { code: 550, message: `5.7.1 ${err.message}` };
      case 'unauthorized': return { code: 535, message: `5.7.8 ${err.message}` };
      case 'invalid': return { code: 550, message: `5.6.0 ${err.message}` };
      case 'too_large': return { code: 552, message: `5.3.4 ${err.message}` };
      case 'not_found': return { code: 550, message: `5.1.1 ${err.message}` };
      case 'rate_limited': return { code: 451, message: `4.7.1 ${err.message}` };
      default: return { code: 451, message: `4.3.0 ${err.message}` };
    }
  }
  return { code: 451, message: '4.3.0 temporary failure, try again later' };
}

/** An Error smtp-server turns into the reply (it uses `responseCode`). */
export function smtpError(reply: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}
