import { describe, expect, it } from 'vitest';
import type { LedgerRecord, RunEnding } from '../../shared/contracts/discovery-ledger.js';
import type { RunOutcome } from '../../shared/discovery/poller-run.js';
import { repeatPolls } from '../../shared/discovery/repeat-polls.js';

/** A manual clock: sleeping advances it; each poll takes `pollMs`. */
function harness(endings: (RunEnding | 'lease_held')[], opts: { pollMs?: number; functionMs?: number } = {}) {
  let now = 1_000_000;
  const started = now;
  const pollStarts: number[] = [];
  const functionMs = opts.functionMs ?? 300_000;
  let stopped = false;
  const context = { getRemainingTimeInMillis: () => (stopped ? 0 : Math.max(0, started + functionMs - now)) };
  const poll = async (): Promise<RunOutcome> => {
    pollStarts.push(now - started);
    const ending = endings[Math.min(pollStarts.length - 1, endings.length - 1)] ?? 'completed';
    now += opts.pollMs ?? 500;
    if (ending === 'lease_held') return { kind: 'lease_held' };
    return { kind: 'ran', ledger: { ending } as LedgerRecord };
  };
  return {
    poll,
    context,
    pollStarts,
    stop: () => (stopped = true),
    opts: {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    },
  };
}

describe('repeated polls within one invocation', () => {
  it('polls every interval while the window lasts: 15 s apart within 55 s is 4 polls', async () => {
    const h = harness(['completed']);
    const result = await repeatPolls(h.poll, h.context, { ...h.opts, everyMs: 15_000, windowMs: 55_000 });
    expect(h.pollStarts).toEqual([0, 15_000, 30_000, 45_000]);
    expect(result.polls).toBe(4);
  });

  it('starts no poll due exactly at the window end: 1 s apart within 3 s is 3 polls, however fast each', async () => {
    // Instant polls land each next one on the second exactly; the one due at 3 s is the next window's.
    const h = harness(['completed'], { pollMs: 0 });
    const result = await repeatPolls(h.poll, h.context, { ...h.opts, everyMs: 1_000, windowMs: 3_000 });
    expect(h.pollStarts).toEqual([0, 1_000, 2_000]);
    expect(result.polls).toBe(3);
  });

  it('polls once when the window is 0 (a one-pass poller)', async () => {
    const h = harness(['completed']);
    await repeatPolls(h.poll, h.context, { ...h.opts, everyMs: 15_000, windowMs: 0 });
    expect(h.pollStarts).toEqual([0]);
  });

  it('starts the next poll at once when a poll took longer than the interval (a backlog)', async () => {
    const h = harness(['completed'], { pollMs: 20_000 });
    await repeatPolls(h.poll, h.context, { ...h.opts, everyMs: 15_000, windowMs: 55_000 });
    expect(h.pollStarts).toEqual([0, 20_000, 40_000]);
  });

  it.each(['deadline', 'throttled', 'failed', 'cursor_rejected', 'lease_held'] as const)(
    'stops after a poll that ended %s: the next scheduled invocation continues',
    async (ending) => {
      const h = harness(['completed', ending, 'completed']);
      const result = await repeatPolls(h.poll, h.context, { ...h.opts, everyMs: 15_000, windowMs: 55_000 });
      expect(h.pollStarts).toEqual([0, 15_000]);
      expect(result.last.kind === 'ran' ? result.last.ledger.ending : result.last.kind).toBe(ending);
    },
  );

  it('starts no poll with less than an interval of the function left (29 s function: 14 s left at 15 s)', async () => {
    const h = harness(['completed'], { functionMs: 29_000 });
    await repeatPolls(h.poll, h.context, { ...h.opts, everyMs: 15_000, windowMs: 55_000 });
    expect(h.pollStarts).toEqual([0]);
  });

  it('starts no further poll once told to stop while it slept (the local stack shutting down)', async () => {
    const h = harness(['completed']);
    const sleep = async (ms: number) => {
      await h.opts.sleep(ms);
      h.stop();
    };
    await repeatPolls(h.poll, h.context, { ...h.opts, sleep, everyMs: 15_000, windowMs: 55_000 });
    expect(h.pollStarts).toEqual([0]);
  });

  it('reports every poll to onRun', async () => {
    const h = harness(['completed']);
    const seen: string[] = [];
    await repeatPolls(h.poll, h.context, {
      ...h.opts,
      everyMs: 30_000,
      windowMs: 55_000,
      onRun: (o) => seen.push(o.kind),
    });
    expect(seen).toEqual(['ran', 'ran']);
  });
});
