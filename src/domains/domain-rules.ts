// Pure rules about domains: what a valid name is, which hostnames count as subdomains, who may track and
// who may send. No I/O here, so every rule is tested with plain values.
import { domainToASCII } from 'node:url';
import { AppError, invalid } from '../domain/errors.ts';

export type DomainSource = 'dashboard' | 'control_panel' | 'manual_dns';
export type DomainStatus = 'pending' | 'validated' | 'failed';
export type SendingMode = 'verified' | 'any';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A domain or hostname as we store it: lower case, ASCII (IDNs become punycode), no trailing dot. Returns
 * an error message instead of a name when the input is not a usable DNS name.
 */
export function checkDomainName(input: string): { name: string } | { error: string } {
  const raw = input.trim().replace(/\.$/, '');
  if (!raw) return { error: 'is empty' };
  if (/[\s/@:]/.test(raw)) return { error: `"${input.trim()}" is not a domain name (give just the name, e.g. example.com)` };
  const name = domainToASCII(raw.toLowerCase());
  if (!name) return { error: `"${raw}" is not a valid domain name` };
  if (name.length > 253) return { error: 'is longer than 253 characters' };
  const labels = name.split('.');
  if (labels.length < 2) return { error: `"${name}" needs at least two labels, e.g. example.com` };
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) return { error: `"${name}" has an invalid label "${bad}" (letters, digits and inner hyphens, 1-63 characters)` };
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return { error: `"${name}" looks like an IP address, not a domain name` };
  return { name };
}

/** Like checkDomainName, but throws a 422 naming `field`. */
export function normalizeDomainName(input: string, field = 'name'): string {
  const r = checkDomainName(input);
  if ('error' in r) throw invalid(`${field} ${r.error}`, { [field]: r.error });
  return r.name;
}

/** True when `host` is a proper subdomain of `domain` (both normalized): t.example.com of example.com. */
export function isSubdomainOf(host: string, domain: string): boolean {
  return host.length > domain.length + 1 && host.endsWith(`.${domain}`);
}

/** The names to try, most specific first, when mail is sent From `name`: news.example.com, example.com. */
export function parentNames(name: string): string[] {
  const labels = name.split('.');
  const out: string[] = [];
  for (let i = 0; i < labels.length - 1; i++) out.push(labels.slice(i).join('.'));
  return out;
}

interface DomainLike {
  name: string;
  source: string;
  status: string;
  statusReason?: string | null;
  openTracking?: number;
  clickTracking?: number;
}

const SOURCE_WORDS: Record<string, string> = {
  control_panel: 'was added through a hosting control panel (the panel vouches for it, but it was never verified here)',
  manual_dns: 'is only used as a sender in "any domain" mode and was never verified here',
};

/**
 * Why tracking may not be used for this domain, or undefined when it may: tracking needs a domain added in
 * the dashboard and validated through DNS.
 */
export function trackingIneligibility(d: DomainLike): string | undefined {
  if (d.source !== 'dashboard') {
    const how = SOURCE_WORDS[d.source] ?? `came in as "${d.source}"`;
    return `tracking needs a domain validated in the dashboard; ${d.name} ${how}. Add it with POST /api/v1/domains and publish its DNS records`;
  }
  if (d.status === 'pending') return `tracking needs a validated domain; ${d.name} is not verified yet: publish its DNS records and call POST /api/v1/domains/{id}/verify`;
  if (d.status !== 'validated') {
    const why = d.statusReason ? `: ${d.statusReason}` : '';
    return `tracking needs a validated domain; ${d.name} failed validation${why}. Fix its DNS records and verify again`;
  }
  return undefined;
}

/** The 409 for turning open or click tracking on for a domain that may not use it. */
export function notEligibleError(d: DomainLike, what: 'open' | 'click'): AppError {
  const reason = trackingIneligibility(d) ?? 'tracking is not available for this domain';
  const label = what === 'open' ? 'Open tracking' : 'Click tracking';
  return new AppError('conflict', 'domain_not_eligible', `${label} ${reason.replace(/^tracking /, '')}`);
}

/** Whether tracking may be applied to new mail of this domain now, with the reason when it may not. */
export function trackingDecision(d: DomainLike): { opens: boolean; clicks: boolean; reason?: string } {
  const why = trackingIneligibility(d);
  if (why) return { opens: false, clicks: false, reason: why };
  const opens = d.openTracking === 1;
  const clicks = d.clickTracking === 1;
  if (!opens && !clicks) return { opens, clicks, reason: `open and click tracking are turned off for ${d.name}` };
  return { opens, clicks };
}

/**
 * Sending rules per source (docs/dns-records.md, "Who may send"):
 * - dashboard: may send as soon as it is added, whatever its status. The receiver does the real check
 *   (DKIM with the key we generated, SPF, DMARC); until the records are published the DKIM signature
 *   simply fails there. What validation unlocks is tracking.
 * - control_panel: may send (the panel vouches for the customer owning it); never tracked.
 * - manual_dns: may send only while the account is in "any domain" mode; never tracked.
 * Returns undefined when allowed, else the message a person reads.
 */
export function sendingRefusal(d: { name: string; source: string }, mode: string): string | undefined {
  if (d.source === 'dashboard' || d.source === 'control_panel') return undefined;
  if (d.source === 'manual_dns') {
    if (mode === 'any') return undefined;
    return `${d.name} is not a domain of this account: it was only used while the account sent from any domain, and the account now sends only from its own domains. Add ${d.name} with POST /api/v1/domains, or switch the account to "any" sending mode`;
  }
  return `${d.name} has an unknown source "${d.source}" and may not send`;
}

/** The refusal when no domain row covers the From domain and the account does not send from any domain. */
export function unknownSenderMessage(fromDomain: string): string {
  return `${fromDomain} is not a domain of this account: add it with POST /api/v1/domains (or switch the account to "any" sending mode to send from domains you have not added)`;
}
