import { contentDisposition, safeContentType, sanitizeFilename, toWellFormed } from '../archive/content-disposition.js';
import type { ExpectedIntegrity } from '../archive/integrity.js';
import type { ArchivedRecord, PublishedMd5Mismatch } from '../contracts/file-records.js';
import type { FileSource } from '../contracts/ids.js';
import type { IngestJob } from '../contracts/job.js';
import { objectKeyFor } from '../contracts/object-keys.js';
import {
  ClaimHeldError,
  describeError,
  describeForRecord,
  noteUpstreamRequestId,
  UnsizedFileTooLargeError,
  upstreamRequestIdOf,
} from '../platform/errors.js';
import { recordedCreatedAt } from '../upstream/file-metadata.js';
import type { FileMetadata } from '../upstream/file-metadata.js';
import type { ArchiveDeps, ArchiveOutcome, Delivery } from './archive-types.js';
import { holdNewCopy, holdSeenCopy } from '../holds/hold-at-ingest.js';
import { recordFinalOutcome, recordIfFinal } from './final-outcome.js';
import { provenanceOf } from './provenance.js';
import { archiveDocument } from './archive-document.js';
import { adoptExisting, objectMetadata } from './archive-object.js';
import { withInProcessRetries } from './in-process-retry.js';

/**
 * Archives one file: claims it, learns its metadata (from the job when complete, else upstream),
 * streams its content into the archive through the integrity checks, and indexes the result. A file
 * already archived is acknowledged without downloading; a file upstream says is gone, or that no
 * retry can fetch, is recorded as such (final-outcome.ts). Throws anything else for `decideFailure`
 * to act on; the claim is released first, noting the error and the last upstream request-id.
 */
export async function archiveFile(
  job: IngestJob,
  source: FileSource,
  delivery: Delivery,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  const now = deps.now ?? Date.now;
  const claim = await deps.index.claim(job.fileId, source, delivery.owner, now(), deps.leaseMs);
  if (claim.kind === 'archived') {
    // Seen again: the record gains any provenance this job carries, without a download.
    const record = await deps.index.ensureListed(job.fileId, job.chatId ? [job.chatId] : [], provenanceOf(job));
    if (record?.status !== 'archived') return { kind: 'duplicate', record: claim.record };
    // What it gained may bring it into an active matter's scope after that matter's sweep passed.
    if (deps.holds) {
      const held = await holdSeenCopy(record, deps.holds, new Date(now()).toISOString(), delivery.signal);
      if (held.added.length > 0)
        deps.log.info('held a copy seen again for active matters', { fileId: job.fileId, matters: held.added });
      return { kind: 'duplicate', record: held.record };
    }
    return { kind: 'duplicate', record };
  }
  if (claim.kind === 'held') throw new ClaimHeldError(Math.max(1_000, claim.leaseExpiresAtMs - now()));

  try {
    return await archiveClaimed(job, source, delivery, claim.attempts, deps);
  } catch (err) {
    await deps.index
      .release(job.fileId, delivery.owner, {
        error: describeForRecord(err),
        upstreamRequestId: upstreamRequestIdOf(err) ?? null,
      })
      .catch((releaseErr: unknown) =>
        deps.log.warn('could not release the claim', { fileId: job.fileId, error: describeError(releaseErr) }),
      );
    throw err;
  }
}

async function archiveClaimed(
  job: IngestJob,
  source: FileSource,
  delivery: Delivery,
  claims: number,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  if (source === 'project_document') return archiveDocument(job, delivery, claims, deps);
  const { signal } = delivery;
  const retrying = {
    signal,
    receiveCount: delivery.receiveCount,
    maxAttempts: deps.maxAttempts,
    log: deps.log,
    sleep: deps.sleep,
    random: deps.random,
  };
  // The request-id of the last upstream answer: every failure carries it to the logs and the record.
  let lastRequestId: string | undefined;
  const failed = (err: unknown, metadata: FileMetadata | null) => {
    noteUpstreamRequestId(err, lastRequestId);
    return recordIfFinal(err, job, source, delivery, metadata, deps);
  };
  const carried = carriedMetadata(job, source);
  let metadata: FileMetadata;
  if (carried) {
    metadata = carried;
  } else {
    try {
      const res = await withInProcessRetries(() => deps.upstream.fetchMetadata(job.fileId, source, signal), retrying);
      metadata = res.metadata;
      lastRequestId = res.requestId;
    } catch (err) {
      return failed(err, null);
    }
  }
  const chatIds = [...new Set([...metadata.chatIds, ...(job.chatId ? [job.chatId] : [])])].sort();
  metadata = { ...metadata, chatIds };

  if (!metadata.downloadable) {
    return recordFinalOutcome(
      job,
      source,
      delivery,
      { status: 'unavailable', reason: 'not_downloadable' },
      metadata,
      'upstream marks the file as not downloadable',
      deps,
    );
  }

  const key = objectKeyFor(source, job.fileId);
  const object = {
    key,
    contentType: safeContentType(metadata.mimeType),
    contentDisposition: contentDisposition(metadata.filename),
    metadata: objectMetadata(job.fileId, source, sanitizeFilename(metadata.filename)),
  };
  const expected: ExpectedIntegrity = {
    sizeBytes: metadata.sizeBytes,
    contentMd5Base64: undefined,
    metadataMd5Hex: metadata.md5Hex,
  };

  // A previous delivery may have committed the object and then died before indexing it. Adopting that
  // object (after re-verifying it) keeps the bucket at one version per file. Only a delivery that
  // claimed the file before could have written it: on the first claim there is nothing to look for,
  // and looking would cost an S3 request for every new file.
  let stored = claims > 1 ? await adoptExisting(key, expected, signal, deps) : undefined;
  let requestId = lastRequestId;
  let contentMd5: string | undefined;
  if (!stored) {
    try {
      const written = await withInProcessRetries(async () => {
        const content = await deps.upstream.openContent(job.fileId, source, signal);
        lastRequestId = content.requestId ?? lastRequestId;
        try {
          const onAbortFailure = (err: unknown) =>
            deps.log.warn('could not abort the multipart upload; the bucket lifecycle rule removes it', {
              key,
              error: describeError(err),
            });
          // Without a published size nothing else bounds the download (D3): cap it.
          const body = metadata.sizeBytes === null ? capped(content.body, deps.maxUnsizedBytes) : content.body;
          const written = await deps.store.writeVerified(
            body,
            object,
            { ...expected, contentMd5Base64: content.contentMd5 },
            signal,
            { onAbortFailure },
          );
          return { object: written, requestId: content.requestId, contentMd5: content.contentMd5 };
        } catch (err) {
          noteUpstreamRequestId(err, content.requestId);
          throw err;
        } finally {
          content.discard();
        }
      }, retrying);
      stored = written.object;
      requestId = written.requestId ?? requestId;
      contentMd5 = written.contentMd5;
    } catch (err) {
      return failed(err, metadata);
    }
  }

  const mismatch = publishedMd5Mismatch(metadata.md5Hex, contentMd5, stored.digests.md5Hex);
  if (mismatch) {
    deps.log.warn(
      'the published md5 disagrees with Content-MD5; archived the bytes that match Content-MD5 and recorded both',
      {
        key,
        upstreamRequestId: requestId,
        ...mismatch,
      },
    );
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
    crc32: stored.digests.crc32Base64,
    bucket: deps.store.bucket,
    key,
    versionId: stored.versionId ?? null,
    contentType: object.contentType,
    contentDisposition: object.contentDisposition,
    archivedAt: new Date((deps.now ?? Date.now)()).toISOString(),
    ...(mismatch ? { publishedMd5Mismatch: mismatch } : {}),
    ...provenanceOf(job),
  };
  // The object is committed: hold it for every active matter that selects it, then record it with
  // its holds. A failure here leaves the file claimed and retried; the retry adopts the object.
  const legalHolds = deps.holds ? await holdNewCopy(record, record, deps.holds, record.archivedAt, signal) : undefined;
  if (legalHolds) {
    record.legalHolds = legalHolds;
    deps.log.info('held at ingest for active matters', { key, matters: Object.keys(legalHolds) });
  }
  return {
    kind: 'archived',
    record: await deps.index.markArchived(record, delivery.owner),
    metadataRequested: !carried,
  };
}

/**
 * Upstream's two hashes disagree while the bytes matched the authoritative one, `Content-MD5` (the
 * writer verifies the metadata `md5` only when that header is absent): evidence worth keeping.
 */
function publishedMd5Mismatch(
  metadataMd5: string | null,
  contentMd5Header: string | undefined,
  archivedMd5: string,
): PublishedMd5Mismatch | undefined {
  if (metadataMd5 === null || contentMd5Header === undefined || metadataMd5 === archivedMd5) return undefined;
  return { metadataMd5, contentMd5: archivedMd5 };
}

/** The body, cut off with UnsizedFileTooLargeError as soon as it is longer than `maxBytes`. */
async function* capped(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let read = 0;
  for await (const chunk of body) {
    read += chunk.byteLength;
    if (read > maxBytes) throw new UnsizedFileTooLargeError(maxBytes);
    yield chunk;
  }
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
    createdAt: f.created_at === null ? null : recordedCreatedAt(f.created_at),
    downloadable: true,
  };
}
