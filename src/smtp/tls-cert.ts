// The STARTTLS certificate: MAILBEACON_TLS_CERT/KEY when set, else a self-signed one made at first start and
// kept in the data directory (so clients that pin it keep working across restarts).
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { generate } from 'selfsigned';
import type { Config } from '../config/schema.ts';

export async function loadOrCreateTlsCert(config: Config): Promise<{ key: Buffer; cert: Buffer; selfSigned: boolean }> {
  if (config.tlsCert && config.tlsKey) return { cert: fs.readFileSync(config.tlsCert), key: fs.readFileSync(config.tlsKey), selfSigned: false };
  const dir = path.resolve(config.dataDir);
  const certFile = path.join(dir, 'smtp-selfsigned.crt');
  const keyFile = path.join(dir, 'smtp-selfsigned.key');
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), selfSigned: true };
  const host = os.hostname() || 'mailbeacon.local';
  const pems = await generate([{ name: 'commonName', value: host }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: host }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  } as any);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), selfSigned: true };
}
