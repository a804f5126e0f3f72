import { randomUUID } from 'node:crypto';
import type { FileSource } from '../contracts/ids.js';
import { HoldWorkSchema, looksLikeHoldWork } from '../contracts/holds.js';
import type { HoldWork } from '../contracts/holds.js';
import { parseJob } from '../contracts/job.js';
import { processHoldWork } from '../holds/hold-work.js';
import type { HoldWorkDeps } from '../holds/hold-work.js';
import { activeMattersOnce } from '../holds/hold-at-ingest.js';
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
  archive: Omit<ArchiveDeps, 'log' | 'holds'>;
  /**
   * Legal holds: the sweep's pages arrive on this queue as hold-work messages, and a file archived
   * while an active matter selects it is held at once. Absent in unit harnesses that test neither.
   */
  holds?: Omit<HoldWorkDeps, 'log'>;
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
  activeMatters = deps.holds ? activeMattersOnce(deps.holds.matters) : undefined,
): Promise<void> {
  const work = parseHoldWork(message.body);
  if (work !== undefined) {
    await processHoldWorkMessage(work, message, signal, deps);
    return;
  }
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
  const holds =
    deps.holds && activeMatters
      ? { activeMatters, legalHolds: deps.holds.legalHolds, files: deps.holds.files }
      : undefined;
  try {
    const outcome = await archiveFile(job, source, delivery, { ...deps.archive, log, ...(holds ? { holds } : {}) });
    reportOutcome(outcome, log, deps.counters);
    reportCaptureLatency(job, outcome, deps.counters);
  } catch (err) {
    await settleFailure(err, message, parsed, log, deps);
  }
}

/** A hold-work body, parsed; a malformed one as its reason; undefined for anything else (an ingest job). */
function parseHoldWork(body: string): { ok: true; work: HoldWork } | { ok: false; reason: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!looksLikeHoldWork(json)) return undefined;
  const parsed = HoldWorkSchema.safeParse(json);
  if (parsed.success) return { ok: true, work: parsed.data };
  const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
  return { ok: false, reason: `not a valid hold-work message: ${reason}` };
}

/** One page of a legal hold's sweep; a failure leaves the message in the queue (redrive, then the DLQ). */
async function processHoldWorkMessage(
  work: { ok: true; work: HoldWork } | { ok: false; reason: string },
  message: IngestMessage,
  signal: AbortSignal,
  deps: IngestDeps,
): Promise<void> {
  const log = withContext(deps.log, { messageId: message.messageId, kind: 'hold-work' });
  if (!work.ok || !deps.holds) {
    const reason = work.ok ? 'this worker is not wired for hold work' : work.reason;
    await settleFailure(new MalformedJobError(reason), message, undefined, log, deps);
    return;
  }
  const holdLog = withContext(log, { matterId: work.work.matterId, action: work.work.action, page: work.work.page });
  try {
    const outcome = await processHoldWork(work.work, { ...deps.holds, log: holdLog }, signal);
    if (outcome.kind === 'skipped') holdLog.info('hold work skipped', { why: outcome.why });
  } catch (err) {
    await settleFailure(err, message, undefined, holdLog, deps);
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
