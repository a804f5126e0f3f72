import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { archiveFile } from './archive-file.js';
import type { ArchiveDeps, ArchiveOutcome } from './archive-file.js';
import {
  ArchiverError,
  ClaimHeldError,
  describe,
  DeadlineError,
  IntegrityError,
  UpstreamAuthError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
} from '../platform/errors.js';
import { parseJob } from '../contracts/job.js';
import { MAX_VISIBILITY_SECONDS, queueRetryDelaySeconds } from '../upstream/retry-rules.js';
import { METRIC } from '../contracts/metric-names.js';
import type { Counters, Log } from '../platform/telemetry.js';

export interface IngestDeps {
  archive: Omit<ArchiveDeps, 'log'>;
  sqs: SQSClient;
  queueUrl: string;
  deadLetterQueueUrl: string;
  log: Log;
  counters: Counters;
  /** Stop this long before the Lambda's timeout, so that uploads are aborted and failures reported. */
  deadlineMarginMs?: number;
}

/**
 * The ingest handler: one record per file, each processed on its own, failures reported as
 * `batchItemFailures` so one bad record never fails its neighbours.
 */
export function createIngestHandler(deps: IngestDeps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    const deadline = new AbortController();
    const margin = deps.deadlineMarginMs ?? 15_000;
    const timer = setTimeout(
      () => deadline.abort(new DeadlineError()),
      Math.max(0, context.getRemainingTimeInMillis() - margin),
    );
    try {
      const processor = new BatchProcessor(EventType.SQS);
      return await processPartialResponse(event, (record: SQSRecord) => processRecord(record, deadline.signal, deps), processor, {
        context,
        throwOnFullBatchFailure: false,
      });
    } finally {
      clearTimeout(timer);
    }
  };
}

async function processRecord(record: SQSRecord, signal: AbortSignal, deps: IngestDeps): Promise<void> {
  const base = { messageId: record.messageId };
  const parsed = parseJob(record.body);
  if (!parsed.ok) {
    await rejectToDeadLetterQueue(record, parsed.reason, deps);
    deps.counters.record(METRIC.malformedJobs, 1, 'Count');
    deps.log.error('rejected a malformed job to the dead-letter queue', { ...base, outcome: 'malformed', reason: parsed.reason });
    return;
  }
  const { job, source } = parsed;
  const ctx = { ...base, fileId: job.fileId, source };
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  const log = withContext(deps.log, ctx);
  try {
    const outcome = await archiveFile(job, source, `${record.messageId}:${randomUUID()}`, signal, { ...deps.archive, log });
    reportOutcome(outcome, log, deps.counters);
  } catch (err) {
    await handleFailure(err, record, receiveCount, log, deps);
    throw err;
  }
}

function reportOutcome(outcome: ArchiveOutcome, log: Log, counters: Counters): void {
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
        reason: outcome.record.reason,
        upstreamRequestId: r.upstreamRequestId,
      });
      return;
  }
}

/**
 * Decides when the message is seen again. Every failure leaves it undeleted, so the queue's receive
 * count still leads a file that never succeeds to the dead-letter queue.
 */
async function handleFailure(err: unknown, record: SQSRecord, receiveCount: number, log: Log, deps: IngestDeps): Promise<void> {
  const upstreamRequestId = err instanceof UpstreamHttpError ? err.requestId : undefined;
  const attrs = { outcome: 'retry', error: describe(err), upstreamRequestId };
  if (err instanceof UpstreamRateLimitedError) {
    deps.counters.record(METRIC.upstreamThrottled, 1, 'Count');
    const seconds = Math.ceil((err.retryAfterMs ?? 60_000) / 1000);
    log.warn('upstream rate limit; the message waits in the queue', { ...attrs, delaySeconds: seconds });
    await delayRedelivery(record, seconds, log, deps);
    return;
  }
  if (err instanceof ClaimHeldError) {
    log.info('another delivery is archiving this file', { ...attrs, outcome: 'deferred' });
    await delayRedelivery(record, Math.ceil(err.retryAfterMs / 1000), log, deps);
    return;
  }
  if (err instanceof UpstreamAuthError) {
    deps.counters.record(METRIC.upstreamAuthFailures, 1, 'Count');
    log.error('upstream refused the API key; an operator must fix the key or its scopes', { ...attrs, outcome: 'auth-failure', status: err.status });
    return;
  }
  if (err instanceof IntegrityError) {
    deps.counters.record(METRIC.integrityFailures, 1, 'Count');
    log.error('integrity check failed; upload aborted', { ...attrs, outcome: 'integrity-failure', check: err.check });
  } else if (err instanceof DeadlineError) {
    log.warn('invocation deadline reached; upload aborted', { ...attrs, outcome: 'deadline' });
  } else if (err instanceof ArchiverError && !err.retryable) {
    log.error('failed; the message will reach the dead-letter queue if this repeats', { ...attrs, outcome: 'failed' });
    return;
  } else {
    log.warn('failed; will retry', attrs);
  }
  await delayRedelivery(record, queueRetryDelaySeconds(receiveCount), log, deps);
}

async function delayRedelivery(record: SQSRecord, seconds: number, log: Log, deps: IngestDeps): Promise<void> {
  try {
    await deps.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: deps.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: Math.min(Math.max(0, seconds), MAX_VISIBILITY_SECONDS),
      }),
    );
  } catch (err) {
    // The queue's own visibility timeout still brings the message back.
    log.warn('could not change the message visibility', { error: describe(err) });
  }
}

/** A body that is not a valid job will never become one: it goes to the DLQ at once, with the reason. */
async function rejectToDeadLetterQueue(record: SQSRecord, reason: string, deps: IngestDeps): Promise<void> {
  await deps.sqs.send(
    new SendMessageCommand({
      QueueUrl: deps.deadLetterQueueUrl,
      MessageBody: record.body.length > 0 ? record.body : '(empty body)',
      MessageAttributes: {
        rejectReason: { DataType: 'String', StringValue: reason.slice(0, 1000) },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
      },
    }),
  );
}

function withContext(log: Log, ctx: Record<string, unknown>): Log {
  return {
    debug: (m, a) => log.debug(m, { ...ctx, ...a }),
    info: (m, a) => log.info(m, { ...ctx, ...a }),
    warn: (m, a) => log.warn(m, { ...ctx, ...a }),
    error: (m, a) => log.error(m, { ...ctx, ...a }),
  };
}
