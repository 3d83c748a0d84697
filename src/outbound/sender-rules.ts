// Which domain a message is sent as. The envelope sender's domain and the From: domain must both belong to
// the sending account; the From: domain's row carries the DKIM key and the tracking settings.
import type { AppContext } from '../app-context.ts';
import { AppError } from '../domain/errors.ts';
import type { DomainsTable } from '../store/schema.ts';
import { domainOf } from './message-headers.ts';

/**
 * The domain row for `domain` if the account may send from it. Until the domains feature's
 * resolveSendingDomain is on main, the rule is: a domain of the account, or any domain (no row) when the
 * account's sending mode is 'any'.
 */
export async function resolveDomainForSending(ctx: AppContext, accountId: string, domain: string): Promise<DomainsTable | undefined> {
  const row = await ctx.store.domains.findByName(accountId, domain);
  if (row) return row;
  const acc = await ctx.store.accounts.get(accountId);
  if (acc?.sendingMode === 'any') return undefined;
  throw new AppError('forbidden', 'sender_domain_not_allowed', `sender domain ${domain} does not belong to this account`);
}

/** Checks both sender domains; returns the From: domain's row (undefined: allowed without a row). */
export async function checkSenders(ctx: AppContext, accountId: string, envelopeFrom: string, headerFrom: string): Promise<DomainsTable | undefined> {
  const envDomain = domainOf(envelopeFrom);
  const fromDomain = domainOf(headerFrom);
  if (!envDomain) throw new AppError('forbidden', 'sender_domain_not_allowed', 'the envelope sender must be an address in a domain of this account');
  if (!fromDomain) throw new AppError('invalid', 'from_missing', 'the message has no valid From: address');
  try {
    await resolveDomainForSending(ctx, accountId, envDomain);
  } catch (e) {
    if (e instanceof AppError && e.kind === 'forbidden') throw new AppError('forbidden', 'sender_domain_not_allowed', `envelope sender domain ${envDomain} does not belong to this account`);
    throw e;
  }
  try {
    return await resolveDomainForSending(ctx, accountId, fromDomain);
  } catch (e) {
    if (e instanceof AppError && e.kind === 'forbidden') throw new AppError('forbidden', 'sender_domain_not_allowed', `From: domain ${fromDomain} does not belong to this account`);
    throw e;
  }
}
