// HMAC-SHA256 (RFC 2104, FIPS 180-4) for tracking tokens (verified on the pixel's hot path, signed six times
// for a typical message in the rewriter), in plain JS over preallocated typed arrays. Why not node:crypto: on Node 20 every createHmac() builds a native object with
// a weak-callback destructor and fetches the digest from OpenSSL 3 under a lock; measured on the tracking
// server that was ~7 µs of CPU per pixel (GC and finalizers included), about half of a bare Node GIF server's
// whole cost per request. Here the key's inner and outer pad blocks are compressed once, so a token of up
// to ~50 bytes costs three compressions and allocates nothing (the rewriter's profile: signing went from ~20 %
// to ~8 % of a 2 KB message). test/foundation/tokens.test.ts checks it against createHmac over random keys,
// hosts and lengths, and a signed token's tag against createHmac.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);

/** One SHA-256 compression of the 64 bytes of `block` at `off` into `h`. */
function compress(h: Int32Array, block: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    W[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + k) | 0;
}

const state = new Int32Array(8);
const block = new Uint8Array(64);
const outerBlock = new Uint8Array(64);

/** A key with its pad blocks compressed once. */
export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);

  /** `key` at most 64 bytes (longer keys are hashed first by RFC 2104; tracking keys are 32). */
  constructor(key: Uint8Array) {
    if (key.length > 64) throw new Error('HMAC keys longer than 64 bytes are not supported here');
    const pad = new Uint8Array(64);
    for (const [h, x] of [[this.inner, 0x36], [this.outer, 0x5c]] as const) {
      pad.fill(x);
      for (let i = 0; i < key.length; i++) pad[i] = key[i] ^ x;
      h.set(IV);
      compress(h, pad, 0);
    }
  }

  /**
   * Whether the first `tag.length` (≤ 32) bytes of HMAC(key, a ‖ b) equal `tag`, compared without an early
   * exit. `b` is the range [bStart, bEnd) of its array.
   */
  verify(a: Uint8Array, b: Uint8Array, bStart: number, bEnd: number, tag: Uint8Array, tagStart: number, tagLen: number): boolean {
    if (tagLen < 1 || tagLen > 32 || tagStart + tagLen > tag.length) return false;
    this.compute(a, b, bStart, bEnd);
    let diff = 0;
    for (let i = 0; i < tagLen; i++) diff |= outerBlock[i] ^ tag[tagStart + i];
    return diff === 0;
  }

  /** Writes the first `len` (≤ 32) bytes of HMAC(key, a ‖ b[bStart..bEnd)) to `out` at `outStart`. */
  tagInto(a: Uint8Array, b: Uint8Array, bStart: number, bEnd: number, out: Uint8Array, outStart: number, len: number): void {
    if (len < 1 || len > 32 || outStart + len > out.length) throw new RangeError('tag length out of range');
    this.compute(a, b, bStart, bEnd);
    for (let i = 0; i < len; i++) out[outStart + i] = outerBlock[i];
  }

  /** HMAC(key, a ‖ b[bStart..bEnd)), 32 bytes. */
  digest(a: Uint8Array, b: Uint8Array, bStart = 0, bEnd = b.length): Buffer {
    this.compute(a, b, bStart, bEnd);
    return Buffer.from(outerBlock.subarray(0, 32));
  }

  /** Leaves the digest in the first 32 bytes of outerBlock. */
  private compute(a: Uint8Array, b: Uint8Array, bStart: number, bEnd: number): void {
    state.set(this.inner);
    let n = 0;
    const total = 64 + a.length + (bEnd - bStart);
    for (let i = 0; i < a.length; i++) {
      block[n++] = a[i];
      if (n === 64) {
        compress(state, block, 0);
        n = 0;
      }
    }
    for (let i = bStart; i < bEnd; i++) {
      block[n++] = b[i];
      if (n === 64) {
        compress(state, block, 0);
        n = 0;
      }
    }
    block[n++] = 0x80;
    if (n > 56) {
      block.fill(0, n);
      compress(state, block, 0);
      n = 0;
    }
    block.fill(0, n, 56);
    writeLength(block, total);
    compress(state, block, 0);
    // Outer: the 32-byte inner digest, padded, after the outer pad block.
    stateBytes(outerBlock);
    outerBlock[32] = 0x80;
    outerBlock.fill(0, 33, 56);
    writeLength(outerBlock, 64 + 32);
    state.set(this.outer);
    compress(state, outerBlock, 0);
    stateBytes(outerBlock);
  }
}

/** The hash state as 32 big-endian bytes at the start of `out`. */
function stateBytes(out: Uint8Array) {
  for (let i = 0; i < 8; i++) {
    const v = state[i];
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
}

/** The message length in bits, big-endian, in the last 8 bytes of the block. */
function writeLength(b: Uint8Array, bytes: number) {
  const hi = Math.floor(bytes / 0x20000000);
  const lo = (bytes * 8) >>> 0;
  b[56] = hi >>> 24;
  b[57] = hi >>> 16;
  b[58] = hi >>> 8;
  b[59] = hi;
  b[60] = lo >>> 24;
  b[61] = lo >>> 16;
  b[62] = lo >>> 8;
  b[63] = lo;
}
