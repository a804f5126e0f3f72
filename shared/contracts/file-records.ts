import type { FixityEvent, FixitySummary } from './fixity.js';
import type { LegalHoldEntry } from './holds.js';
import type { FileSource } from './ids.js';

/** Why no copy of a file exists. These are final: retrying cannot produce one. */
export type UnavailableReason = 'not_found' | 'expired' | 'not_downloadable';

/**
 * Why the archiver stopped trying to copy a file that may well exist: upstream said a retry cannot
 * succeed (`x-should-retry: false`), upstream published no size and served more than the configured
 * maximum (`too_large`), or the job used up its receives and went to the dead-letter queue. Not
 * final: a new job, or a redrive of the dead letter, claims the file again.
 */
export type FailedReason = 'not_retryable' | 'too_large' | 'dead_lettered';

/** A person upstream names (`user {id, email_address}`): the creator of a chat, project or document. */
export interface UpstreamUser {
  id: string;
  /** Null where upstream gives no address. */
  emailAddress: string | null;
}

/**
 * Who and where a file came from, as upstream said when discovery read it. Every field is optional so
 * records written before they were kept still parse; a record gains them when its file is seen again.
 * `null` means upstream said null (or did not say), absent means not yet read.
 */
export interface RecordProvenance {
  /** The creator of the chat, project or document the file was found in. */
  creator?: UpstreamUser | null;
  /** The organization whose Compliance data the file was read from (`org_…`). */
  organizationId?: string | null;
  /** The project the file's chat belongs to, or the project it is attached to (`claude_proj_…`). */
  projectId?: string | null;
  /** For chat files: the ids of the messages the file appeared in. */
  messageIds?: string[];
}

interface RecordBase extends RecordProvenance {
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

/** The published `md5` and the `Content-MD5` header disagreed; the header is authoritative. */
export interface PublishedMd5Mismatch {
  /** The metadata `md5` (lowercase hex), which the archived bytes do not match. */
  metadataMd5: string;
  /** The `Content-MD5` header as lowercase hex: the MD5 of the archived bytes. */
  contentMd5: string;
}

/** A verified copy exists in S3. */
export interface ArchivedRecord extends RecordBase {
  status: 'archived';
  filename: string;
  sizeBytes: number;
  md5: string;
  sha256: string;
  /**
   * Base64 CRC-32 of the whole object, the FULL_OBJECT checksum S3 verified at the write and keeps
   * with the object (HeadObject with ChecksumMode ENABLED, GetObjectAttributes): a fixity audit can
   * compare the two without downloading. Absent in records written before it was kept.
   */
  crc32?: string;
  bucket: string;
  key: string;
  /** Null where the bucket is not versioned (some local servers). */
  versionId: string | null;
  contentType: string;
  contentDisposition: string;
  archivedAt: string;
  /** Present only when upstream published two different MD5s; the bytes matched `Content-MD5`. */
  publishedMd5Mismatch?: PublishedMd5Mismatch;
  /**
   * `none` when upstream published no hash to verify the bytes against: a project document, whose
   * text arrives inside JSON (source `project_document`). Its md5, sha256 and crc32 are the archiver's
   * own, over the stored bytes (the UTF-8 encoding of the text), which S3 checked again at the write;
   * `upstreamRequestId` names the answer they came from. Absent for every other file.
   */
  upstreamHash?: 'none';
  /**
   * The matters holding this version (S3 Object Lock legal hold ON), by matter id. The S3 legal hold
   * is turned off only when the last one is released (shared/holds/). Absent when none ever held it.
   */
  legalHolds?: Record<string, LegalHoldEntry>;
  /** The latest fixity check's outcome (shared/fixity/); absent until the copy was first checked. */
  fixity?: FixitySummary;
  /** The latest fixity checks, oldest first (at most MAX_FIXITY_EVENTS). */
  fixityEvents?: FixityEvent[];
}

/** Upstream said the file cannot be had; the record is the evidence that it existed and why. */
export interface UnavailableRecord extends RecordBase {
  status: 'unavailable';
  reason: UnavailableReason;
  detail: string;
  recordedAt: string;
}

/** The archiver gave up on the file (see FailedReason); `upstreamRequestId` is the last one seen. */
export interface FailedRecord extends RecordBase {
  status: 'failed';
  reason: FailedReason;
  /** The last error, in words safe to show an auditor. */
  detail: string;
  /** `error.type` and status of the last upstream error answer, when the last failure was one. */
  upstreamErrorType: string | null;
  upstreamStatus: number | null;
  failedAt: string;
}

/** Seen, not yet archived: a delivery holds it or a retry is due. */
export interface PendingRecord extends RecordBase {
  status: 'pending';
  attempts: number;
  lastError: string | null;
  /** The `request-id` of the last upstream answer before the last failure, when there was one. */
  lastUpstreamRequestId: string | null;
  firstSeenAt: string;
}

export type FileRecord = ArchivedRecord | UnavailableRecord | FailedRecord | PendingRecord;

/**
 * Fields that belong to one status only. A record that moves to another status drops every one of
 * them it does not set itself, so it never carries evidence of an earlier status (the reason of an
 * old `unavailable` beside a new archived copy, say). `attempts` and `firstSeenAt` stay: they are the
 * file's history, kept whatever its status.
 */
export const STATUS_FIELDS = [
  'md5',
  'sha256',
  'bucket',
  'key',
  'versionId',
  'contentType',
  'contentDisposition',
  'archivedAt',
  'publishedMd5Mismatch',
  'upstreamHash',
  'reason',
  'detail',
  'recordedAt',
  'upstreamErrorType',
  'upstreamStatus',
  'failedAt',
  'lastError',
  'lastUpstreamRequestId',
] as const;
