// Certificates for custom tracking domains from an ACME CA (Let's Encrypt; pebble in tests) by HTTP-01.
// The challenge answer is kept in the store (kv) so whichever node the CA's request reaches can answer
// it; certificates live on their tracking_domains row so every tracking node's HTTPS listener finds them.
import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import acme from 'acme-client';
import type { AppContext } from '../app-context.ts';
import type { TrackingDomainsTable } from '../store/schema.ts';
import { metricsOf, trackingHostsChanged } from './verification.ts';

const DAY = 24 * 60 * 60 * 1000;
/** Renew this long before expiry (Let's Encrypt's own advice for 90-day certificates). */
export const RENEW_BEFORE_MS = 30 * DAY;
/** A failed order is retried after this long; an 'issuing' claim older than this is taken over. */
export const RETRY_AFTER_MS = 10 * 60 * 1000;

export const acmeEnabled = (ctx: AppContext) => !!ctx.config.acmeDirectory;
export const challengeKey = (token: string) => `acme-challenge:${token}`;

let caConfigured: string | undefined;
/** acme-client talks through one shared axios instance; trust the extra CA (pebble's) there. */
function configureCa(ctx: AppContext) {
  const file = ctx.config.acmeCaFile;
  if (!file || caConfigured === file) return;
  const extra = fs.readFileSync(file, 'utf8');
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, extra] });
  caConfigured = file;
}

async function accountKey(ctx: AppContext): Promise<string> {
  const k = await ctx.store.kv.get('acme:account-key');
  if (k) return k;
  const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
  await ctx.store.kv.set('acme:account-key', key);
  // Two nodes racing here each write a key; both are valid ACME accounts, the last one wins.
  return (await ctx.store.kv.get('acme:account-key')) ?? key;
}

/** The expiry time of the first certificate in a PEM chain. */
export function certificateExpiry(pem: string): number {
  return new Date(new X509Certificate(pem).validTo).getTime();
}

/**
 * Orders a certificate for a verified tracking domain and stores it. Only one node works on a row at a
 * time (claimIssuance); returns the row's resulting cert status.
 */
export async function issueCertificate(ctx: AppContext, td: TrackingDomainsTable): Promise<string> {
  if (!acmeEnabled(ctx)) return 'none';
  const now = ctx.clock.now();
  if (!(await ctx.store.trackingDomains.claimIssuance(td.id, now, now - RETRY_AFTER_MS))) return 'issuing';
  const log = ctx.log.child({ trackingDomainId: td.id, hostname: td.hostname });
  try {
    configureCa(ctx);
    const client = new acme.Client({ directoryUrl: ctx.config.acmeDirectory!, accountKey: await accountKey(ctx), backoffMin: 300, backoffMax: 5000, backoffAttempts: 12 });
    const [key, csr] = await acme.crypto.createCsr({ commonName: td.hostname, altNames: [td.hostname] });
    const cert = await client.auto({
      csr,
      email: ctx.config.acmeEmail,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The CA checks for itself; a self-check would go through this host's resolver, not the world's.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        await ctx.store.kv.set(challengeKey(challenge.token), keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        await ctx.store.kv.set(challengeKey(challenge.token), '');
      },
    });
    const expires = certificateExpiry(cert);
    await ctx.store.trackingDomains.update(td.id, { certPem: cert, keyPem: key.toString(), certExpiresAt: expires, certStatus: 'valid', certError: null, https: 1 });
    log.info({ event: 'acme.issued', expiresAt: new Date(expires).toISOString() }, 'certificate issued');
    metricsOf(ctx).certificates.inc({ result: 'issued' });
    trackingHostsChanged(ctx);
    return 'valid';
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A renewal that fails keeps serving the current certificate until it expires.
    const stillValid = !!td.certPem && (td.certExpiresAt ?? 0) > ctx.clock.now();
    await ctx.store.trackingDomains.update(td.id, { certStatus: stillValid ? 'valid' : 'failed', certError: `certificate order failed: ${message.slice(0, 500)}`, certAttemptAt: ctx.clock.now() });
    log.warn({ event: 'acme.failed', err: message }, 'certificate order failed');
    metricsOf(ctx).certificates.inc({ result: 'failed' });
    return stillValid ? 'valid' : 'failed';
  }
}

/** Starts an order in the background (after a tracking domain is verified); errors end up on the row. */
export function requestCertificate(ctx: AppContext, td: TrackingDomainsTable): void {
  if (!acmeEnabled(ctx)) return;
  issueCertificate(ctx, td).catch((err) => ctx.log.error({ event: 'acme.error', err }, 'certificate order crashed'));
}

/** Orders every certificate that is missing, failed a while ago, or due for renewal (30 days before expiry). */
export async function renewDueCertificates(ctx: AppContext): Promise<number> {
  if (!acmeEnabled(ctx)) return 0;
  const now = ctx.clock.now();
  const due = await ctx.store.trackingDomains.needingCertificate(now + RENEW_BEFORE_MS, now - RETRY_AFTER_MS);
  for (const td of due) await issueCertificate(ctx, td);
  return due.length;
}
