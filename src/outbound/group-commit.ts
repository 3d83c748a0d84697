// Group commit: callers submit items and wait; items that arrive while a commit runs are written together
// in the next one. No timer: an idle store commits a lone item at once, a busy one amortizes one
// transaction (one fsync) over everything that queued up meanwhile.
export class GroupCommitter<T> {
  private pending: { item: T; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Resolves once nothing is pending or running. */
  idle(): Promise<void> {
    if (!this.running && !this.pending.length) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          await this.commit(batch.map((b) => b.item));
          for (const b of batch) b.resolve();
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.running = false;
      const w = this.idleWaiters.splice(0);
      for (const r of w) r();
    }
  }
}
