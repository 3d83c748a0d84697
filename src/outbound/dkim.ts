// DKIM signing of the final bytes (after rewriting), relaxed/relaxed, rsa-sha256, never with l= (a body
// length limit lets anyone append content under a valid signature).
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { normalizeCrlf } from './message-headers.ts';

/** Headers signed when present (RFC 6376 §5.4.1 recommendations; From is always signed). */
export const SIGNED_HEADERS = ['from', 'sender', 'reply-to', 'subject', 'date', 'message-id', 'to', 'cc', 'mime-version', 'content-type', 'content-transfer-encoding', 'content-id', 'content-description', 'resent-date', 'resent-from', 'resent-sender', 'resent-to', 'resent-cc', 'resent-message-id', 'in-reply-to', 'references', 'list-id', 'list-help', 'list-unsubscribe', 'list-unsubscribe-post', 'list-subscribe', 'list-post', 'list-owner', 'list-archive'];

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
}

/** Returns the message with CRLF line endings and a DKIM-Signature header in front. */
export async function signMessage(raw: Buffer, key: DkimKey, now: number): Promise<Buffer> {
  const bytes = normalizeCrlf(raw);
  // mailauth reads the keys from signatureData (the top-level fields in its .d.ts are not used).
  const res = await dkimSign(bytes, {
    canonicalization: 'relaxed/relaxed',
    headerList: SIGNED_HEADERS,
    signTime: new Date(now),
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey, canonicalization: 'relaxed/relaxed', algorithm: 'rsa-sha256' }],
  } as any);
  if (res.errors?.length) throw new Error(`DKIM signing failed: ${res.errors.map((e: any) => e.message ?? String(e)).join('; ')}`);
  const sig = String(res.signatures ?? '').replace(/^(\r\n)+/, '');
  if (!/^DKIM-Signature:/i.test(sig)) throw new Error('DKIM signing produced no signature');
  return Buffer.concat([Buffer.from(sig.endsWith('\r\n') ? sig : sig.replace(/\r?\n?$/, '\r\n'), 'latin1'), bytes]);
}
