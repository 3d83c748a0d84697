// Verification of a domain's DNS records and of a tracking domain's CNAME: pure evaluation of lookup
// outcomes into statuses and messages, plus the functions that ask DNS and store the result.
import type { AppContext } from '../app-context.ts';
import type { DomainsTable, TrackingDomainsTable } from '../store/schema.ts';
import { dkimPublicValue, dnsRecordsFor, type DnsRecord } from './domain-service.ts';
import { createDnsLookup, type DnsLookup, type LookupOutcome } from './dns-lookup.ts';

export interface RecordCheck {
  record: string;
  type: string;
  name: string;
  expected: string;
  required: boolean;
  ok: boolean;
  /** What DNS has at that name (values shortened), empty when nothing. */
  found: string[];
  /** ok | missing | wrong_value | dns_error */
  result: string;
  message: string;
}

export type Outcome = 'validated' | 'failed' | 'unknown';

const short = (v: string) => (v.length > 120 ? `${v.slice(0, 117)}...` : v);

function tags(value: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of value.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) m.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).replace(/\s+/g, ''));
  }
  return m;
}

function matches(rec: DnsRecord, value: string, publicKeyPem?: string): boolean {
  if (rec.purpose === 'dkim') return !!publicKeyPem && tags(value).get('p') === dkimPublicValue(publicKeyPem);
  if (rec.purpose === 'spf') return /^v=spf1(\s|$)/i.test(value.trim());
  return value.trim() === rec.value;
}

const LABEL: Record<string, string> = { verification: 'verification TXT record', dkim: 'DKIM TXT record', spf: 'SPF record' };

export function checkRecord(rec: DnsRecord, outcome: LookupOutcome<string>, publicKeyPem?: string): RecordCheck {
  const base = { record: rec.purpose, type: rec.type, name: rec.name, expected: rec.value, required: rec.required };
  const label = LABEL[rec.purpose] ?? `${rec.type} record`;
  if (outcome.kind === 'error') return { ...base, ok: false, found: [], result: 'dns_error', message: `could not check the ${label} ${rec.name}: ${outcome.detail}` };
  if (outcome.kind === 'missing') return { ...base, ok: false, found: [], result: 'missing', message: `the ${label} ${rec.name} is missing (${outcome.detail})` };
  const values = rec.purpose === 'spf' ? outcome.values.filter((v) => /^v=spf1/i.test(v.trim())) : outcome.values;
  const ok = values.some((v) => matches(rec, v, publicKeyPem));
  if (ok) return { ...base, ok, found: values.map(short), result: 'ok', message: `the ${label} ${rec.name} is published` };
  if (!values.length) return { ...base, ok, found: outcome.values.map(short), result: 'missing', message: `the ${label} ${rec.name} is missing (other TXT records are there)` };
  const what = rec.purpose === 'dkim' ? 'a different DKIM key' : `"${short(values[0])}"`;
  return { ...base, ok, found: values.map(short), result: 'wrong_value', message: `the ${label} ${rec.name} has the wrong value: found ${what}, expected "${short(rec.value)}"` };
}

/** All required records ok → validated; a required one definitely wrong or missing → failed; else unknown. */
export function domainOutcome(checks: RecordCheck[]): { outcome: Outcome; reason?: string } {
  const required = checks.filter((c) => c.required);
  const bad = required.find((c) => c.result === 'missing' || c.result === 'wrong_value');
  if (bad) return { outcome: 'failed', reason: bad.message };
  const err = required.find((c) => c.result === 'dns_error');
  if (err) return { outcome: 'unknown', reason: err.message };
  return { outcome: 'validated' };
}

/**
 * The domain's next status. An explicit verify settles pending → failed; the periodic check never fails a
 * pending domain (people publish records at their own pace), only promotes it. A DNS error concludes
 * nothing: the status stays and the reason says the check could not be made.
 */
export function nextDomainState(current: Pick<DomainsTable, 'status' | 'statusReason' | 'verifiedAt'>, result: { outcome: Outcome; reason?: string }, now: number, periodic: boolean): Pick<DomainsTable, 'status' | 'statusReason' | 'verifiedAt'> {
  if (result.outcome === 'validated') return { status: 'validated', statusReason: null, verifiedAt: current.status === 'validated' && current.verifiedAt ? current.verifiedAt : now };
  if (result.outcome === 'unknown') {
    const keep = current.status === 'validated' ? 'still validated from the last successful check' : `status stays ${current.status}`;
    return { status: current.status, statusReason: `${result.reason}; ${keep}`, verifiedAt: current.verifiedAt };
  }
  if (current.status === 'validated') return { status: 'failed', statusReason: `lost validation on ${new Date(now).toISOString().slice(0, 16).replace('T', ' ')} UTC: ${result.reason}`, verifiedAt: current.verifiedAt };
  if (periodic && current.status === 'pending') return { status: 'pending', statusReason: `not verified yet: ${result.reason}`, verifiedAt: current.verifiedAt };
  return { status: 'failed', statusReason: result.reason ?? 'verification failed', verifiedAt: current.verifiedAt };
}

export interface DomainVerification {
  status: string;
  statusReason: string | null;
  checks: RecordCheck[];
}

/** Asks DNS for every record of the domain and stores the new status. */
export async function verifyDomain(ctx: AppContext, d: DomainsTable, opts: { periodic?: boolean; dns?: DnsLookup } = {}): Promise<DomainVerification> {
  const dns = opts.dns ?? createDnsLookup(ctx.config);
  const records = dnsRecordsFor(d);
  const checks = await Promise.all(records.map(async (r) => checkRecord(r, await dns.txt(r.name), d.dkimPublicKey)));
  const result = domainOutcome(checks);
  const now = ctx.clock.now();
  const next = nextDomainState(d, result, now, !!opts.periodic);
  await ctx.store.domains.update(d.accountId, d.id, { ...next, lastCheckedAt: now });
  if (next.status !== d.status) ctx.log.info({ event: 'domains.status_changed', domainId: d.id, domain: d.name, from: d.status, to: next.status, reason: next.statusReason }, 'domain status changed');
  metricsOf(ctx).verifications.inc({ outcome: result.outcome });
  return { status: next.status, statusReason: next.statusReason, checks };
}

export interface CnameCheck {
  record: 'tracking_cname';
  type: 'CNAME';
  name: string;
  expected: string;
  ok: boolean;
  found: string[];
  result: string;
  message: string;
}

/** Pure: the CNAME check of a tracking hostname against the default tracking host. */
export function checkCname(hostname: string, target: string, outcome: LookupOutcome<string>): CnameCheck {
  const base = { record: 'tracking_cname' as const, type: 'CNAME' as const, name: hostname, expected: target };
  if (outcome.kind === 'error') return { ...base, ok: false, found: [], result: 'dns_error', message: `could not check the CNAME of ${hostname}: ${outcome.detail}` };
  if (outcome.kind === 'missing') return { ...base, ok: false, found: [], result: 'missing', message: `${hostname} has no CNAME record (${outcome.detail}); add: ${hostname} CNAME ${target}` };
  const ok = outcome.values.includes(target);
  if (ok) return { ...base, ok, found: outcome.values, result: 'ok', message: `${hostname} is a CNAME to ${target}` };
  return { ...base, ok, found: outcome.values, result: 'wrong_value', message: `${hostname} is a CNAME to ${outcome.values.join(', ')}, not to ${target}` };
}

/**
 * The tracking domain's next status. Never verified: ok → verified, otherwise failed. Verified (active or
 * retired): a CNAME that is gone or points elsewhere makes it dangling, which stops it being served (a
 * dangling CNAME is how tracking domains get taken over); only the owner's explicit verify brings a dangling
 * one back. DNS errors conclude nothing.
 */
export function nextTrackingState(current: Pick<TrackingDomainsTable, 'status' | 'statusReason' | 'verifiedAt'>, check: CnameCheck, now: number, periodic: boolean): Pick<TrackingDomainsTable, 'status' | 'statusReason' | 'verifiedAt'> {
  if (check.result === 'dns_error') return { status: current.status, statusReason: `${check.message}; status stays ${current.status}`, verifiedAt: current.verifiedAt };
  if (check.ok) {
    if (periodic && current.status === 'dangling') return current;
    return { status: 'verified', statusReason: null, verifiedAt: current.status === 'verified' && current.verifiedAt ? current.verifiedAt : now };
  }
  if (current.status === 'verified') return { status: 'dangling', statusReason: `no longer served: ${check.message}`, verifiedAt: current.verifiedAt };
  if (current.status === 'dangling') return { status: 'dangling', statusReason: `no longer served: ${check.message}`, verifiedAt: current.verifiedAt };
  if (periodic) return { status: current.status, statusReason: check.message, verifiedAt: current.verifiedAt };
  return { status: 'failed', statusReason: check.message, verifiedAt: current.verifiedAt };
}

/** The host a tracking domain must be a CNAME to: the default tracking host. */
export const cnameTargetOf = (ctx: AppContext) => new URL(ctx.config.publicUrl).hostname.toLowerCase();

export async function verifyTrackingDomain(ctx: AppContext, td: TrackingDomainsTable, opts: { periodic?: boolean; dns?: DnsLookup } = {}): Promise<{ status: string; statusReason: string | null; check: CnameCheck }> {
  const dns = opts.dns ?? createDnsLookup(ctx.config);
  const check = checkCname(td.hostname, cnameTargetOf(ctx), await dns.cname(td.hostname));
  const now = ctx.clock.now();
  const next = nextTrackingState(td, check, now, !!opts.periodic);
  await ctx.store.trackingDomains.update(td.id, { ...next, lastCheckedAt: now });
  if (next.status !== td.status) {
    ctx.log.info({ event: 'tracking_domains.status_changed', trackingDomainId: td.id, hostname: td.hostname, from: td.status, to: next.status, reason: next.statusReason }, 'tracking domain status changed');
    trackingHostsChanged(ctx);
  }
  metricsOf(ctx).cnameChecks.inc({ result: check.result });
  return { status: next.status, statusReason: next.statusReason, check };
}

// Listeners told when the set of served tracking hostnames may have changed (the host policy's cache).
const hostListeners = new WeakMap<AppContext, Set<() => void>>();
export function onTrackingHostsChanged(ctx: AppContext, fn: () => void): () => void {
  let set = hostListeners.get(ctx);
  if (!set) hostListeners.set(ctx, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}
export function trackingHostsChanged(ctx: AppContext): void {
  for (const fn of hostListeners.get(ctx) ?? []) fn();
}

const metricsCache = new WeakMap<object, ReturnType<typeof makeMetrics>>();
function makeMetrics(ctx: AppContext) {
  return {
    verifications: ctx.metrics.counter('mailbeacon_domain_verifications_total', 'Domain DNS verifications by outcome', ['outcome']),
    cnameChecks: ctx.metrics.counter('mailbeacon_tracking_cname_checks_total', 'Tracking-domain CNAME checks by result', ['result']),
    certificates: ctx.metrics.counter('mailbeacon_acme_certificates_total', 'ACME certificate orders by result', ['result']),
  };
}
/** The domain feature's metrics, defined once per metrics registry. */
export function metricsOf(ctx: AppContext) {
  let m = metricsCache.get(ctx.metrics);
  if (!m) metricsCache.set(ctx.metrics, (m = makeMetrics(ctx)));
  return m;
}
