// Bench setup for bench/relay.sh: an account (user bench@example.test) with the domain example.test added
// from the dashboard, marked validated directly in the store (no DNS here), open and click tracking on.
// Uses the same MAILBEACON_* environment as the server it prepares.
import { loadConfig } from '../src/config/load-config.ts';
import { createContext } from '../src/server/create-context.ts';
import { createAccount } from '../src/accounts/account-service.ts';
import { createDomain } from '../src/domains/domain-service.ts';
import { createLogger } from '../src/observability/logger.ts';

const config = loadConfig(process.env);
const ctx = await createContext(config, { log: createLogger('warn') });
const acc = await createAccount(ctx.store, { email: 'bench@example.test', password: 'bench password 1' });
const d = await createDomain(ctx, acc.accountId, 'example.test', 'dashboard');
await ctx.store.domains.update(acc.accountId, d.id, { status: 'validated', statusReason: null, verifiedAt: Date.now(), lastCheckedAt: Date.now(), openTracking: 1, clickTracking: 1 });
process.stdout.write(`account ${acc.accountId} domain ${d.id} (example.test, validated, opens+clicks on, DKIM selector ${d.dkimSelector})\n`);
await ctx.store.close();
