import { randomUUID } from 'node:crypto';
import type { FileSource } from '../contracts/ids.js';
import { parseJob } from '../contracts/job.js';
import type { IngestJob } from '../contracts/job.js';
import { describeError, MalformedJobError, upstreamRequestIdOf } from '../platform/errors.js';
import type { Counters, Log } from '../platform/telemetry.js';
import { archiveFile } from './archive-file.js';
import type { ArchiveDeps } from './archive-types.js';
import { decideFailure, toQueueActions } from './failure-decision.js';
import type { QueueActions } from './failure-decision.js';
import { deadLetteredRecord } from './final-outcome.js';
import type { IngestMessage, IngestQueue } from './ingest-queue.js';
import { reportCaptureLatency, reportFailure, reportOutcome } from './ingest-report.js';

export interface IngestDeps {
  archive: Omit<ArchiveDeps, 'log'>;
  queue: IngestQueue;
  /** The queue's redrive maxReceiveCount: the delivery with this receive count is the job's last. */
  maxReceiveCount: number;
  log: Log;
  counters: Counters;
}

/**
 * Processes one queue message: parses the job, archives the file, and settles any failure by the
 * failure model (shared/ingest/failure-decision.ts). Resolves when the message is done with (the
 * event source deletes it); rejects with the failure when it must stay in the queue.
 */
export async function processIngestMessage(
  message: IngestMessage,
  signal: AbortSignal,
  deps: IngestDeps,
): Promise<void> {
  const parsed = parseJob(message.body);
  if (!parsed.ok) {
    await settleFailure(
      new MalformedJobError(parsed.reason),
      message,
      undefined,
      withContext(deps.log, { messageId: message.messageId }),
      deps,
    );
    return;
  }
  const { job, source } = parsed;
  const log = withContext(deps.log, { messageId: message.messageId, fileId: job.fileId, source });
  const delivery = { owner: `${message.messageId}:${randomUUID()}`, receiveCount: message.receiveCount, signal };
  try {
    const outcome = await archiveFile(job, source, delivery, { ...deps.archive, log });
    reportOutcome(outcome, log, deps.counters);
    reportCaptureLatency(job, outcome, deps.counters);
  } catch (err) {
    await settleFailure(err, message, parsed, log, deps);
  }
}

/**
 * Decides what happens next, reports it, and asks the queue for it; rethrows unless acknowledged. On
 * the job's last receive a failure that leaves it in the queue sends it to the dead-letter queue:
 * the file is recorded `failed` first, so it does not stay pending for ever.
 */
async function settleFailure(
  err: unknown,
  message: IngestMessage,
  parsed: { job: IngestJob; source: FileSource } | undefined,
  log: Log,
  deps: IngestDeps,
): Promise<void> {
  const decision = decideFailure(err, { receiveCount: message.receiveCount, deferrals: message.deferrals });
  let actions: QueueActions = toQueueActions(decision);
  // A failed copy to the DLQ leaves the message in the queue, to be rejected again on its next delivery.
  if (actions.sendToDeadLetterQueue)
    await deps.queue.sendToDeadLetterQueue(message, actions.sendToDeadLetterQueue.reason);
  reportFailure(decision, err, log, deps.counters);
  if (actions.sendDelayedCopy) {
    const { delaySeconds, deferrals } = actions.sendDelayedCopy;
    try {
      await deps.queue.sendDelayedCopy(message, delaySeconds, deferrals);
    } catch (sendErr) {
      // The message itself waits instead, at the cost of one of its receives.
      log.warn('could not send the delayed copy; the message waits in the queue instead', {
        error: describeError(sendErr),
      });
      actions = { ack: false, changeVisibilitySeconds: delaySeconds };
    }
  }
  if (actions.changeVisibilitySeconds !== undefined) {
    try {
      await deps.queue.changeVisibility(message.receiptHandle, actions.changeVisibilitySeconds);
    } catch (visibilityErr) {
      // The queue's own visibility timeout still brings the message back.
      log.warn('could not change the message visibility', { error: describeError(visibilityErr) });
    }
  }
  if (actions.ack) return;
  if (parsed && message.receiveCount >= deps.maxReceiveCount) await recordDeadLettered(err, message, parsed, log, deps);
  throw err;
}

/** Marks the file of a job on its last receive `failed` (unless it is archived, unavailable or held). */
async function recordDeadLettered(
  err: unknown,
  message: IngestMessage,
  parsed: { job: IngestJob; source: FileSource },
  log: Log,
  deps: IngestDeps,
): Promise<void> {
  const now = deps.archive.now ?? Date.now;
  const attrs = {
    receiveCount: message.receiveCount,
    maxReceiveCount: deps.maxReceiveCount,
    upstreamRequestId: upstreamRequestIdOf(err),
  };
  try {
    const record = await deps.archive.index.markDeadLettered(
      deadLetteredRecord(parsed.job, parsed.source, err, now()),
      now(),
    );
    if (record)
      log.error('last receive: the job goes to the dead-letter queue and the file is recorded as failed', {
        ...attrs,
        outcome: 'dead-lettered',
      });
  } catch (markErr) {
    // The job still reaches the DLQ; the file stays pending with its last error.
    log.warn('could not record the file as failed before its job goes to the dead-letter queue', {
      ...attrs,
      error: describeError(markErr),
    });
  }
}

function withContext(log: Log, ctx: Record<string, unknown>): Log {
  return {
    debug: (m, a) => log.debug(m, { ...ctx, ...a }),
    info: (m, a) => log.info(m, { ...ctx, ...a }),
    warn: (m, a) => log.warn(m, { ...ctx, ...a }),
    error: (m, a) => log.error(m, { ...ctx, ...a }),
  };
}
