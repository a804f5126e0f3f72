import { DISCOVERY_METRIC } from '../contracts/metric-names.js';
import { BudgetExhaustedError } from '../platform/errors.js';
import type { Counters, Log } from '../platform/telemetry.js';
import type { RequestGate, UpstreamApi } from '../upstream/request-gate.js';
import { sleepFor } from '../platform/abortable-sleep.js';

/**
 * Who draws from a budget. Workers may use a whole window; pollers at most their share of it, so a
 * backlog of discovery never starves the workers that turn discovered files into archived ones.
 */
export type BudgetClass = 'worker' | 'poller';

export interface TakeResult {
  granted: boolean;
  /** The window the grant (or refusal) belongs to, epoch ms. */
  windowStart: number;
  /** When not granted: how long until the next window (or the end of a pause) begins. */
  retryInMs: number;
}

/** A shared request budget (one per upstream limit); see shared/index/dynamodb-rate-budget.ts. */
export interface RateBudget {
  tryTake(cls: BudgetClass, nowMs: number): Promise<TakeResult>;
  /** A 429 arrived: pause everyone for `retryAfterMs` and shrink the budget for a while. */
  shrink(retryAfterMs: number | undefined, nowMs: number): Promise<void>;
}

/** How a budget is sized, from configuration. */
export interface BudgetSizing {
  requestsPerMinute: number;
  /** Length of one window; each window grants requestsPerMinute × windowMs / 60 000 requests. */
  windowMs: number;
  /** Share of a window pollers may use (0 < share <= 1). */
  pollerShare: number;
  /** A 429 multiplies the budget by this factor (not below `minFactor`)... */
  shrinkFactor: number;
  minFactor: number;
  /** ...and it recovers by this fraction of the configured budget per minute without 429s. */
  recoveryPerMinute: number;
}

export const DEFAULT_SIZING: Omit<BudgetSizing, 'requestsPerMinute'> = {
  windowMs: 1_000,
  pollerShare: 0.3,
  shrinkFactor: 0.75,
  minFactor: 0.25,
  recoveryPerMinute: 0.1,
};

/** The stored shrink: the factor right after the last 429, when that was, and the pause it asked for. */
export interface BudgetState {
  factor: number;
  shrunkAtMs: number;
  pausedUntilMs: number;
}

export const FULL_BUDGET: BudgetState = { factor: 1, shrunkAtMs: 0, pausedUntilMs: 0 };

/** The factor in force at `nowMs`: the shrunk factor, recovering linearly towards 1. */
export function factorAt(state: BudgetState, sizing: BudgetSizing, nowMs: number): number {
  const recovered = ((nowMs - state.shrunkAtMs) / 60_000) * sizing.recoveryPerMinute;
  return Math.min(1, Math.max(sizing.minFactor, state.factor + Math.max(0, recovered)));
}

/** Requests one window grants in all, and to pollers, at `nowMs`. Never zero. */
export function windowLimits(
  state: BudgetState,
  sizing: BudgetSizing,
  nowMs: number,
): { total: number; poller: number } {
  const total = Math.max(
    1,
    Math.floor(((sizing.requestsPerMinute * sizing.windowMs) / 60_000) * factorAt(state, sizing, nowMs)),
  );
  return { total, poller: Math.max(1, Math.floor(total * sizing.pollerShare)) };
}

/** The state after a 429 at `nowMs`. */
export function shrunkState(
  state: BudgetState,
  sizing: BudgetSizing,
  retryAfterMs: number | undefined,
  nowMs: number,
): BudgetState {
  const pause = retryAfterMs ?? sizing.windowMs;
  return {
    factor: Math.max(sizing.minFactor, factorAt(state, sizing, nowMs) * sizing.shrinkFactor),
    shrunkAtMs: nowMs,
    pausedUntilMs: Math.max(state.pausedUntilMs, nowMs + pause),
  };
}

// Lives with the other errors (shared/platform/errors.ts): the ingest failure model defers on it.
export { BudgetExhaustedError };

export interface GateOptions {
  budgets: Partial<Record<UpstreamApi, RateBudget>>;
  cls: BudgetClass;
  /** The longest one request may wait for budget before BudgetExhaustedError. */
  maxWaitMs: number;
  log: Log;
  counters: Counters;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * A request gate drawing from shared budgets: waits for a grant (sleeping until the next window,
 * with jitter so waiting callers do not all return at once), up to `maxWaitMs`. An API without a
 * budget is not gated.
 */
export function createBudgetGate(opts: GateOptions): RequestGate {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? sleepFor;
  const random = opts.random ?? Math.random;
  return {
    async admit(api, signal) {
      const budget = opts.budgets[api];
      if (!budget) return;
      const started = now();
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const take = await budget.tryTake(opts.cls, now());
        if (take.granted) return;
        const waited = now() - started;
        if (waited + take.retryInMs > opts.maxWaitMs) {
          opts.counters.record(DISCOVERY_METRIC.budgetExhausted, 1, 'Count', { name: 'api', value: api });
          throw new BudgetExhaustedError(api, take.retryInMs);
        }
        await sleep(take.retryInMs + Math.floor(random() * 50), signal);
      }
    },
    async throttled(api, retryAfterMs) {
      const budget = opts.budgets[api];
      if (!budget) return;
      try {
        await budget.shrink(retryAfterMs, now());
        opts.log.warn('upstream answered 429: budget paused and shrunk', { api, retryAfterMs });
      } catch (err) {
        opts.log.warn('could not record the 429 on the shared budget', {
          api,
          error: err instanceof Error ? err.name : 'unknown',
        });
      }
    },
  };
}
