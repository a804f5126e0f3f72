import { IntegrityError } from '../platform/errors.js';
import { verifyIntegrity } from './integrity.js';
import type { Digests, ExpectedIntegrity } from './integrity.js';

/**
 * The archive bucket as the use cases see it (a port): no SDK type crosses it. The S3 implementation
 * is shared/archive/s3-archive-store.ts; unit tests use an in-memory one.
 */
export interface ArchiveStore {
  /** The bucket every object of this store lives in; recorded with each archived file. */
  readonly bucket: string;

  /**
   * Streams `body` to `object.key`, hashing and counting it, and makes the object visible only when
   * the bytes match `expected`. Throws IntegrityError (nothing visible) when they do not.
   */
  writeVerified(
    body: AsyncIterable<Uint8Array>,
    object: ArchiveObject,
    expected: ExpectedIntegrity,
    signal: AbortSignal,
    hooks?: WriteHooks,
  ): Promise<StoredObject>;

  /** Reads back the object already at `key` (the latest version) and re-verifies it against `expected`. */
  readBackVerified(key: string, expected: ExpectedIntegrity, signal: AbortSignal): Promise<ReadBack>;
}

/** The one thing the lookup API needs of the bucket; it never writes (and its IAM role cannot). */
export interface DownloadSigner {
  /** A time-limited GET URL for exactly this version, answering with the stored headers. */
  presignDownload(ref: ArchivedObjectRef, ttlSeconds: number): Promise<string>;
}

/** What is stored with an object besides its bytes. */
export interface ArchiveObject {
  key: string;
  contentType: string;
  contentDisposition: string;
  /** User metadata stored with the object; values must be ASCII. */
  metadata: Record<string, string>;
}

export interface WriteHooks {
  /** Told when an incomplete upload could not be aborted (the bucket's lifecycle rule removes it). */
  onAbortFailure?: (err: unknown) => void;
}

/** A committed object: its version and the digests of the bytes that were verified. */
export interface StoredObject {
  versionId: string | undefined;
  etag: string | undefined;
  digests: Digests;
  parts: number;
}

export type ReadBack =
  | { kind: 'absent' }
  | { kind: 'verified'; object: StoredObject }
  /** An object is there but its bytes do not match `expected`. */
  | { kind: 'mismatch'; error: IntegrityError };

/** Where an archived copy is, as its record states it. */
export interface ArchivedObjectRef {
  bucket: string;
  key: string;
  /** Null where the bucket keeps no versions (some local servers): the latest object is served. */
  versionId: string | null;
  contentType: string;
  contentDisposition: string;
}

/** Judges an object read back whole: verified when its `digests` match `expected`, else a mismatch. */
export function judgeReadBack(
  expected: ExpectedIntegrity,
  digests: Digests,
  found: { versionId: string | undefined; etag: string | undefined },
): ReadBack {
  try {
    verifyIntegrity(expected, digests);
  } catch (err) {
    if (err instanceof IntegrityError) return { kind: 'mismatch', error: err };
    throw err;
  }
  return { kind: 'verified', object: { ...found, digests, parts: 0 } };
}
