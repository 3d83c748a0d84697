// One delivery attempt over HTTP: resolve, check the address (SSRF), connect to exactly that address, POST
// the signed body, follow no redirects, give up after the timeout. Returns what happened; never throws.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import dns from 'node:dns';
import { AppError } from '../domain/errors.ts';
import { hostOf, parseWebhookUrl, resolveDestination, type Resolver } from './ssrf.ts';
import { signPayload } from './signing.ts';

export const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

export interface SendInput {
  url: string;
  secret: string;
  body: string;
  eventId: string;
  deliveryId: string;
  attempt: number;
  /** Seconds since the epoch (X-Mailbeacon-Timestamp). */
  timestamp: number;
}

export interface SendResult {
  statusCode?: number;
  error?: string;
  durationMs: number;
}

export interface SenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  resolve?: Resolver;
}

export function signedHeaders(secret: string, body: string, eventId: string, timestamp: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Mailbeacon-Webhooks/1',
    'x-mailbeacon-id': eventId,
    'x-mailbeacon-timestamp': String(timestamp),
    'x-mailbeacon-signature': signPayload(secret, timestamp, body),
  };
}

export async function sendWebhook(input: SendInput, opts: SenderOptions): Promise<SendResult> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Date.now() - started });
  let u: URL;
  let dest: { address: string; family: number };
  try {
    u = parseWebhookUrl(input.url);
    dest = await withTimeout(resolveDestination(u, opts.resolve ?? systemResolver, opts.allowPrivate), opts.timeoutMs);
  } catch (e: any) {
    return done({ error: e instanceof AppError ? `${e.code}: ${e.message}` : String(e.message ?? e) });
  }
  const host = hostOf(u);
  const mod = u.protocol === 'https:' ? https : http;
  const body = Buffer.from(input.body, 'utf8');
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(r));
    };
    const req = mod.request({
      method: 'POST',
      hostname: host,
      port: u.port || (u.protocol === 'https:' ? 443 : 80),
      path: `${u.pathname}${u.search}`,
      agent: false,
      // Connect to the address that was checked, never to a second lookup's answer (DNS rebinding).
      lookup: ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => (o?.all ? cb(null, [dest]) : cb(null, dest.address, dest.family))) as unknown as typeof dns.lookup,
      ...(u.protocol === 'https:' && !net.isIP(host) ? { servername: host } : {}),
      headers: {
        ...signedHeaders(input.secret, input.body, input.eventId, input.timestamp),
        'x-mailbeacon-delivery': input.deliveryId,
        'x-mailbeacon-attempt': String(input.attempt),
        'content-length': String(body.length),
        connection: 'close',
      },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`));
    }, Math.max(1, deadline - Date.now()));
    req.on('error', (e: any) => finish({ error: e.code && e.code !== 'ERR_STREAM_DESTROYED' ? `${e.code}: ${e.message}` : e.message }));
    req.on('response', (res) => {
      // The status is the answer; read (and drop) a little of the body so the socket closes cleanly.
      let seen = 0;
      let excerpt = '';
      res.on('data', (d: Buffer) => {
        if (seen < 200) excerpt += d.toString('utf8', 0, Math.min(d.length, 200 - seen));
        seen += d.length;
        if (seen > 64 * 1024) res.destroy();
      });
      const status = res.statusCode ?? 0;
      const result = () => finish(status >= 200 && status < 300 ? { statusCode: status } : { statusCode: status, error: `HTTP ${status}${excerpt ? `: ${excerpt.trim().slice(0, 200)}` : ''}` });
      res.on('end', result);
      res.on('close', result);
      res.on('error', result);
    });
    req.end(body);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`DNS lookup timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}
