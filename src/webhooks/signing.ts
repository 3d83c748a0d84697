// Webhook signatures and secrets. The signature is hex HMAC-SHA256 of `${timestamp}.${body}` keyed with the
// webhook's secret; the secret is stored AES-256-GCM encrypted with a key derived from the master secret
// (it must be usable to sign, so it cannot be hashed).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../config/master-secret.ts';

/** A new webhook secret: `whsec_` + 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function signPayload(secret: string, timestamp: number | string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Constant-time check of a signature header against the body, plus a freshness window in seconds. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signPayload(secret, timestamp, body), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Encrypts a webhook secret for storage: `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export function sealSecret(master: Buffer, secret: string): string {
  const key = deriveKey(master, 'webhooks:secret:v1');
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export function openSecret(master: Buffer, sealed: string): string {
  const [v, iv, tag, ct] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unknown webhook secret format');
  const d = createDecipheriv('aes-256-gcm', deriveKey(master, 'webhooks:secret:v1'), Buffer.from(iv, 'base64url'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
}
