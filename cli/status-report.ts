/**
 * `archiver status`: one read of the stack's health. Queue depths from SQS, file states from the
 * index (a Scan: see DynamoDbFileCounts), poller health from discovery's checkpoints and ledger, budget use
 * from the shared budget's items. Every problem found is listed in `problems` (exit code 3).
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { POLLER_SOURCES } from '../shared/contracts/discovery-ledger.js';
import type { PollerSource, RunEnding } from '../shared/contracts/discovery-ledger.js';
import { DynamoDbDiscoveryStore } from '../shared/index/dynamodb-discovery-store.js';
import { factorAt, windowLimits } from '../shared/discovery/rate-budget.js';
import type { BudgetSizing } from '../shared/discovery/rate-budget.js';
import { DynamoDbFileCounts } from '../shared/index/dynamodb-file-counts.js';
import { DynamoDbRateBudget } from '../shared/index/dynamodb-rate-budget.js';
import type { StackQueuesAndIndex } from './aws-access.js';
import type { FileCounts } from '../shared/index/dynamodb-file-counts.js';

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface PollerHealth {
  source: PollerSource;
  lastCompletedAt: string | null;
  /** Seconds since the last completed run; null when none is recorded. */
  lagSeconds: number | null;
  lastRun: { startedAt: string; endedAt: string; ending: RunEnding; jobsEnqueued: number; error: string | null } | null;
  rejectedCursor: string | null;
  /** A run holds the poller's lease right now. */
  running: boolean;
  healthy: boolean;
}

export interface BudgetUse {
  name: string;
  /** The latest window anyone drew from: its start, requests granted in it, and those granted to pollers. */
  lastWindow: { startedAt: string; used: number; pollerUsed: number } | null;
  /** Requests one window grants in all and to pollers, at the sizing given (the deployed defaults unless set). */
  limitPerWindow: { total: number; poller: number; windowMs: number };
  /** 1 = full budget; below 1 after a 429, recovering over time. */
  factor: number;
  /** Set while a 429's retry-after pauses every caller. */
  pausedUntil: string | null;
  lastThrottledAt: string | null;
}

export interface StatusReport {
  stack: string;
  at: string;
  queue: QueueDepth;
  deadLetterQueue: QueueDepth;
  /** Null with --no-files. */
  files: FileCounts | null;
  pollers: PollerHealth[];
  budgets: BudgetUse[];
  problems: string[];
}

export type StatusDeps = StackQueuesAndIndex;

export interface StatusOptions {
  stack: string;
  countFiles: boolean;
  /** A poller whose last completed run is older than this is reported as stalled. */
  staleAfterSeconds: number;
  /** How each budget is sized (the same variables as the Lambdas'); the limits shown come from it. */
  sizing: Record<(typeof BUDGET_NAMES)[number], BudgetSizing>;
  signal?: AbortSignal | undefined;
}

export const BUDGET_NAMES = ['compliance', 'files_api'] as const;

export async function collectStatus(deps: StatusDeps, opts: StatusOptions): Promise<StatusReport> {
  const nowMs = deps.now();
  const store = new DynamoDbDiscoveryStore(deps.doc, deps.table);
  const [queue, deadLetterQueue, files, pollers, budgets] = await Promise.all([
    queueDepth(deps.sqs, deps.queueUrl),
    queueDepth(deps.sqs, deps.deadLetterQueueUrl),
    opts.countFiles
      ? new DynamoDbFileCounts(deps.doc, deps.table).count(opts.signal ? { signal: opts.signal } : {})
      : Promise.resolve(null),
    Promise.all(POLLER_SOURCES.map((source) => pollerHealth(store, source, nowMs, opts.staleAfterSeconds))),
    Promise.all(BUDGET_NAMES.map((name) => budgetUse(deps.doc, deps.table, name, opts.sizing[name], nowMs))),
  ]);
  const problems: string[] = [];
  const dead = deadLetterQueue.visible + deadLetterQueue.inFlight;
  if (dead > 0) problems.push(`${dead} dead letter(s): see "archiver dlq list"`);
  const failed = Object.values(files?.failed ?? {}).reduce((a, b) => a + b, 0);
  if (failed > 0)
    problems.push(
      `${failed} file(s) failed: "archiver dlq redrive" retries the ` +
        `dead-lettered ones, "archiver enqueue <fileId>" any other`,
    );
  for (const p of pollers) {
    if (p.rejectedCursor)
      problems.push(`${p.source} poller: upstream rejected its cursor; it will not move until an operator acts`);
    // A first run still walking a backlog has completed nothing yet, and is not stalled.
    else if (!p.lastCompletedAt && !p.running) problems.push(`${p.source} poller: no completed run recorded`);
    else if (!p.healthy)
      problems.push(`${p.source} poller: no completed run for ${Math.round((p.lagSeconds ?? 0) / 60)} min`);
  }
  return {
    stack: opts.stack,
    at: new Date(nowMs).toISOString(),
    queue,
    deadLetterQueue,
    files,
    pollers,
    budgets,
    problems,
  };
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const n = (k: string) => Number(res.Attributes?.[k as keyof typeof res.Attributes] ?? 0) || 0;
  return {
    visible: n('ApproximateNumberOfMessages'),
    inFlight: n('ApproximateNumberOfMessagesNotVisible'),
    delayed: n('ApproximateNumberOfMessagesDelayed'),
  };
}

async function pollerHealth(
  store: DynamoDbDiscoveryStore,
  source: PollerSource,
  nowMs: number,
  staleAfterSeconds: number,
): Promise<PollerHealth> {
  const [checkpoint, ledger, leaseExpiresAtMs] = await Promise.all([
    store.getCheckpoint(source),
    store.listLedger(source, 1, undefined),
    store.leaseExpiresAt(source),
  ]);
  const running = leaseExpiresAtMs !== undefined && leaseExpiresAtMs > nowMs;
  const last = ledger.runs[0];
  const lastCompletedAt = checkpoint?.lastCompletedAt ?? null;
  const lagSeconds = lastCompletedAt ? Math.max(0, Math.round((nowMs - Date.parse(lastCompletedAt)) / 1000)) : null;
  const rejectedCursor = checkpoint?.rejectedCursor ?? null;
  return {
    source,
    lastCompletedAt,
    lagSeconds,
    lastRun: last
      ? {
          startedAt: last.startedAt,
          endedAt: last.endedAt,
          ending: last.ending,
          jobsEnqueued: last.jobsEnqueued,
          error: last.error,
        }
      : null,
    rejectedCursor,
    running,
    healthy: !rejectedCursor && (lagSeconds === null ? running : lagSeconds <= staleAfterSeconds),
  };
}

async function budgetUse(
  doc: DynamoDBDocumentClient,
  table: string,
  name: string,
  sizing: BudgetSizing,
  nowMs: number,
): Promise<BudgetUse> {
  const { state, lastWindow } = await new DynamoDbRateBudget(doc, table, name, sizing).readUse();
  const { pausedUntilMs, shrunkAtMs } = state;
  return {
    name,
    lastWindow:
      lastWindow === null
        ? null
        : {
            startedAt: new Date(lastWindow.windowStart).toISOString(),
            used: lastWindow.used,
            pollerUsed: lastWindow.pollerUsed,
          },
    limitPerWindow: { ...windowLimits(state, sizing, nowMs), windowMs: sizing.windowMs },
    factor: Math.round(factorAt(state, sizing, nowMs) * 100) / 100,
    pausedUntil: pausedUntilMs > nowMs ? new Date(pausedUntilMs).toISOString() : null,
    lastThrottledAt: shrunkAtMs > 0 ? new Date(shrunkAtMs).toISOString() : null,
  };
}
