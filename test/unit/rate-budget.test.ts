import { describe, expect, it } from 'vitest';
import {
  createBudgetGate,
  BudgetExhaustedError,
  DEFAULT_SIZING,
  factorAt,
  FULL_BUDGET,
  shrunkState,
  windowLimits,
} from '../../shared/discovery/rate-budget.js';
import type { RateBudget } from '../../shared/discovery/rate-budget.js';
import { noCounters } from '../../shared/platform/telemetry.js';

const sizing = { ...DEFAULT_SIZING, requestsPerMinute: 600 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('rate budget sizing', () => {
  it('splits 600 requests/min into 1 s windows of 10, of which pollers may use 3', () => {
    expect(windowLimits(FULL_BUDGET, sizing, 0)).toEqual({ total: 10, poller: 3 });
  });

  it('a 429 pauses for retry-after and shrinks the budget, which then recovers by 10% a minute', () => {
    const after = shrunkState(FULL_BUDGET, sizing, 5_000, 1_000_000);
    expect(after).toEqual({ factor: 0.75, shrunkAtMs: 1_000_000, pausedUntilMs: 1_005_000 });
    expect(windowLimits(after, sizing, 1_000_000).total).toBe(7);
    expect(factorAt(after, sizing, 1_000_000 + 60_000)).toBeCloseTo(0.85);
    expect(factorAt(after, sizing, 1_000_000 + 10 * 60_000)).toBe(1);
  });

  it('repeated 429s shrink the budget down to the floor and no further', () => {
    let state = FULL_BUDGET;
    for (let i = 0; i < 20; i++) state = shrunkState(state, sizing, undefined, 1_000);
    expect(state.factor).toBe(sizing.minFactor);
    // A quarter of 10 a window: 2.5 on average, 150 a minute.
    expect(grantsPerMinute(state, { ...sizing, recoveryPerMinute: 0 }, 1_000)).toEqual({ total: 150, poller: 45 });
  });

  /** What 60 consecutive 1 s windows grant, from `startMs`. */
  function grantsPerMinute(state: typeof FULL_BUDGET, s: typeof sizing, startMs = 0) {
    let total = 0;
    let poller = 0;
    for (let w = 0; w < 60; w++) {
      const limits = windowLimits(state, s, startMs + w * s.windowMs);
      total += limits.total;
      poller += limits.poller;
    }
    return { total, poller };
  }

  it('honours a budget under 60/min exactly (fractional credits), instead of one request every window', () => {
    expect(grantsPerMinute(FULL_BUDGET, { ...sizing, requestsPerMinute: 30 })).toEqual({ total: 30, poller: 9 });
    expect(grantsPerMinute(FULL_BUDGET, { ...sizing, requestsPerMinute: 1 })).toEqual({ total: 1, poller: 0 });
  });

  it(
    'gives pollers their share of the Files API’s 100/min, not every ' +
      'request of a 1-request window, and a 429 slows it',
    () => {
      const files = { ...sizing, requestsPerMinute: 100 };
      expect(grantsPerMinute(FULL_BUDGET, files)).toEqual({ total: 100, poller: 30 });
      const shrunk = shrunkState(FULL_BUDGET, files, 0, 0);
      expect(grantsPerMinute(shrunk, { ...files, recoveryPerMinute: 0 })).toEqual({ total: 75, poller: 22 });
    },
  );
});

describe('budget gate', () => {
  it('waits for the next window, then gives up with BudgetExhaustedError past its longest wait', async () => {
    const refusals: RateBudget = {
      tryTake: async () => ({ granted: false, windowStart: 0, retryInMs: 400 }),
      shrink: async () => {},
    };
    let clock = 0;
    const slept: number[] = [];
    const gate = createBudgetGate({
      budgets: { compliance: refusals },
      cls: 'worker',
      maxWaitMs: 1_000,
      log: quiet,
      counters: noCounters,
      now: () => clock,
      random: () => 0,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    await expect(gate.admit('compliance', new AbortController().signal)).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(slept).toEqual([400, 400]);
  });

  it('does not gate an API that has no budget', async () => {
    const gate = createBudgetGate({ budgets: {}, cls: 'poller', maxWaitMs: 0, log: quiet, counters: noCounters });
    await expect(gate.admit('files_api', new AbortController().signal)).resolves.toBeUndefined();
  });
});
