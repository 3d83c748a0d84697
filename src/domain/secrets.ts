// Password and key hashing. Passwords use scrypt with a per-hash salt (slow on purpose); API keys and
// SMTP passwords we generate are 160+ random bits, so a fast SHA-256 is enough for them and lets the hot
// path look a key up by its hash.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const SCRYPT: ScryptOptions = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function scryptAsync(password: string, salt: Buffer, len: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, len, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, expected.length, { N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]), maxmem: SCRYPT.maxmem }, (e, k) => (e ? reject(e) : resolve(k))),
  );
  return timingSafeEqual(key, expected);
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A generated password (SMTP credentials, the demo login): base64url, but never starting with "-" or "_".
 * A leading "-" makes command-line tools read the password as an option (swaks --auth-password -x… failed
 * that way in a test run), and people paste these into such tools.
 */
export function randomPassword(bytes = 24): string {
  const t = randomToken(bytes);
  return /^[-_]/.test(t) ? `p${t.slice(1)}` : t;
}

/** An API key: `mb_` + 32 random bytes. Only its hash is stored. */
export function newApiKey(): string {
  return `mb_${randomToken(32)}`;
}
