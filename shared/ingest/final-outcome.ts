import type { FailedRecord, UnavailableRecord } from '../contracts/file-records.js';
import type { FileSource } from '../contracts/ids.js';
import type { IngestJob } from '../contracts/job.js';
import { describeForRecord, UpstreamHttpError, upstreamRequestIdOf } from '../platform/errors.js';
import type { FileMetadata } from '../upstream/file-metadata.js';
import type { ArchiveDeps, ArchiveOutcome, Delivery } from './archive-types.js';
import { decideFailure } from './failure-decision.js';
import { provenanceOf } from './provenance.js';
import type { FinalOutcome } from './failure-decision.js';

/**
 * Records a final outcome when the failure decision says so (a 404, `x-should-retry: false`, an
 * unsized file over the cap); rethrows anything else. Which outcome (`expired` for a 404 on a file
 * upstream published no size for) is decideFailure's to say (failure-decision.ts).
 */
export async function recordIfFinal(
  err: unknown,
  job: IngestJob,
  source: FileSource,
  delivery: Delivery,
  metadata: FileMetadata | null,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  const decision = decideFailure(err, {
    receiveCount: delivery.receiveCount,
    ...(metadata ? { publishedSizeBytes: metadata.sizeBytes } : {}),
  });
  if (decision.kind !== 'record-outcome') throw err;
  const { kind: _kind, ...outcome } = decision;
  return recordFinalOutcome(job, source, delivery, outcome, metadata, err, deps);
}

/** Writes the final record of a file (under this delivery's claim) and returns it as the outcome. */
export async function recordFinalOutcome(
  job: IngestJob,
  source: FileSource,
  delivery: Delivery,
  outcome: FinalOutcome,
  metadata: FileMetadata | null,
  cause: unknown,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  const base = {
    fileId: job.fileId,
    source,
    chatIds: metadata?.chatIds ?? (job.chatId ? [job.chatId] : []),
    filename: metadata?.filename ?? job.file?.filename ?? null,
    mimeType: metadata?.mimeType ?? null,
    sizeBytes: metadata?.sizeBytes ?? null,
    createdAt: metadata?.createdAt ?? null,
    upstreamRequestId: upstreamRequestIdOf(cause) ?? null,
    detail: typeof cause === 'string' ? cause : describeForRecord(cause),
    ...provenanceOf(job),
  };
  if (outcome.status === 'failed') {
    const record: FailedRecord = {
      ...base,
      status: 'failed',
      reason: outcome.reason,
      upstreamErrorType: cause instanceof UpstreamHttpError ? (cause.errorType ?? null) : null,
      upstreamStatus: cause instanceof UpstreamHttpError ? cause.status : null,
      failedAt: at,
    };
    return { kind: 'failed', record: await deps.index.markFailed(record, delivery.owner) };
  }
  const record: UnavailableRecord = { ...base, status: 'unavailable', reason: outcome.reason, recordedAt: at };
  return { kind: 'unavailable', record: await deps.index.markUnavailable(record, delivery.owner) };
}

/**
 * The record of a file whose job is leaving for the dead-letter queue: `failed`, with the last error
 * and the last upstream request id. What the job carried is all that is known of the file here.
 */
export function deadLetteredRecord(
  job: IngestJob,
  source: FileSource,
  lastError: unknown,
  nowMs: number,
): FailedRecord {
  const f = job.file;
  return {
    status: 'failed',
    reason: 'dead_lettered',
    fileId: job.fileId,
    source,
    chatIds: job.chatId ? [job.chatId] : [],
    filename: f?.filename ?? null,
    mimeType: f?.mime_type ?? null,
    sizeBytes: f?.size_bytes ?? null,
    createdAt: f?.created_at ?? null,
    upstreamRequestId: upstreamRequestIdOf(lastError) ?? null,
    detail: describeForRecord(lastError),
    upstreamErrorType: lastError instanceof UpstreamHttpError ? (lastError.errorType ?? null) : null,
    upstreamStatus: lastError instanceof UpstreamHttpError ? lastError.status : null,
    failedAt: new Date(nowMs).toISOString(),
    ...provenanceOf(job),
  };
}
