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
    expect(windowLimits(state, sizing, 1_000).total).toBe(2);
  });
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
