// Adding domains (from the dashboard/API, a control panel, or first use in "any domain" mode) with their
// verification token and DKIM key, and the DNS records a person has to publish.
import { generateKeyPair } from 'node:crypto';
import type { AppContext } from '../app-context.ts';
import { conflict } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { randomToken } from '../domain/secrets.ts';
import type { DomainsTable } from '../store/schema.ts';
import { normalizeDomainName, type DomainSource } from './domain-rules.ts';

export const VERIFICATION_PREFIX = 'mailbeacon-verification=';

export interface DnsRecord {
  type: 'TXT' | 'CNAME';
  name: string;
  value: string;
  /** verification | dkim | spf | tracking */
  purpose: string;
  /** Whether validation needs it (SPF is advice: it depends on where your mail finally leaves from). */
  required: boolean;
}

function generateDkimKey(): Promise<{ privateKey: string; publicKey: string }> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }, (err, publicKey, privateKey) =>
      err ? reject(err) : resolve({ privateKey, publicKey }),
    ),
  );
}

/** The `p=` value of a DKIM record: the base64 SubjectPublicKeyInfo, from a PEM public key. */
export function dkimPublicValue(publicKeyPem: string): string {
  return publicKeyPem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
}

export const verificationName = (domain: string) => `_mailbeacon.${domain}`;
export const dkimName = (selector: string, domain: string) => `${selector}._domainkey.${domain}`;
export const dkimValue = (publicKeyPem: string) => `v=DKIM1; k=rsa; p=${dkimPublicValue(publicKeyPem)}`;

/** The records to publish for a domain: ownership TXT, DKIM key, and an SPF suggestion. */
export function dnsRecordsFor(d: Pick<DomainsTable, 'name' | 'verificationToken' | 'dkimSelector' | 'dkimPublicKey'>): DnsRecord[] {
  return [
    { type: 'TXT', name: verificationName(d.name), value: `${VERIFICATION_PREFIX}${d.verificationToken}`, purpose: 'verification', required: true },
    { type: 'TXT', name: dkimName(d.dkimSelector, d.name), value: dkimValue(d.dkimPublicKey), purpose: 'dkim', required: true },
    { type: 'TXT', name: d.name, value: 'v=spf1 a mx ~all', purpose: 'spf', required: false },
  ];
}

/** `mb` + year + month of creation, so a rotated key gets a new selector. */
export function dkimSelectorFor(now: number): string {
  const d = new Date(now);
  return `mb${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Adds a domain to an account. From the dashboard an existing control_panel / manual_dns row is upgraded
 * (it keeps its DKIM key and starts verification); a second dashboard add is a 409. A control panel adding a
 * domain the account already has gets the existing row; manual_dns rows are only made on first use.
 */
export async function createDomain(ctx: AppContext, accountId: string, name: string, source: DomainSource): Promise<DomainsTable> {
  const domain = normalizeDomainName(name);
  const existing = await ctx.store.domains.findByName(accountId, domain);
  if (existing) return adopt(ctx, existing, source);
  const now = ctx.clock.now();
  const key = await generateDkimKey();
  const row: DomainsTable = {
    id: newId('dom_', now),
    accountId,
    name: domain,
    source,
    status: 'pending',
    statusReason: source === 'dashboard' ? 'waiting for the DNS records to be published and verified' : null,
    verificationToken: randomToken(18).replace(/[-_]/g, 'x'),
    dkimSelector: dkimSelectorFor(now),
    dkimPrivateKey: key.privateKey,
    dkimPublicKey: key.publicKey,
    openTracking: 0,
    clickTracking: 0,
    pixelPlacement: 'bottom',
    ipTruncation: 0,
    retentionDays: 90,
    createdAt: now,
    verifiedAt: null,
    lastCheckedAt: null,
  };
  try {
    await ctx.store.domains.insert(row);
  } catch (err) {
    // Two requests adding the same name at once: the unique (account, name) constraint decides.
    const again = await ctx.store.domains.findByName(accountId, domain);
    if (again) return adopt(ctx, again, source);
    throw err;
  }
  ctx.log.info({ event: 'domains.created', accountId, domainId: row.id, domain, source }, 'domain added');
  return row;
}

const RANK: Record<string, number> = { manual_dns: 0, control_panel: 1, dashboard: 2 };

async function adopt(ctx: AppContext, row: DomainsTable, source: DomainSource): Promise<DomainsTable> {
  if (source === 'dashboard' && row.source === 'dashboard') throw conflict('domain_exists', `${row.name} is already a domain of this account (id ${row.id})`);
  if ((RANK[source] ?? 0) <= (RANK[row.source] ?? 0)) return row;
  const patch = source === 'dashboard'
    ? { source, status: 'pending', statusReason: 'waiting for the DNS records to be published and verified' }
    : { source };
  await ctx.store.domains.update(row.accountId, row.id, patch);
  ctx.log.info({ event: 'domains.source_changed', accountId: row.accountId, domainId: row.id, from: row.source, to: source }, 'domain source changed');
  return { ...row, ...patch };
}
