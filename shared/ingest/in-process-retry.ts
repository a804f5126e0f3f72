import { describeError } from '../platform/errors.js';
import type { Log } from '../platform/telemetry.js';
import { decideFailure } from './failure-decision.js';

export interface InProcessRetryOptions {
  signal: AbortSignal;
  receiveCount: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  log: Log;
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  random?: (() => number) | undefined;
}

/**
 * Runs `attempt` again while `decideFailure` says `retry-in-process` (connection failures, timeouts,
 * broken bodies and retryable statuses, attempts left, deadline not passed), waiting the delay it
 * names. Any other failure is thrown for the caller to act on.
 */
export async function withInProcessRetries<T>(attempt: () => Promise<T>, opts: InProcessRetryOptions): Promise<T> {
  const sleep = opts.sleep ?? sleepFor;
  for (let made = 1; ; made++) {
    try {
      return await attempt();
    } catch (err) {
      const decision = decideFailure(err, {
        receiveCount: opts.receiveCount,
        inProcess: { attempt: made, maxAttempts: opts.maxAttempts, aborted: opts.signal.aborted, random: opts.random },
      });
      if (decision.kind !== 'retry-in-process') throw err;
      opts.log.warn('upstream attempt failed; retrying', {
        attempt: made,
        decision: decision.kind,
        delayMs: decision.delayMs,
        error: describeError(err),
      });
      await sleep(decision.delayMs, opts.signal);
    }
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
