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

/**
 * Requests the window holding `nowMs` grants in all, and to pollers. A budget is honoured exactly,
 * however small: a window's share of a minute (requestsPerMinute × windowMs / 60 000 × the factor in
 * force) is usually fractional, so each window grants the whole requests its credit reaches
 * (fractional credits): window n grants floor((n + 1) × x) − floor(n × x) of x per window. 30/min in
 * 1 s windows grants 0, 1, 0, 1 …; the Files API's 100/min grants 1, 2, 2 … with pollers at 30 % of
 * it getting 0, 0, 1 … (30/min); and a 429's shrink slows even a 1-request budget. No window is
 * granted "at least one" (which gave pollers every request of a 1-request window and let a budget
 * under 60/min overdraw). Stateless: the credit is a function of the window's index.
 */
export function windowLimits(
  state: BudgetState,
  sizing: BudgetSizing,
  nowMs: number,
): { total: number; poller: number } {
  const n = Math.floor(nowMs / sizing.windowMs);
  const perWindow = ((sizing.requestsPerMinute * sizing.windowMs) / 60_000) * factorAt(state, sizing, nowMs);
  const credit = (x: number) => Math.floor(roundOff((n + 1) * x)) - Math.floor(roundOff(n * x));
  return { total: credit(perWindow), poller: credit(perWindow * sizing.pollerShare) };
}

/** Clears floating-point noise (3 × 0.1 = 0.30000000000000004) before flooring. */
function roundOff(x: number): number {
  return Math.round(x * 1e9) / 1e9;
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
