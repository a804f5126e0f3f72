import { describe, expect, it } from 'vitest';
import { startPollerSchedule } from '../../local/poller-schedule.js';
import type { RunOutcome } from '../../shared/discovery/poller-run.js';
import type { Log } from '../../shared/platform/telemetry.js';

const quietLog: Log = { info() {}, warn() {}, error() {}, debug() {} };

describe('the local poller schedule', () => {
  it('tells a running poller its time is up when the stack stops, so it ends on its own terms', async () => {
    const seen: number[] = [];
    let ended = false;
    const poller = {
      source: 'chats' as const,
      everyMinutes: 1,
      // A poller that keeps reading pages while it has more than its stop margin left, as the real ones do.
      async run(ctx: { getRemainingTimeInMillis(): number }): Promise<RunOutcome> {
        while (ctx.getRemainingTimeInMillis() > 5_000) {
          seen.push(ctx.getRemainingTimeInMillis());
          await new Promise((r) => setTimeout(r, 10));
        }
        ended = true;
        return { kind: 'lease_held' };
      },
    };
    const schedule = startPollerSchedule([poller], { timeoutMs: 60_000, log: quietLog });
    await new Promise((r) => setTimeout(r, 50));
    await schedule.stop(2_000);
    // Without the stop signal the run would go on for its whole 60 s limit and stop() would give up after 2 s.
    expect(ended).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
  });
});
