import { setTimeout as delay } from 'node:timers/promises';
import type { RunOutcome } from './poller-run.js';

export interface RepeatOptions {
  /** Time between the starts of two polls (ms). */
  everyMs: number;
  /** How long after the invocation's start a poll may still begin (ms); 0 = one pass. */
  windowMs: number;
  now: () => number;
  /** Sleeps (default: a timer); a test passes a clock's. */
  sleep?: (ms: number) => Promise<void>;
  /** Called after each poll, e.g. to log it. */
  onRun?: (outcome: RunOutcome) => void;
}

/**
 * Polls a source several times within one invocation: a run, then another every `everyMs` while the
 * invocation's window lasts, so a file is found within about `everyMs` of its appearance rather than
 * within a schedule period, and an idle poll costs one listing request. Each poll is a whole poller
 * run (lease, checkpoint, ledger record), so a crash between polls loses nothing and the ledger
 * shows every poll. Polling stops early when a run did not complete (stopped at its deadline,
 * throttled, failed, or its cursor rejected: the next scheduled invocation continues from the
 * checkpoint) or found the lease held (another invocation polls now). A poll starts only with at least
 * `everyMs` of the function's time ahead of it. Returns the last outcome and how many polls ran.
 */
export async function repeatPolls(
  poll: (context: { getRemainingTimeInMillis(): number }) => Promise<RunOutcome>,
  context: { getRemainingTimeInMillis(): number },
  opts: RepeatOptions,
): Promise<{ last: RunOutcome; polls: number }> {
  // In slices, so an invocation told its time is up (the local stack's Ctrl-C) ends within a slice.
  const sleep =
    opts.sleep ??
    (async (ms: number) => {
      const until = opts.now() + ms;
      while (opts.now() < until && context.getRemainingTimeInMillis() > 0)
        await delay(Math.min(250, until - opts.now()));
    });
  const started = opts.now();
  const endsAt = started + opts.windowMs;
  let polls = 0;
  for (;;) {
    const pollStarted = opts.now();
    const outcome = await poll(context);
    polls += 1;
    opts.onRun?.(outcome);
    if (outcome.kind !== 'ran' || outcome.ledger.ending !== 'completed') return { last: outcome, polls };
    const next = Math.max(pollStarted + opts.everyMs, opts.now());
    // A poll starts only inside the window (one due at its very end belongs to the next invocation,
    // whose first poll comes at that time) and with at least an interval of the function's time ahead.
    if (next >= endsAt || context.getRemainingTimeInMillis() - (next - opts.now()) < opts.everyMs)
      return { last: outcome, polls };
    await sleep(next - opts.now());
    // The invocation may have been told to stop while this one slept (the local stack's Ctrl-C).
    if (context.getRemainingTimeInMillis() <= 0) return { last: outcome, polls };
  }
}
