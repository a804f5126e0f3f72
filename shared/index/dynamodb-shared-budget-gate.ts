import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WorkerBudgetConfig } from '../contracts/lambda-environment.js';
import { createBudgetGate, DEFAULT_SIZING } from '../discovery/rate-budget.js';
import type { BudgetClass, BudgetSizing } from '../discovery/rate-budget.js';
import type { Counters, Log } from '../platform/telemetry.js';
import type { RequestGate } from '../upstream/request-gate.js';
import { DynamoDbRateBudget } from './dynamodb-rate-budget.js';

export type SharedBudgetConfig = WorkerBudgetConfig & { COMPLIANCE_REQUESTS_PER_MINUTE: number };

/** Each budget's sizing from configuration (the Lambdas' variables, or the CLI's with their defaults). */
export function budgetSizings(config: SharedBudgetConfig): { compliance: BudgetSizing; files_api: BudgetSizing } {
  const sizing = (requestsPerMinute: number): BudgetSizing => ({
    ...DEFAULT_SIZING,
    requestsPerMinute,
    windowMs: config.BUDGET_WINDOW_MS,
    pollerShare: config.POLLER_BUDGET_SHARE,
  });
  return {
    compliance: sizing(config.COMPLIANCE_REQUESTS_PER_MINUTE),
    files_api: sizing(config.FILES_API_REQUESTS_PER_MINUTE),
  };
}

/**
 * The shared budgets' gate for a caller class, for every caller: the pollers, the ingest worker and
 * the webhook (role `owner`: the deployment's sizing, stored on the budget items) and the CLI (role
 * `reader`: the stored sizing over its own settings, and its clock corrected to the table's, so a
 * laptop with a fast clock or other settings can neither overdraw nor push the window ahead).
 */
export function createSharedBudgetGate(
  config: SharedBudgetConfig,
  doc: DynamoDBDocumentClient,
  table: string,
  cls: BudgetClass,
  opts: { log: Log; counters: Counters; role?: 'owner' | 'reader'; now?: () => number },
): RequestGate {
  const sizings = budgetSizings(config);
  const role = opts.role ?? 'owner';
  return createBudgetGate({
    budgets: {
      compliance: new DynamoDbRateBudget(doc, table, 'compliance', sizings.compliance, role),
      files_api: new DynamoDbRateBudget(doc, table, 'files_api', sizings.files_api, role),
    },
    cls,
    maxWaitMs: config.BUDGET_MAX_WAIT_MS,
    log: opts.log,
    counters: opts.counters,
    ...(opts.now ? { now: opts.now } : {}),
  });
}

/**
 * The offset of the table's clock from this machine's, measured from the `Date` header of the
 * client's DynamoDB answers (second resolution: the estimate is within about a second). The SDK's
 * own `systemClockOffset` moves only once the skew reaches 5 minutes (it exists to keep signatures
 * valid), far too coarse for 1-second budget windows; this one follows every answer.
 */
export function trackServerClock(doc: DynamoDBDocumentClient, localNow: () => number = Date.now): () => number {
  let offsetMs = 0;
  doc.middlewareStack.add(
    (next) => async (args) => {
      const sentAt = localNow();
      const out = await next(args);
      const response = out.response as { headers?: Record<string, string | undefined> } | undefined;
      const date = response?.headers?.['date'];
      const serverMs = date ? Date.parse(date) : Number.NaN;
      if (Number.isFinite(serverMs)) {
        // The header is truncated to the second: its middle is the best estimate.
        const midpoint = (sentAt + localNow()) / 2;
        offsetMs = serverMs + 500 - midpoint;
      }
      return out;
    },
    { step: 'deserialize', name: 'archiverServerClock' },
  );
  return () => localNow() + offsetMs;
}
