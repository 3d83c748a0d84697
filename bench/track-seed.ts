// Seeds a Mailbeacon store with N delivered recipient copies and writes one pixel path per copy (signed
// for HOST with SECRET) to OUT, one per line, for bench/track.lua.
// Usage: node --import tsx bench/track-seed.ts DATABASE_URL SECRET HOST N OUT
import fs from 'node:fs';
import { openStore } from '../src/store/store.ts';
import { newId } from '../src/domain/ids.ts';
import { TokenSigner, keyringFromSecret } from '../src/tracking/tokens.ts';

const [url, secret, host, nStr, out] = process.argv.slice(2);
const n = Number(nStr);
const store = await openStore(url);
const db = store.db.kysely;
const now = Date.now();
const accountId = newId('acc');
await db.insertInto('accounts').values({ id: accountId, name: 'bench', sendingMode: 'any', createdAt: now }).execute();
const messageId = newId('msg');
await db.insertInto('messages').values({
  id: messageId, accountId, domainId: null, messageIdHeader: `<${messageId}@bench.test>`, fromAddress: 'bench@bench.test',
  subject: 'bench', source: 'api', size: 1, trackOpens: null, trackClicks: null, raw: Buffer.from('x'), createdAt: now,
}).execute();
const signer = new TokenSigner(keyringFromSecret(secret, [1]));
const paths: string[] = [];
await db.transaction().execute(async (trx) => {
  for (let i = 0; i < n; i += 500) {
    const rows = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      const id = newId('cpy');
      rows.push({
        id, messageId, accountId, domainId: null, recipient: `r${j}@bench.test`, status: 'delivered', attempts: 1, nextAttemptAt: now,
        lockedBy: null, lockedUntil: null, lastError: null, trackingBase: null, deliveredAt: now - 3_600_000, createdAt: now,
      });
      paths.push(`/o/${signer.sign({ kind: 'open', copyId: id }, host)}.gif`);
    }
    await trx.insertInto('messageCopies').values(rows).execute();
  }
});
fs.writeFileSync(out, paths.join('\n') + '\n');
await store.close();
