import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { writeVerifiedObject } from '../archive/verified-writer.js';
import type { StoredObject, WriterDeps } from '../archive/verified-writer.js';
import { contentDisposition, encodeRfc5987, safeContentType, sanitizeFilename, toWellFormed } from '../archive/content-disposition.js';
import { ClaimHeldError, describe, describeForRecord, UpstreamHttpError, UpstreamRateLimitedError, UpstreamTransportError } from '../platform/errors.js';
import type { ArchivedRecord, UnavailableReason, UnavailableRecord } from '../contracts/file-records.js';
import type { FileRepository } from '../index/dynamodb-file-index.js';
import type { FileSource } from '../contracts/ids.js';
import { IntegrityMeter, verifyIntegrity } from '../archive/integrity.js';
import type { ExpectedIntegrity } from '../archive/integrity.js';
import type { IngestJob } from '../contracts/job.js';
import { backoffDelayMs } from '../upstream/retry-rules.js';
import type { Log } from '../platform/telemetry.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';
import type { FileMetadata } from '../upstream/file-metadata.js';
import { objectKeyFor } from '../contracts/object-keys.js';

export interface ArchiveDeps {
  upstream: UpstreamClient;
  repository: FileRepository;
  s3: S3Client;
  bucket: string;
  writer: Omit<WriterDeps, 's3'>;
  /** How long a claim protects an archive in progress; longer than one invocation can run. */
  leaseMs: number;
  /** In-process attempts for a retryable upstream failure (the first included). */
  maxAttempts: number;
  log: Log;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export type ArchiveOutcome =
  | { kind: 'archived'; record: ArchivedRecord; metadataRequested: boolean }
  | { kind: 'duplicate'; record: ArchivedRecord }
  | { kind: 'unavailable'; record: UnavailableRecord };

export { objectKeyFor } from '../contracts/object-keys.js';

/**
 * Archives one file: claims it, learns its metadata (from the job when complete, else upstream),
 * streams its content into S3 through the integrity checks, and indexes the result. A file already
 * archived is acknowledged without downloading; a file upstream says is gone is recorded as such.
 * Throws for anything that should be retried or reach the dead-letter queue; the claim is released first.
 */
export async function archiveFile(
  job: IngestJob,
  source: FileSource,
  owner: string,
  signal: AbortSignal,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  const now = deps.now ?? Date.now;
  const claim = await deps.repository.claim(job.fileId, source, owner, now(), deps.leaseMs);
  if (claim.kind === 'archived') {
    const record = await deps.repository.ensureListed(job.fileId, job.chatId ? [job.chatId] : []);
    return { kind: 'duplicate', record: record?.status === 'archived' ? record : claim.record };
  }
  if (claim.kind === 'held') throw new ClaimHeldError(Math.max(1_000, claim.leaseExpiresAtMs - now()));

  try {
    return await archiveClaimed(job, source, owner, signal, deps);
  } catch (err) {
    await deps.repository
      .release(job.fileId, owner, describeForRecord(err))
      .catch((releaseErr: unknown) => deps.log.warn('could not release the claim', { fileId: job.fileId, error: describe(releaseErr) }));
    throw err;
  }
}

async function archiveClaimed(
  job: IngestJob,
  source: FileSource,
  owner: string,
  signal: AbortSignal,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  const now = deps.now ?? Date.now;
  const carried = carriedMetadata(job, source);
  let metadata: FileMetadata;
  let metadataRequestId: string | undefined;
  if (carried) {
    metadata = carried;
  } else {
    try {
      const res = await withRetries(() => deps.upstream.fetchMetadata(job.fileId, source, signal), signal, deps);
      metadata = res.metadata;
      metadataRequestId = res.requestId;
    } catch (err) {
      const gone = unavailableReasonOf(err);
      if (!gone) throw err;
      return unavailable(job, source, owner, gone, null, err, deps);
    }
  }
  const chatIds = [...new Set([...metadata.chatIds, ...(job.chatId ? [job.chatId] : [])])].sort();
  metadata = { ...metadata, chatIds };

  if (!metadata.downloadable) {
    return unavailable(job, source, owner, 'not_downloadable', metadata, 'upstream marks the file as not downloadable', deps);
  }
  if (metadata.sizeBytes === null) {
    return unavailable(job, source, owner, 'expired', metadata, 'upstream reports no size: the file has expired', deps);
  }

  const key = objectKeyFor(source, job.fileId);
  const filename = sanitizeFilename(metadata.filename);
  const disposition = contentDisposition(metadata.filename);
  const contentType = safeContentType(metadata.mimeType);
  const expectedBase: ExpectedIntegrity = { sizeBytes: metadata.sizeBytes, contentMd5Base64: undefined, metadataMd5Hex: metadata.md5Hex };

  // A previous delivery may have committed the object and then died before indexing it. Adopting that
  // object (after re-verifying it) keeps the bucket at one version per file.
  let stored = await readBackExisting(deps.s3, deps.bucket, key, expectedBase, signal, deps.log);
  let requestId = metadataRequestId;
  if (!stored) {
    try {
      const written = await withRetries(async () => {
        const content = await deps.upstream.openContent(job.fileId, source, signal);
        try {
          const object = await writeVerifiedObject(
            content.body,
            {
              bucket: deps.bucket,
              key,
              contentType,
              contentDisposition: disposition,
              metadata: objectMetadata(job.fileId, source, filename),
            },
            { ...expectedBase, contentMd5Base64: content.contentMd5 },
            signal,
            {
              onAbortFailure: (err) =>
                deps.log.warn('could not abort the multipart upload; the bucket lifecycle rule removes it', { key, error: describe(err) }),
              ...deps.writer,
              s3: deps.s3,
            },
          );
          return { object, requestId: content.requestId };
        } finally {
          content.discard();
        }
      }, signal, deps);
      stored = written.object;
      requestId = written.requestId ?? requestId;
    } catch (err) {
      const gone = unavailableReasonOf(err);
      if (!gone) throw err;
      return unavailable(job, source, owner, gone, metadata, err, deps);
    }
  }

  const record: ArchivedRecord = {
    status: 'archived',
    fileId: job.fileId,
    source,
    chatIds: metadata.chatIds,
    filename: metadata.filename,
    mimeType: metadata.mimeType,
    sizeBytes: stored.digests.bytes,
    createdAt: metadata.createdAt,
    upstreamRequestId: requestId ?? null,
    md5: stored.digests.md5Hex,
    sha256: stored.digests.sha256Hex,
    bucket: deps.bucket,
    key,
    versionId: stored.versionId ?? null,
    contentType,
    contentDisposition: disposition,
    archivedAt: new Date(now()).toISOString(),
  };
  return { kind: 'archived', record: await deps.repository.markArchived(record, owner), metadataRequested: !carried };
}

/**
 * Metadata from the job, when discovery passed all of it for a Compliance API file: the chat id and
 * every field the metadata request would give. Files API jobs always ask upstream (`downloadable`).
 */
export function carriedMetadata(job: IngestJob, source: FileSource): FileMetadata | undefined {
  const f = job.file;
  if (source === 'files_api' || !job.chatId || !f) return undefined;
  if (f.md5 === undefined || f.mime_type === undefined || f.size_bytes === undefined || f.created_at === undefined) {
    return undefined;
  }
  return {
    fileId: job.fileId,
    source,
    chatIds: [job.chatId],
    filename: toWellFormed(f.filename),
    md5Hex: f.md5,
    mimeType: f.mime_type,
    sizeBytes: f.size_bytes,
    createdAt: f.created_at,
    downloadable: true,
  };
}

async function unavailable(
  job: IngestJob,
  source: FileSource,
  owner: string,
  reason: UnavailableReason,
  metadata: FileMetadata | null,
  cause: unknown,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  const now = deps.now ?? Date.now;
  const record: UnavailableRecord = {
    status: 'unavailable',
    fileId: job.fileId,
    source,
    chatIds: metadata?.chatIds ?? (job.chatId ? [job.chatId] : []),
    filename: metadata?.filename ?? job.file?.filename ?? null,
    mimeType: metadata?.mimeType ?? null,
    sizeBytes: metadata?.sizeBytes ?? null,
    createdAt: metadata?.createdAt ?? null,
    upstreamRequestId: cause instanceof UpstreamHttpError ? (cause.requestId ?? null) : null,
    reason,
    detail: typeof cause === 'string' ? cause : describeForRecord(cause),
    recordedAt: new Date(now()).toISOString(),
  };
  return { kind: 'unavailable', record: await deps.repository.markUnavailable(record, owner) };
}

/** 404 is final: the file was deleted or has expired upstream. */
function unavailableReasonOf(err: unknown): UnavailableReason | undefined {
  return err instanceof UpstreamHttpError && err.status === 404 ? 'not_found' : undefined;
}

/**
 * Runs `attempt` again after connection failures, timeouts, broken bodies and retryable statuses,
 * with capped exponential backoff. 429 is not retried here: the message waits in the queue instead of
 * the Lambda sleeping, and everything else is final for this invocation.
 */
async function withRetries<T>(attempt: () => Promise<T>, signal: AbortSignal, deps: ArchiveDeps): Promise<T> {
  const sleep = deps.sleep ?? sleepFor;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const retryable =
        err instanceof UpstreamTransportError ||
        (err instanceof UpstreamHttpError && err.retryable && !(err instanceof UpstreamRateLimitedError));
      if (!retryable || i + 1 >= deps.maxAttempts || signal.aborted) throw err;
      const asked = err instanceof UpstreamHttpError ? err.retryAfterMs : undefined;
      const delay = asked !== undefined ? Math.min(asked, 8_000) : backoffDelayMs(i, deps.random);
      deps.log.warn('upstream attempt failed; retrying', { attempt: i + 1, delayMs: delay, error: describe(err) });
      await sleep(delay, signal);
    }
  }
}

function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Reads back an object already at `key`, re-verifying it; undefined when there is none or it fails.
 * Whether one exists is asked with a listing of exactly that key, not a HeadObject or GetObject: S3
 * answers a read of a missing key with 403, not 404, to a caller without s3:ListBucket, and the
 * ingest role holds s3:ListBucket only for prefixes under the archive layout (ARCHIVE_KEY_PREFIX),
 * which a read does not carry. A delete marker as the current version lists nothing: a new version
 * is written, as for a missing key.
 */
async function readBackExisting(
  s3: S3Client,
  bucket: string,
  key: string,
  expected: ExpectedIntegrity,
  signal: AbortSignal,
  log: Log,
): Promise<StoredObject | undefined> {
  // Keys sort by bytes, so the key itself comes before any longer key it is a prefix of.
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }), { abortSignal: signal });
  if (listed.Contents?.[0]?.Key !== key) return undefined;
  // The claim on the file keeps other deliveries from writing meanwhile, so the current version is the listed one.
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  const versionId = res.VersionId;
  const meter = new IntegrityMeter();
  if (res.Body) {
    for await (const chunk of res.Body as AsyncIterable<Uint8Array>) meter.update(chunk);
  }
  const digests = meter.digest();
  try {
    verifyIntegrity(expected, digests);
  } catch (err) {
    log.error('an object at the archive key does not match upstream; writing a new version', { key, error: describe(err) });
    return undefined;
  }
  log.info('adopted an object committed by an earlier delivery', { key, versionId });
  return { versionId, etag: res.ETag, digests, parts: 0 };
}

/** S3 user metadata must be ASCII and small: the filename goes in RFC 5987-encoded and bounded. */
function objectMetadata(fileId: string, source: FileSource, filename: string): Record<string, string> {
  let encoded = encodeRfc5987(filename);
  if (encoded.length > 1024) encoded = encoded.slice(0, 1024).replace(/%[0-9A-F]?$/, '');
  return { 'file-id': fileId, source, filename: encoded };
}
