import { createHash } from 'node:crypto';
import { contentDisposition, sanitizeFilename, toWellFormed } from '../archive/content-disposition.js';
import type { ExpectedIntegrity } from '../archive/integrity.js';
import type { ArchivedRecord } from '../contracts/file-records.js';
import { objectKeyFor } from '../contracts/object-keys.js';
import { noteUpstreamRequestId } from '../platform/errors.js';
import type { FileMetadata } from '../upstream/file-metadata.js';
import type { ProjectDocument } from '../upstream/upstream-client.js';
import { adoptExisting, objectMetadata } from './archive-object.js';
import type { ArchiveDeps, ArchiveOutcome, Delivery } from './archive-types.js';
import type { IngestJob } from '../contracts/job.js';
import { recordIfFinal } from './final-outcome.js';
import { withInProcessRetries } from './in-process-retry.js';
import { provenanceOf } from './provenance.js';

/** Documents are plain text (the reference says `mime_type` is always `text/plain`); stored as UTF-8. */
const DOCUMENT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * Archives one project document (its claim is held): reads the document's JSON, stores the UTF-8
 * bytes of its `content` through the same verified writer as every file, and records it with its own
 * source (`project_document`). Upstream publishes no hash of the text on this endpoint, so the record
 * says so (`upstreamHash: 'none'`) and keeps the archiver's own MD5, SHA-256 and CRC-32 of the stored
 * bytes with the answer's `request-id`; the byte count is what the writer verifies (and S3 checks the
 * CRC-32 and Content-MD5 the writer sends). The creator on the record is the document's own `user`
 * (null when upstream says null); the project and organization come from the job. A 404 (deleted,
 * or never existed) is recorded `unavailable` like any file's.
 */
export async function archiveDocument(
  job: IngestJob,
  delivery: Delivery,
  claims: number,
  deps: ArchiveDeps,
): Promise<ArchiveOutcome> {
  const { signal } = delivery;
  const source = 'project_document' as const;
  let document: ProjectDocument;
  let requestId: string | undefined;
  try {
    const res = await withInProcessRetries(
      () => deps.upstream.fetchDocument(job.fileId, signal, deps.maxUnsizedBytes),
      {
        signal,
        receiveCount: delivery.receiveCount,
        maxAttempts: deps.maxAttempts,
        log: deps.log,
        sleep: deps.sleep,
        random: deps.random,
      },
    );
    document = res.document;
    requestId = res.requestId;
  } catch (err) {
    return recordIfFinal(err, job, source, delivery, null, deps);
  }

  const bytes = Buffer.from(toWellFormed(document.content), 'utf8');
  const filename = document.filename;
  const key = objectKeyFor(source, job.fileId);
  const object = {
    key,
    contentType: DOCUMENT_CONTENT_TYPE,
    contentDisposition: contentDisposition(filename),
    metadata: objectMetadata(job.fileId, source, sanitizeFilename(filename)),
  };
  // The bytes are in hand, so the expectation is exact: size and MD5 of what is being stored. The MD5
  // is ours, not upstream's: it guards the write and the adoption of an object a crash left behind.
  const expected: ExpectedIntegrity = {
    sizeBytes: bytes.byteLength,
    contentMd5Base64: createHash('md5').update(bytes).digest('base64'),
    metadataMd5Hex: null,
  };
  const metadata: FileMetadata = {
    fileId: job.fileId,
    source,
    chatIds: job.chatId ? [job.chatId] : [],
    filename,
    md5Hex: null,
    mimeType: 'text/plain',
    sizeBytes: bytes.byteLength,
    createdAt: document.createdAt,
    downloadable: true,
  };

  let stored = claims > 1 ? await adoptExisting(key, expected, signal, deps) : undefined;
  if (!stored) {
    try {
      stored = await deps.store.writeVerified(
        (async function* () {
          yield bytes;
        })(),
        object,
        expected,
        signal,
        {
          onAbortFailure: (err) =>
            deps.log.warn('could not abort the upload; the bucket lifecycle rule removes it', {
              key,
              error: String(err),
            }),
        },
      );
    } catch (err) {
      noteUpstreamRequestId(err, requestId);
      return recordIfFinal(err, job, source, delivery, metadata, deps);
    }
  }

  const record: ArchivedRecord = {
    status: 'archived',
    fileId: job.fileId,
    source,
    chatIds: metadata.chatIds,
    filename,
    mimeType: metadata.mimeType,
    sizeBytes: stored.digests.bytes,
    createdAt: document.createdAt,
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
    upstreamHash: 'none',
    ...provenanceOf(job),
    // The document's own creator outranks the project's the job carried.
    ...(document.creator !== undefined ? { creator: document.creator } : {}),
  };
  return { kind: 'archived', record: await deps.index.markArchived(record, delivery.owner), metadataRequested: true };
}
