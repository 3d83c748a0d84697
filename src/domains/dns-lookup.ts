// The DNS adapter: TXT and CNAME lookups through MAILBEACON_DNS_SERVERS (or the system resolvers) with a
// timeout, turned into plain outcomes the verification rules understand.
import { Resolver } from 'node:dns/promises';
import type { Config } from '../config/schema.ts';

export type LookupOutcome<T> =
  | { kind: 'ok'; values: T[] }
  /** The name does not exist (NXDOMAIN) or has no record of this type (NODATA): a definite answer. */
  | { kind: 'missing'; detail: string }
  /** No usable answer (timeout, SERVFAIL, refused): we do not know, so nothing is concluded from it. */
  | { kind: 'error'; code: string; detail: string };

export interface DnsLookup {
  txt(name: string): Promise<LookupOutcome<string>>;
  cname(name: string): Promise<LookupOutcome<string>>;
}

const MISSING: Record<string, string> = {
  ENODATA: 'no record of this type',
  ENOTFOUND: 'the name does not exist (NXDOMAIN)',
};

export function createDnsLookup(config: Pick<Config, 'dnsServers' | 'dnsTimeout'>): DnsLookup {
  const servers = config.dnsServers?.length ? config.dnsServers : undefined;
  const where = servers ? servers.join(', ') : 'the system resolvers';
  const timeoutSec = `${(config.dnsTimeout / 1000).toLocaleString('en', { maximumFractionDigits: 1 })} s`;
  const errorText: Record<string, string> = {
    ETIMEOUT: `no answer from ${where} within ${timeoutSec} (DNS timeout)`,
    ESERVFAIL: `${where} answered SERVFAIL (the domain's name servers failed or are unreachable)`,
    EREFUSED: `${where} refused the query`,
    ECONNREFUSED: `could not reach ${where} (connection refused)`,
  };

  async function run<T>(query: (r: Resolver) => Promise<T[]>): Promise<LookupOutcome<T>> {
    const r = new Resolver({ timeout: config.dnsTimeout, tries: 1 });
    if (servers) r.setServers(servers);
    let timer: NodeJS.Timeout | undefined;
    // c-ares has its own timeout; this one is the backstop so a verification never hangs.
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { r.cancel(); reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })); }, config.dnsTimeout + 500);
    });
    try {
      const values = await Promise.race([query(r), backstop]);
      return values.length ? { kind: 'ok', values } : { kind: 'missing', detail: MISSING.ENODATA };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (MISSING[code]) return { kind: 'missing', detail: MISSING[code] };
      const c = code === 'ECANCELLED' ? 'ETIMEOUT' : code;
      return { kind: 'error', code: c, detail: errorText[c] ?? `DNS error ${c} from ${where}` };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    // A TXT record may be split in several strings (each at most 255 bytes); they form one value.
    txt: (name) => run(async (r) => (await r.resolveTxt(name)).map((chunks) => chunks.join(''))),
    cname: (name) => run(async (r) => (await r.resolveCname(name)).map((c) => c.toLowerCase().replace(/\.$/, ''))),
  };
}
