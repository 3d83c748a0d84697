// The `domain` parameter of the events, stats and webhooks APIs: a domain id (`dom_…`) or a domain name of
// the authenticated account. Anything else (including another account's domain) is a 422.
import type { Store } from '../store/store.ts';
import { AppError } from '../domain/errors.ts';

export async function resolveDomainParam(store: Store, accountId: string, value: string, field = 'domain'): Promise<string> {
  const byId = await store.domains.get(accountId, value);
  if (byId) return byId.id;
  const byName = await store.domains.findByName(accountId, value);
  if (byName) return byName.id;
  throw new AppError('invalid', 'unknown_domain', `no domain ${value} in this account`, { [field]: 'not a domain id or name of this account' });
}
