// Group commit: items are buffered for up to `flushMs`, then written together by one call of `write` (one
// transaction); each add() settles only after that write has committed (or failed). While a write runs, new
// items gather for the next one, so under load batches grow instead of queueing transactions.
interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<T, R> {
  private pending: Pending<T, R>[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly flushMs: number,
    private readonly maxBatch = 2000,
    private readonly onBatch?: (size: number, ms: number, ok: boolean) => void,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.timer) this.timer = this.flushMs > 0 ? setTimeout(() => this.flush(), this.flushMs) : setImmediate(() => this.flush());
    });
  }

  private clearTimer() {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private flush(): void {
    this.clearTimer();
    if (this.writing) return;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    const started = performance.now();
    this.writing = (async () => {
      try {
        const results = await this.write(batch.map((p) => p.item));
        this.onBatch?.(batch.length, performance.now() - started, true);
        batch.forEach((p, i) => p.resolve(results[i]));
      } catch (e) {
        this.onBatch?.(batch.length, performance.now() - started, false);
        for (const p of batch) p.reject(e);
      } finally {
        this.writing = undefined;
        // Whatever arrived during the write has waited long enough: write it now.
        if (this.pending.length) this.flush();
      }
    })();
  }

  /** Writes whatever is buffered and waits for every write to finish. */
  async close(): Promise<void> {
    for (;;) {
      if (this.writing) await this.writing;
      else if (this.pending.length) this.flush();
      else return;
    }
  }
}
