// Which domain a message is sent as. The envelope sender's domain and the From: domain must both belong to
// the sending account; the From: domain's row carries the DKIM key and the tracking settings. The rules
// (exact domain, parent domain, sending mode 'any') are the domains feature's resolveSendingDomain.
import type { AppContext } from '../app-context.ts';
import { AppError } from '../domain/errors.ts';
import type { DomainsTable } from '../store/schema.ts';
import { domainOf } from './message-headers.ts';
import { resolveSendingDomain } from '../domains/sending-rules.ts';

const CACHE_MS = 2000;
const caches = new WeakMap<AppContext, Map<string, { at: number; row: DomainsTable }>>();

/**
 * The domain row mail from `domain` is sent under (see domains/sending-rules.ts); throws 'forbidden'.
 * Allowed answers are remembered for two seconds: a busy sender asks for the same domain several times per
 * message (MAIL FROM, envelope, From:), and a refusal is never cached.
 */
export async function resolveDomainForSending(ctx: AppContext, accountId: string, domain: string): Promise<DomainsTable> {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new Map()));
  const key = `${accountId}\0${domain.toLowerCase()}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < CACHE_MS) return hit.row;
  const row = await resolveSendingDomain(ctx, accountId, domain);
  if (cache.size > 10_000) cache.clear();
  cache.set(key, { at: now, row });
  return row;
}

/** Checks both sender domains; returns the From: domain's row. */
export async function checkSenders(ctx: AppContext, accountId: string, envelopeFrom: string, headerFrom: string): Promise<DomainsTable> {
  const envDomain = domainOf(envelopeFrom);
  const fromDomain = domainOf(headerFrom);
  if (!envDomain) throw new AppError('forbidden', 'sender_domain_not_allowed', 'the envelope sender must be an address in a domain of this account');
  if (!fromDomain) throw new AppError('invalid', 'from_missing', 'the message has no valid From: address');
  try {
    await resolveDomainForSending(ctx, accountId, envDomain);
  } catch (e) {
    if (e instanceof AppError && e.kind === 'forbidden') throw new AppError('forbidden', 'sender_domain_not_allowed', `envelope sender domain ${envDomain} does not belong to this account: ${e.message}`);
    throw e;
  }
  try {
    return await resolveDomainForSending(ctx, accountId, fromDomain);
  } catch (e) {
    if (e instanceof AppError && e.kind === 'forbidden') throw new AppError('forbidden', 'sender_domain_not_allowed', `From: domain ${fromDomain} does not belong to this account: ${e.message}`);
    throw e;
  }
}
