// What happens after a failed attempt (RFC 5321 §4.5.4.1): temporary failures are retried on the
// configured schedule until the give-up age, permanent ones bounce at once.
export interface RetryDecision {
  status: 'deferred' | 'bounced';
  nextAttemptAt: number;
  reason?: string;
}

/**
 * `attempts` is the number of attempts made so far including this one (1 after the first).
 * scheduleSeconds[i] is the wait before retry i+1; the last value repeats.
 */
export function afterTemporaryFailure(opts: { now: number; acceptedAt: number; attempts: number; scheduleSeconds: number[]; giveUpAfterSeconds: number }): RetryDecision {
  const deadline = opts.acceptedAt + opts.giveUpAfterSeconds * 1000;
  if (opts.now >= deadline) return { status: 'bounced', nextAttemptAt: opts.now, reason: `gave up after ${opts.giveUpAfterSeconds} seconds of temporary failures` };
  const s = opts.scheduleSeconds;
  const wait = s.length ? s[Math.min(opts.attempts - 1, s.length - 1)] : 60;
  // One last try exactly at the deadline rather than never.
  return { status: 'deferred', nextAttemptAt: Math.min(opts.now + wait * 1000, deadline) };
}
