// The published retry schedule. The first attempt is made as soon as the event is seen; after a failed
// attempt the next one waits RETRY_DELAYS_MS[failures - 1]: immediately, 30 s, 2 min, 10 min, 1 h, 4 h,
// 12 h. After the last retry fails the delivery is dead-lettered (kept, replayable).
export const RETRY_DELAYS_MS = [0, 30_000, 120_000, 600_000, 3_600_000, 14_400_000, 43_200_000] as const;

/** Attempts a delivery gets in all: the first plus one per retry delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** When to try again after `failedAttempts` failures ending at `now`; undefined = dead-letter it. */
export function nextAttemptAt(failedAttempts: number, now: number): number | undefined {
  if (failedAttempts < 1) return now;
  const delay = RETRY_DELAYS_MS[failedAttempts - 1];
  return delay === undefined ? undefined : now + delay;
}

export type AttemptOutcome = 'success' | 'retry' | 'dead' | 'gone';

/** What an HTTP result means: 2xx success, 410 disables the webhook, anything else (or no answer) retries. */
export function classifyResult(statusCode: number | undefined, failedAttemptsBefore: number, now: number): { outcome: AttemptOutcome; nextAt?: number } {
  if (statusCode !== undefined && statusCode >= 200 && statusCode < 300) return { outcome: 'success' };
  if (statusCode === 410) return { outcome: 'gone' };
  const nextAt = nextAttemptAt(failedAttemptsBefore + 1, now);
  return nextAt === undefined ? { outcome: 'dead' } : { outcome: 'retry', nextAt };
}
