// Group commit: callers submit items and wait; items submitted in the same turn of the event loop, and
// items that arrive while a commit runs, are written together in one transaction. No timer: the first
// item of a batch waits one setImmediate (so the other sessions' DATA ends or deliveries completed in the
// same I/O phase join it), never more; a busy store amortizes one transaction over everything that queued
// up meanwhile. The SQLite writes are synchronous, so without that one turn every item was committed
// alone (one transaction per message under 20 concurrent sessions).
export class GroupCommitter<T> {
  private pending: { item: T; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Items per commit, for metrics and tests. */
  lastBatchSizes: number[] = [];

  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  /** Resolves once nothing is pending or running. */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled && !this.pending.length) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, this.maxBatch);
        if (this.lastBatchSizes.push(batch.length) > 64) this.lastBatchSizes.shift();
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
