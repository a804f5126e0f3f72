import type { ArchivedRecord } from '../../shared/contracts/file-records.js';

/**
 * An archived file record for unit tests: every field the type requires, with plain defaults (a
 * generated text file of one byte, zero digests, bucket `b`), so a test writes only the fields its
 * case is about. When the record type gains a required field, this is the one place to add it.
 * The key defaults to the archive's layout for the file id.
 */
export function archivedRecord(overrides: Partial<ArchivedRecord> = {}): ArchivedRecord {
  const fileId = overrides.fileId ?? 'claude_gen_file_0001';
  return {
    status: 'archived',
    fileId,
    source: 'generated',
    chatIds: [],
    filename: 'f.txt',
    mimeType: 'text/plain',
    sizeBytes: 1,
    createdAt: '2026-01-10T00:00:00.000Z',
    upstreamRequestId: null,
    md5: '0'.repeat(32),
    sha256: '0'.repeat(64),
    bucket: 'b',
    key: `archive/generated/${fileId}`,
    versionId: 'v1',
    contentType: 'text/plain',
    contentDisposition: 'attachment',
    archivedAt: '2026-01-11T00:00:00.000Z',
    ...overrides,
  };
}
