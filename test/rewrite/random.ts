// A small seeded PRNG so the property and fuzz tests are reproducible (the seed is printed on failure).
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** `buf` cut at random places; sizes between 1 and `max`. */
export function randomChunks(buf: Buffer, rand: () => number, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = int(rand, 1, max);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}
