/**
 * The one backoff formula of the project: capped exponential, `baseMs × 2^retryIndex` up to `capMs`,
 * with a jitter that takes off at most `jitter` of it (so waiting callers do not all return at once,
 * and the wait never exceeds the cap). `retryIndex` counts from 0 for the first retry.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Fraction (0-1) of the wait that jitter may take off; 0 = no jitter. */
  jitter: number;
}

export function backoffMs(policy: BackoffPolicy, retryIndex: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(60, retryIndex));
  const base = Math.min(policy.baseMs * 2 ** exponent, policy.capMs);
  return Math.round(base * (1 - random() * policy.jitter));
}

/** The discovery retry list's waits: 1 min after the first failure, doubling up to 6 h. */
export const RETRY_LIST_BACKOFF: BackoffPolicy = { baseMs: 60_000, capMs: 6 * 3_600_000, jitter: 0.2 };
