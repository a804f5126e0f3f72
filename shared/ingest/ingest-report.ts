import type { IngestJob } from '../contracts/job.js';
import { METRIC } from '../contracts/metric-names.js';
import { describeError, IntegrityError, UpstreamHttpError, upstreamRequestIdOf } from '../platform/errors.js';
import type { Counters, Log } from '../platform/telemetry.js';
import type { ArchiveOutcome } from './archive-types.js';
import type { QueueDecision } from './failure-decision.js';

/** Logs and counts a delivery that ended well: archived, already archived, or recorded as unavailable. */
export function reportOutcome(outcome: ArchiveOutcome, log: Log, counters: Counters): void {
  const r = outcome.record;
  switch (outcome.kind) {
    case 'archived':
      counters.record(METRIC.filesArchived, 1, 'Count');
      counters.record(METRIC.bytesArchived, outcome.record.sizeBytes, 'Bytes');
      log.info('archived', {
        outcome: 'archived',
        upstreamRequestId: r.upstreamRequestId,
        sizeBytes: outcome.record.sizeBytes,
        sha256: outcome.record.sha256,
        metadataRequested: outcome.metadataRequested,
      });
      return;
    case 'duplicate':
      counters.record(METRIC.duplicateDeliveries, 1, 'Count');
      log.info('already archived; acknowledged without downloading', { outcome: 'duplicate' });
      return;
    case 'unavailable':
      counters.record(METRIC.finalOutcomes, 1, 'Count', { name: 'reason', value: outcome.record.reason });
      log.warn('no copy can be made; recorded why', {
        outcome: 'unavailable',
        decision: 'record-outcome',
        reason: outcome.record.reason,
        upstreamRequestId: r.upstreamRequestId,
      });
      return;
    case 'failed':
      counters.record(METRIC.finalOutcomes, 1, 'Count', { name: 'reason', value: outcome.record.reason });
      // A refused key or a throttle that upstream calls final still feeds the alarm that watches for it.
      if (outcome.record.upstreamStatus === 401 || outcome.record.upstreamStatus === 403)
        counters.record(METRIC.upstreamAuthFailures, 1, 'Count');
      if (outcome.record.upstreamStatus === 429) counters.record(METRIC.upstreamThrottled, 1, 'Count');
      log.error('no retry can succeed; recorded the file as failed', {
        outcome: 'failed',
        decision: 'record-outcome',
        reason: outcome.record.reason,
        error: outcome.record.detail,
        status: outcome.record.upstreamStatus,
        upstreamErrorType: outcome.record.upstreamErrorType,
        upstreamRequestId: r.upstreamRequestId,
      });
      return;
  }
}

/**
 * Reports how long a newly archived file took from its appearance upstream (`appearedAt` on its job)
 * to its archived copy. Only a first archiving counts (a duplicate delivery says nothing about capture),
 * and only a job that carries the time; a clock ahead of the archive's counts as 0.
 */
export function reportCaptureLatency(job: IngestJob, outcome: ArchiveOutcome, counters: Counters): void {
  if (outcome.kind !== 'archived' || job.appearedAt === undefined) return;
  const latencyMs = Date.parse(outcome.record.archivedAt) - Date.parse(job.appearedAt);
  if (!Number.isFinite(latencyMs)) return;
  counters.record(METRIC.captureLatency, Math.max(0, latencyMs), 'Milliseconds');
}

type FailureCause = 'malformed' | Extract<QueueDecision, { cause: string }>['cause'];

/** How each kind of failure is logged and counted; the metrics feed the alarms. */
const FAILURE_REPORTS: Record<
  FailureCause,
  { level: 'info' | 'warn' | 'error'; message: string; outcome: string; metric?: string }
> = {
  malformed: {
    level: 'error',
    message: 'rejected a malformed job to the dead-letter queue',
    outcome: 'malformed',
    metric: METRIC.malformedJobs,
  },
  'rate-limited': {
    level: 'warn',
    message: 'upstream rate limit; the message waits in the queue',
    outcome: 'retry',
    metric: METRIC.upstreamThrottled,
  },
  'claim-held': { level: 'info', message: 'another delivery is archiving this file', outcome: 'deferred' },
  // The budget gate counts BudgetExhausted itself, by API.
  budget: {
    level: 'info',
    message: 'no upstream request budget left for now; the job waits in the queue',
    outcome: 'deferred',
  },
  auth: {
    level: 'error',
    message: 'upstream refused the API key; an operator must fix the key or its scopes',
    outcome: 'auth-failure',
    metric: METRIC.upstreamAuthFailures,
  },
  permanent: {
    level: 'error',
    message: 'failed; the message will reach the dead-letter queue if this repeats',
    outcome: 'failed',
  },
  integrity: {
    level: 'error',
    message: 'integrity check failed; upload aborted',
    outcome: 'integrity-failure',
    metric: METRIC.integrityFailures,
  },
  deadline: { level: 'warn', message: 'invocation deadline reached; upload aborted', outcome: 'deadline' },
  transient: { level: 'warn', message: 'failed; will retry', outcome: 'retry' },
};

/** Logs and counts a failed delivery by what was decided about it. */
export function reportFailure(decision: QueueDecision, err: unknown, log: Log, counters: Counters): void {
  // A final outcome is recorded by the use case, which reports it as an outcome.
  if (decision.kind === 'record-outcome') return;
  const report = FAILURE_REPORTS[decision.kind === 'dead-letter-now' ? 'malformed' : decision.cause];
  if (report.metric) counters.record(report.metric, 1, 'Count');
  log[report.level](report.message, {
    outcome: report.outcome,
    decision: decision.kind,
    error: describeError(err),
    upstreamRequestId: upstreamRequestIdOf(err),
    ...(err instanceof UpstreamHttpError ? { status: err.status, upstreamErrorType: err.errorType } : {}),
    ...(err instanceof IntegrityError ? { check: err.check } : {}),
    ...('delaySeconds' in decision ? { delaySeconds: decision.delaySeconds } : {}),
    ...(decision.kind === 'dead-letter-now' ? { reason: decision.reason } : {}),
  });
}
