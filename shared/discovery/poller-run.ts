import { randomUUID } from 'node:crypto';
import { MAX_LEDGER_UNIT_FAILURES } from '../contracts/discovery-ledger.js';
import type { LedgerRecord, PollerSource, RunEnding, UnitFailure } from '../contracts/discovery-ledger.js';
import { DISCOVERY_METRIC } from '../contracts/metric-names.js';
import {
  ArchiverError,
  describeError as describe,
  describeForRecord,
  UpstreamHttpError,
  UpstreamRateLimitedError,
} from '../platform/errors.js';
import { BudgetExhaustedError } from './rate-budget.js';
import type { PollerCheckpoint, PollerDeps, PollerLease } from './ports.js';

/** Upstream answered 400 to a stored cursor. Reported and alarmed; the checkpoint keeps the cursor. */
export class CursorRejectedError extends ArchiverError {
  constructor(
    readonly cursor: string,
    readonly requestId: string | undefined,
  ) {
    super('upstream rejected the stored cursor (400)');
  }
}

/** The run reached its stop margin: the reason its signal aborts with. */
export class PollerDeadlineError extends ArchiverError {
  constructor() {
    super('poller run reached its stop margin');
  }
}

/** Another run took the lease over (this one overran it): stop without writing anything more. */
export class LeaseLostError extends ArchiverError {
  constructor() {
    super('the poller lease passed to another run');
  }
}

/** What a poller body reports back and may call while it runs. */
export interface RunContext {
  readonly runId: string;
  readonly checkpoint: PollerCheckpoint | undefined;
  /**
   * Aborted at the stop margin (deadline minus stopMarginMs): every wait and request ends there, so
   * the run always has the margin left to write its ledger record and release its lease. Pass it to
   * every I/O call.
   */
  readonly signal: AbortSignal;
  /** True once too little time is left to read and enqueue another page. */
  shouldStop(): boolean;
  /** Counts a page read. */
  page(page: { items: readonly unknown[]; invalid: number; requestId: string | undefined }): void;
  jobsEnqueued(count: number): void;
  /** Writes the checkpoint (fenced by the lease); throws LeaseLostError if another run took over. */
  saveCheckpoint(checkpoint: PollerCheckpoint): Promise<void>;
  /** Sets the ledger's window, when the source has one. */
  setWindow(start: string | null, end: string | null): void;
  /** How far behind now the poller has caught up, for the lag metric. */
  setLagSeconds(seconds: number): void;
  /** A unit (a chat) could not be read; the run goes on. Recorded on the ledger with upstream's request id. */
  unitFailed(unitId: string, err: unknown): void;
  /** A unit's own cursor was refused (400) and the unit was read again from its start. */
  unitRestarted(unitId: string): void;
  /** Entries left on the source's retry list, for the ledger. */
  setRetriesPending(count: number): void;
}

export interface RunOptions {
  /** Epoch ms by which the run must have stopped (the Lambda's deadline minus a margin). */
  deadlineMs: number;
  /**
   * Time kept in hand for the ledger write and the lease release: at deadlineMs - stopMarginMs no new
   * page starts and the run's signal aborts whatever wait or request is under way.
   */
  stopMarginMs: number;
  leaseMs: number;
}

export type RunOutcome = { kind: 'ran'; ledger: LedgerRecord } | { kind: 'lease_held' };

/**
 * Runs one poller body under its lease and writes the run's ledger record, however it ends. Only
 * one run of a source proceeds at a time: a run that finds the lease held returns at once.
 */
export async function runPoller(
  source: PollerSource,
  deps: PollerDeps,
  opts: RunOptions,
  body: (ctx: RunContext) => Promise<'completed' | 'deadline'>,
): Promise<RunOutcome> {
  const runId = randomUUID();
  const startedMs = deps.now();
  const lease = await deps.store.acquireLease(source, runId, startedMs, opts.leaseMs);
  if (!lease) {
    deps.log.info('another run holds the poller lease; not starting', { source });
    return { kind: 'lease_held' };
  }
  const checkpoint = await deps.store.getCheckpoint(source);
  const stopAtMs = opts.deadlineMs - opts.stopMarginMs;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new PollerDeadlineError()), Math.max(0, stopAtMs - startedMs));
  const stats = { pages: 0, records: 0, invalid: 0, jobs: 0, lastRequestId: null as string | null };
  let cursorEnd = checkpoint?.cursor ?? null;
  // The checkpoint as last written by this run: the closing write below keeps what the run saved in it.
  let saved = checkpoint;
  let window: [string | null, string | null] = [new Date(startedMs).toISOString(), null];
  let lagSeconds: number | undefined;
  const failures: UnitFailure[] = [];
  let failureCount = 0;
  const restarted: string[] = [];
  let retriesPending: number | undefined;

  const ctx: RunContext = {
    runId,
    checkpoint,
    signal: deadline.signal,
    shouldStop: () => deadline.signal.aborted || deps.now() >= stopAtMs,
    page(page) {
      stats.pages += 1;
      stats.records += page.items.length;
      stats.invalid += page.invalid;
      if (page.requestId) stats.lastRequestId = page.requestId;
      if (page.invalid > 0)
        deps.log.warn('upstream sent items that do not match the documented shape', {
          source,
          invalid: page.invalid,
          requestId: page.requestId,
        });
    },
    jobsEnqueued(count) {
      stats.jobs += count;
    },
    async saveCheckpoint(next) {
      if (!(await deps.store.putCheckpoint(source, next, lease))) throw new LeaseLostError();
      cursorEnd = next.cursor;
      saved = next;
    },
    setWindow(start, end) {
      window = [start, end];
    },
    setLagSeconds(seconds) {
      lagSeconds = seconds;
    },
    unitFailed(unitId, err) {
      failureCount += 1;
      const requestId = requestIdOf(err);
      if (failures.length < MAX_LEDGER_UNIT_FAILURES)
        failures.push({ id: unitId, error: describeForRecord(err), requestId: requestId ?? null });
      deps.counters.record(DISCOVERY_METRIC.unitFailures, 1, 'Count');
      deps.log.error('could not read a unit; it goes to the retry list and the run moves on', {
        source,
        unitId,
        requestId,
        error: describe(err),
      });
    },
    unitRestarted(unitId) {
      if (restarted.length < MAX_LEDGER_UNIT_FAILURES) restarted.push(unitId);
    },
    setRetriesPending(count) {
      retriesPending = count;
    },
  };

  let ending: RunEnding;
  let error: unknown;
  try {
    ending = await body(ctx);
  } catch (err) {
    error = err;
    // Stopped by the run's own signal at the stop margin: a clean stop, the checkpoint holds.
    ending = deadline.signal.aborted && !(err instanceof LeaseLostError) ? 'deadline' : endingOf(err);
    if (ending === 'deadline') error = undefined;
  } finally {
    clearTimeout(timer);
  }
  const endedMs = deps.now();
  if (ending === 'cursor_rejected' && error instanceof CursorRejectedError) {
    deps.counters.record(DISCOVERY_METRIC.cursorRejected, 1, 'Count');
    deps.log.error('upstream rejected the stored cursor; the poller stays on it until an operator acts', {
      source,
      cursor: error.cursor,
      requestId: error.requestId,
    });
    if (error.requestId) stats.lastRequestId = error.requestId;
    await deps.store
      .putCheckpoint(source, { ...(checkpoint ?? { cursor: null }), rejectedCursor: error.cursor }, lease)
      .catch(() => undefined);
  } else if (error !== undefined) {
    deps.log.error('poller run failed; the next run continues from the checkpoint', {
      source,
      ending,
      error: describe(error),
    });
  }
  if (ending === 'completed' || ending === 'deadline') {
    deps.counters.record(DISCOVERY_METRIC.runsCompleted, 1, 'Count');
    if (ending === 'completed' || checkpoint?.rejectedCursor) {
      await deps.store
        .putCheckpoint(
          source,
          {
            ...(saved ?? {}),
            cursor: cursorEnd,
            ...(ending === 'completed' ? { lastCompletedAt: new Date(endedMs).toISOString() } : {}),
            rejectedCursor: null,
            ...windowEndOf(ending, window),
          },
          lease,
        )
        .catch((err: unknown) =>
          deps.log.warn('could not record the run on the checkpoint', { source, error: describe(err) }),
        );
    }
  }
  deps.counters.record(DISCOVERY_METRIC.pages, stats.pages, 'Count');
  deps.counters.record(DISCOVERY_METRIC.records, stats.records, 'Count');
  deps.counters.record(DISCOVERY_METRIC.jobsEnqueued, stats.jobs, 'Count');
  if (lagSeconds !== undefined) deps.counters.record(DISCOVERY_METRIC.lagSeconds, lagSeconds, 'Count');

  const ledger: LedgerRecord = {
    source,
    runId,
    startedAt: new Date(startedMs).toISOString(),
    endedAt: new Date(endedMs).toISOString(),
    ending,
    cursorStart: checkpoint?.cursor ?? null,
    cursorEnd,
    pages: stats.pages,
    records: stats.records,
    invalidRecords: stats.invalid,
    jobsEnqueued: stats.jobs,
    windowStart: window[0],
    windowEnd: window[1] ?? new Date(endedMs).toISOString(),
    lastRequestId: stats.lastRequestId,
    error: error === undefined ? null : describeForRecord(error),
    unitFailures: failures,
    unitFailureCount: failureCount,
    unitsRestarted: restarted,
    ...(retriesPending === undefined ? {} : { retriesPending }),
  };
  try {
    await deps.store.putLedger(ledger);
  } finally {
    await deps.store.releaseLease(source, lease).catch(() => undefined);
  }
  deps.log.info('poller run ended', { ...ledger });
  return { kind: 'ran', ledger };
}

/** Activity windows are complete only when the run read to the end of them. */
function windowEndOf(ending: RunEnding, window: [string | null, string | null]): Partial<PollerCheckpoint> {
  return ending === 'completed' && window[1] !== null ? { windowEnd: window[1] } : {};
}

function requestIdOf(err: unknown): string | undefined {
  if (err instanceof UpstreamHttpError) return err.requestId;
  return undefined;
}

function endingOf(err: unknown): RunEnding {
  if (err instanceof CursorRejectedError) return 'cursor_rejected';
  if (err instanceof BudgetExhaustedError || err instanceof UpstreamRateLimitedError) return 'throttled';
  return 'failed';
}

/** Turns a 400 on a request that carried a stored cursor into CursorRejectedError. */
export function asCursorRejection(err: unknown, cursor: string | null | undefined): unknown {
  if (cursor && err instanceof UpstreamHttpError && err.status === 400)
    return new CursorRejectedError(cursor, err.requestId);
  return err;
}

export type { PollerLease };
