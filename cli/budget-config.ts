import { loadConfig, WorkerBudgetConfigSchema } from '../shared/contracts/lambda-environment.js';
import type { WorkerBudgetConfig } from '../shared/contracts/lambda-environment.js';
import { UsageError } from './exit-codes.js';

/** The Compliance API's documented limit per organization, the pollers' default too. */
const COMPLIANCE_DEFAULT_PER_MINUTE = 600;

export type CliBudgetConfig = WorkerBudgetConfig & { COMPLIANCE_REQUESTS_PER_MINUTE: number };

/**
 * How the shared request budgets are sized, read from the variables the Lambdas read
 * (COMPLIANCE_REQUESTS_PER_MINUTE, FILES_API_REQUESTS_PER_MINUTE, BUDGET_WINDOW_MS,
 * POLLER_BUDGET_SHARE, BUDGET_MAX_WAIT_MS) with their defaults, so that the CLI's upstream requests
 * (backfill, chat fan-out) count against the same limits and `status` shows use against them. Set
 * them as the deployment does if it changed them.
 */
export function budgetConfigFromEnv(env: NodeJS.ProcessEnv): CliBudgetConfig {
  let config: WorkerBudgetConfig;
  try {
    config = loadConfig(WorkerBudgetConfigSchema, env);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  return {
    ...config,
    COMPLIANCE_REQUESTS_PER_MINUTE: config.COMPLIANCE_REQUESTS_PER_MINUTE ?? COMPLIANCE_DEFAULT_PER_MINUTE,
  };
}

/** Each budget's sizing, as the Lambdas size them (shared/index/dynamodb-shared-budget-gate.ts). */
export { budgetSizings } from '../shared/index/dynamodb-shared-budget-gate.js';
