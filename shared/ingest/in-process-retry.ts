import { describeError, upstreamRequestIdOf } from '../platform/errors.js';
import type { Log } from '../platform/telemetry.js';
import { decideFailure } from './failure-decision.js';
import { sleepFor } from '../platform/abortable-sleep.js';

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
        upstreamRequestId: upstreamRequestIdOf(err),
      });
      await sleep(decision.delayMs, opts.signal);
    }
  }
}
