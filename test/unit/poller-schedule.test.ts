import { describe, expect, it } from 'vitest';
import { startPollerSchedule } from '../../local/poller-schedule.js';
import type { RunOutcome } from '../../shared/discovery/poller-run.js';
import { recordingTelemetry } from './fakes/recording-telemetry.js';

describe('startPollerSchedule', () => {
  it('asks running runs to stop when it stops, and waits for them to end', async () => {
    const { log } = recordingTelemetry();
    const seen: { remainingMs: number; stoppedEarly: boolean }[] = [];
    const schedule = startPollerSchedule(
      [
        {
          source: 'chats',
          everyMinutes: 60,
          // A run that would go on for its whole time limit unless told to stop (as a long backlog does).
          async run(context, stop): Promise<RunOutcome> {
            const remainingMs = context.getRemainingTimeInMillis();
            while (!stop.aborted) await new Promise((r) => setTimeout(r, 5));
            seen.push({ remainingMs, stoppedEarly: true });
            return { kind: 'lease_held' };
          },
        },
      ],
      { timeoutMs: 300_000, log },
    );

    const started = Date.now();
    await schedule.stop();

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.remainingMs).toBeGreaterThan(299_000);
  });
});
