// Which domain row mail is sent under, and whether it may be tracked: called by the submission front doors
// and the delivery worker. The rules themselves are in domain-rules.ts.
import type { AppContext } from '../app-context.ts';
import { AppError } from '../domain/errors.ts';
import type { DomainsTable } from '../store/schema.ts';
import { checkDomainName, parentNames, sendingRefusal, trackingDecision, unknownSenderMessage } from './domain-rules.ts';
import { createDomain } from './domain-service.ts';

/**
 * The domain row mail from `fromDomain` is sent under, for this account: the exact name, else the closest
 * parent domain the account added (news.example.com is sent under example.com, which DKIM-signs it with
 * d=example.com and aligns under relaxed DMARC). Creates a manual_dns row on first use when the account's
 * sendingMode is 'any'. Throws AppError('forbidden', 'sender_domain_not_allowed', ...) otherwise.
 */
export async function resolveSendingDomain(ctx: AppContext, accountId: string, fromDomain: string): Promise<DomainsTable> {
  const checked = checkDomainName(fromDomain);
  if ('error' in checked) throw new AppError('forbidden', 'sender_domain_not_allowed', `the sender domain ${checked.error}`);
  const name = checked.name;
  const account = await ctx.store.accounts.get(accountId);
  if (!account) throw new AppError('forbidden', 'sender_domain_not_allowed', 'unknown account');
  const mode = account.sendingMode;
  for (const candidate of parentNames(name)) {
    const row = await ctx.store.domains.findByName(accountId, candidate);
    if (!row) continue;
    // A parent covers its subdomains only when it was really added (dashboard or control panel).
    if (candidate !== name && row.source === 'manual_dns') continue;
    const refusal = sendingRefusal(row, mode);
    if (!refusal) return row;
    if (candidate === name) throw new AppError('forbidden', 'sender_domain_not_allowed', refusal);
  }
  if (mode === 'any') return createDomain(ctx, accountId, name, 'manual_dns');
  throw new AppError('forbidden', 'sender_domain_not_allowed', unknownSenderMessage(name));
}

/** Whether tracking may be applied to new mail of this domain now (dashboard + validated + toggles). */
export function trackingAllowed(domain: DomainsTable): { opens: boolean; clicks: boolean; reason?: string } {
  return trackingDecision(domain);
}
