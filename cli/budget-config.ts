import { UsageError } from './exit-codes.js';

/**
 * How the shared request budgets are sized, read from the same variables the Lambdas read (with
 * their defaults), so that the CLI's requests (backfill, chat fan-out) are counted against the same
 * limits and `status` shows use against them.
 */
export interface BudgetRates {
  compliance: number;
  filesApi: number;
  windowMs: number;
  pollerShare: number;
  maxWaitMs: number;
}

export function budgetRatesFromEnv(env: NodeJS.ProcessEnv): BudgetRates {
  return {
    compliance: numberFrom(env, 'COMPLIANCE_REQUESTS_PER_MINUTE', 600, 1, 100_000),
    filesApi: numberFrom(env, 'FILES_API_REQUESTS_PER_MINUTE', 100, 1, 100_000),
    windowMs: numberFrom(env, 'BUDGET_WINDOW_MS', 1_000, 100, 60_000),
    pollerShare: numberFrom(env, 'POLLER_BUDGET_SHARE', 0.3, 0.05, 1),
    maxWaitMs: numberFrom(env, 'BUDGET_MAX_WAIT_MS', 20_000, 0, 600_000),
  };
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name} must be a number from ${min} to ${max}, not "${raw.slice(0, 40)}"`);
  return n;
}
