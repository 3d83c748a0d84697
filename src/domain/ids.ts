// Time-sortable ids (48-bit millisecond time + 80 random bits, Crockford base32, 26 chars, like ULID):
// ids from several nodes never collide and sort by creation, which keeps cursor paging stable.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

// Random bytes are taken from a pool filled 4 KB at a time: one CSPRNG call per ~400 ids instead of one per
// id (a message makes three or more ids, and randomBytes(10) was visible in the SMTP path's CPU profile).
const POOL = Buffer.alloc(4096);
let poolPos = POOL.length;
function random10(): Buffer {
  if (poolPos + 10 > POOL.length) {
    randomFillSync(POOL);
    poolPos = 0;
  }
  poolPos += 10;
  return POOL.subarray(poolPos - 10, poolPos);
}

export function newId(prefix = '', now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = random10();
  let bits = 0;
  let acc = 0;
  let rand = '';
  for (const b of rnd) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return prefix + time + rand;
}
