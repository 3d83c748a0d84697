// The signing secret: MAILBEACON_SECRET when set, otherwise generated once and kept in the data directory
// (mode 0600) so tokens in mail already sent keep verifying after a restart. Never logged.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, hkdfSync } from 'node:crypto';

export function loadOrCreateSecret(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  const file = path.join(dataDir, 'secret');
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
  } catch (e: any) {
    if (e.code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(32).toString('base64url');
  try {
    fs.writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
    return Buffer.from(value, 'utf8');
  } catch (e: any) {
    // Another process created it first: use theirs.
    if (e.code === 'EEXIST') return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
    throw e;
  }
}

/** A key for one purpose ("tokens:v1", "sessions", ...) derived from the master secret. */
export function deriveKey(secret: Buffer, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `mailbeacon:${purpose}`, length));
}
