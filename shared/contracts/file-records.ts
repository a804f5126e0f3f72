import type { FileSource } from './ids.js';

/** Why no copy of a file exists. These are final: retrying cannot produce one. */
export type UnavailableReason = 'not_found' | 'expired' | 'not_downloadable';

interface RecordBase {
  fileId: string;
  source: FileSource;
  /** Chats the file is listed under (uploaded files can belong to several; Files API files to none). */
  chatIds: string[];
  filename: string | null;
  mimeType: string | null;
  sizeBytes: number | null;
  /**
   * Upstream creation time, when upstream said: RFC 3339 UTC with milliseconds
   * (`2025-06-02T09:15:00.000Z`) when upstream's value is an RFC 3339 timestamp (finer digits are
   * truncated, offsets converted), otherwise upstream's string verbatim, kept as evidence.
   */
  createdAt: string | null;
  upstreamRequestId: string | null;
}

/** A verified copy exists in S3. */
export interface ArchivedRecord extends RecordBase {
  status: 'archived';
  filename: string;
  sizeBytes: number;
  md5: string;
  sha256: string;
  bucket: string;
  key: string;
  /** Null where the bucket is not versioned (some local servers). */
  versionId: string | null;
  contentType: string;
  contentDisposition: string;
  archivedAt: string;
}

/** Upstream said the file cannot be had; the record is the evidence that it existed and why. */
export interface UnavailableRecord extends RecordBase {
  status: 'unavailable';
  reason: UnavailableReason;
  detail: string;
  recordedAt: string;
}

/** Seen, not yet archived: a delivery holds it or a retry is due. */
export interface PendingRecord extends RecordBase {
  status: 'pending';
  attempts: number;
  lastError: string | null;
  firstSeenAt: string;
}

export type FileRecord = ArchivedRecord | UnavailableRecord | PendingRecord;
