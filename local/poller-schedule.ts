import type { PollerSource } from '../shared/contracts/discovery-ledger.js';
import type { RunOutcome } from '../shared/discovery/poller-run.js';
import type { Log } from '../shared/platform/telemetry.js';

export interface ScheduledPoller {
  source: PollerSource;
  everyMinutes: number;
  run(context: { getRemainingTimeInMillis(): number }): Promise<RunOutcome>;
}

/**
 * Runs the pollers as their EventBridge schedules do in AWS: once at start, then every
 * `everyMinutes`, each invocation with the deployed function's time limit (an invocation may poll
 * several times: the registry's `pollEverySeconds`). A run still going when
 * the next is due overlaps it, as Lambda would; the poller's lease turns the newcomer away.
 */
export function startPollerSchedule(
  pollers: ScheduledPoller[],
  opts: { timeoutMs: number; log: Log },
): { stop(graceMs?: number): Promise<void> } {
  const running = new Set<Promise<unknown>>();
  // Once stopping, every running invocation is told its time is up, as Lambda's clock would at the end of
  // its limit: the poller stops at its next check and still writes its ledger record and releases its
  // lease, before the stack closes the servers under it; one that polls repeatedly starts no further poll.
  let stopping = false;
  const invoke = (p: ScheduledPoller) => {
    const deadline = Date.now() + opts.timeoutMs;
    const run = p
      .run({ getRemainingTimeInMillis: () => (stopping ? 0 : Math.max(0, deadline - Date.now())) })
      .then((outcome) => {
        // An idle invocation (read to the end, found nothing) is not worth a line every minute.
        if (outcome.kind === 'ran' && (outcome.ledger.records > 0 || outcome.ledger.ending !== 'completed')) {
          const l = outcome.ledger;
          opts.log.info(
            `${p.source} poller: ${l.ending}, ${l.pages} pages, ${l.records} records, ${l.jobsEnqueued} jobs enqueued`,
          );
        }
      })
      .catch((err: unknown) =>
        opts.log.error(`${p.source} poller failed`, { error: err instanceof Error ? err.message : String(err) }),
      )
      .finally(() => running.delete(run));
    running.add(run);
  };
  const timers = pollers.map((p) => {
    invoke(p);
    return setInterval(() => invoke(p), p.everyMinutes * 60_000);
  });
  return {
    /** Stops scheduling; waits up to `graceMs` for running runs (a run cut short resumes at the next start). */
    async stop(graceMs = 10_000) {
      stopping = true;
      for (const t of timers) clearInterval(t);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...running]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    },
  };
}
