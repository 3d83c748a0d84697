// A sliding-window counter kept in memory: each key remembers the times of its recent hits. Per node only:
// with several nodes behind a balancer an attacker gets the limit once per node (documented in
// docs/dashboard.md); good enough to make password guessing slow, and it needs no store round trip.
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly max: number, private readonly windowMs: number) {}

  private recent(key: string, now: number): number[] {
    const list = this.hits.get(key);
    if (!list) return [];
    const from = now - this.windowMs;
    let i = 0;
    while (i < list.length && list[i] <= from) i++;
    if (i) list.splice(0, i);
    if (!list.length) this.hits.delete(key);
    return list;
  }

  /** Milliseconds until one more hit is allowed, or 0 when it is allowed now. */
  retryAfter(key: string, now: number): number {
    const list = this.recent(key, now);
    return list.length < this.max ? 0 : list[list.length - this.max] + this.windowMs - now;
  }

  hit(key: string, now: number): void {
    const list = this.recent(key, now);
    list.push(now);
    this.hits.set(key, list);
    // Bound memory under a flood of distinct keys: forget the oldest keys past a generous cap.
    if (this.hits.size > 100_000) {
      for (const k of this.hits.keys()) {
        this.hits.delete(k);
        if (this.hits.size <= 90_000) break;
      }
    }
  }

  reset(key: string): void {
    this.hits.delete(key);
  }
}
