import { randomUUID } from 'node:crypto';
import { parseJob } from '../contracts/job.js';
import { describeError, MalformedJobError } from '../platform/errors.js';
import type { Counters, Log } from '../platform/telemetry.js';
import { archiveFile } from './archive-file.js';
import type { ArchiveDeps } from './archive-file.js';
import { decideFailure, toQueueActions } from './failure-decision.js';
import type { IngestMessage, IngestQueue } from './ingest-queue.js';
import { reportFailure, reportOutcome } from './ingest-report.js';

export interface IngestDeps {
  archive: Omit<ArchiveDeps, 'log'>;
  queue: IngestQueue;
  log: Log;
  counters: Counters;
}

/**
 * Processes one queue message: parses the job, archives the file, and settles any failure by the
 * failure model (shared/ingest/failure-decision.ts). Resolves when the message is done with (the
 * event source deletes it); rejects with the failure when it must stay in the queue.
 */
export async function processIngestMessage(message: IngestMessage, signal: AbortSignal, deps: IngestDeps): Promise<void> {
  const parsed = parseJob(message.body);
  if (!parsed.ok) {
    await settleFailure(new MalformedJobError(parsed.reason), message, withContext(deps.log, { messageId: message.messageId }), deps);
    return;
  }
  const { job, source } = parsed;
  const log = withContext(deps.log, { messageId: message.messageId, fileId: job.fileId, source });
  const delivery = { owner: `${message.messageId}:${randomUUID()}`, receiveCount: message.receiveCount, signal };
  try {
    reportOutcome(await archiveFile(job, source, delivery, { ...deps.archive, log }), log, deps.counters);
  } catch (err) {
    await settleFailure(err, message, log, deps);
  }
}

/** Decides what happens next, reports it, and asks the queue for it; rethrows unless acknowledged. */
async function settleFailure(err: unknown, message: IngestMessage, log: Log, deps: IngestDeps): Promise<void> {
  const decision = decideFailure(err, { receiveCount: message.receiveCount });
  const actions = toQueueActions(decision);
  // A failed copy to the DLQ leaves the message in the queue, to be rejected again on its next delivery.
  if (actions.sendToDeadLetterQueue) await deps.queue.sendToDeadLetterQueue(message, actions.sendToDeadLetterQueue.reason);
  reportFailure(decision, err, log, deps.counters);
  if (actions.changeVisibilitySeconds !== undefined) {
    try {
      await deps.queue.changeVisibility(message.receiptHandle, actions.changeVisibilitySeconds);
    } catch (visibilityErr) {
      // The queue's own visibility timeout still brings the message back.
      log.warn('could not change the message visibility', { error: describeError(visibilityErr) });
    }
  }
  if (!actions.ack) throw err;
}

function withContext(log: Log, ctx: Record<string, unknown>): Log {
  return {
    debug: (m, a) => log.debug(m, { ...ctx, ...a }),
    info: (m, a) => log.info(m, { ...ctx, ...a }),
    warn: (m, a) => log.warn(m, { ...ctx, ...a }),
    error: (m, a) => log.error(m, { ...ctx, ...a }),
  };
}
