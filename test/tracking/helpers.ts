// Shared by the tracking tests: seed recipient copies straight into the store, make tokens, and a tiny HTTP
// client that can set the Host header (fetch cannot).
import http from 'node:http';
import type { Store } from '../../src/store/store.ts';
import { newId } from '../../src/domain/ids.ts';
import { TokenSigner, keyringFromSecret } from '../../src/tracking/tokens.ts';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';
export const signer = new TokenSigner(keyringFromSecret(TEST_SECRET, [1]));

export interface SeedOptions {
  accountId?: string;
  domainId?: string | null;
  deliveredAt?: number | null;
}

/** An account (if not given), one message and `n` delivered copies; returns the copy ids. */
export async function seedCopies(store: Store, n: number, opts: SeedOptions = {}): Promise<{ accountId: string; messageId: string; copyIds: string[] }> {
  const db = store.db.kysely;
  const now = Date.now();
  const accountId = opts.accountId ?? newId('acc');
  if (!opts.accountId) await db.insertInto('accounts').values({ id: accountId, name: 'test', sendingMode: 'any', createdAt: now }).execute();
  const messageId = newId('msg');
  await db.insertInto('messages').values({
    id: messageId, accountId, domainId: opts.domainId ?? null, messageIdHeader: `<${messageId}@example.test>`, fromAddress: 'a@example.test',
    subject: 's', source: 'api', size: 1, trackOpens: null, trackClicks: null, raw: Buffer.from('x'), createdAt: now,
  }).execute();
  const copyIds: string[] = [];
  const rows = [];
  for (let i = 0; i < n; i++) {
    const id = newId('cpy');
    copyIds.push(id);
    rows.push({
      id, messageId, accountId, domainId: opts.domainId ?? null, recipient: `r${i}@example.test`, status: 'delivered', attempts: 1,
      nextAttemptAt: now, lockedBy: null, lockedUntil: null, lastError: null, trackingBase: null,
      deliveredAt: opts.deliveredAt === undefined ? now - 3_600_000 : opts.deliveredAt, createdAt: now,
    });
  }
  for (let i = 0; i < rows.length; i += 200) await db.insertInto('messageCopies').values(rows.slice(i, i + 200)).execute();
  return { accountId, messageId, copyIds };
}

export async function seedDomain(store: Store, accountId: string, patch: { ipTruncation?: number; retentionDays?: number } = {}): Promise<string> {
  const id = newId('dom');
  await store.db.kysely.insertInto('domains').values({
    id, accountId, name: `${id}.example.test`, source: 'dashboard', status: 'validated', statusReason: null, verificationToken: 't',
    dkimSelector: 's', dkimPrivateKey: 'k', dkimPublicKey: 'k', openTracking: 1, clickTracking: 1, pixelPlacement: 'bottom',
    ipTruncation: patch.ipTruncation ?? 0, retentionDays: patch.retentionDays ?? 90, createdAt: Date.now(), verifiedAt: null, lastCheckedAt: null,
  }).execute();
  return id;
}

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** GET/HEAD to 127.0.0.1:port with an explicit Host header. */
export function request(port: number, path: string, opts: { host?: string; method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? 'track.test', ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
