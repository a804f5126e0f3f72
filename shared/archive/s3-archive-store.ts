import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { judgeReadBack } from './archive-store.js';
import type { ArchiveObject, ArchiveStore, ReadBack, StoredObject, WriteHooks } from './archive-store.js';
import { IntegrityMeter } from './integrity.js';
import type { ExpectedIntegrity } from './integrity.js';
import { writeVerifiedObject } from './verified-writer.js';

export interface UploadSettings {
  /** Multipart part size when the file's size does not call for a larger one. */
  defaultPartBytes: number;
  /**
   * Parts in flight at once; one file holds up to (concurrency + 1) part buffers (in flight, being filled); the
   * deployment check budgets one more.
   */
  concurrency: number;
}

/**
 * The archive bucket over S3: verified writes (shared/archive/verified-writer.ts) and read-back. The
 * lookup's presigned downloads are shared/archive/s3-download-links.ts (no S3 client).
 */
export class S3ArchiveStore implements ArchiveStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly upload: UploadSettings,
  ) {}

  writeVerified(
    body: AsyncIterable<Uint8Array>,
    object: ArchiveObject,
    expected: ExpectedIntegrity,
    signal: AbortSignal,
    hooks: WriteHooks = {},
  ): Promise<StoredObject> {
    return writeVerifiedObject(body, { bucket: this.bucket, ...object }, expected, signal, {
      s3: this.s3,
      ...this.upload,
      ...(hooks.onAbortFailure ? { onAbortFailure: hooks.onAbortFailure } : {}),
    });
  }

  /**
   * Whether `key` holds an object is asked with a listing of exactly that key, not a HeadObject or
   * GetObject: S3 answers a read of a missing key with 403, not 404, to a caller without
   * s3:ListBucket, and the ingest role holds s3:ListBucket only for prefixes under the archive layout
   * (ARCHIVE_KEY_PREFIX), which a read does not carry. A delete marker as the current version lists
   * nothing, so a new version is written, as for a missing key.
   */
  async readBackVerified(key: string, expected: ExpectedIntegrity, signal: AbortSignal): Promise<ReadBack> {
    // Keys sort by bytes, so the key itself comes before any longer key it is a prefix of.
    const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }), {
      abortSignal: signal,
    });
    if (listed.Contents?.[0]?.Key !== key) return { kind: 'absent' };
    // The caller holds the file's claim, so no other delivery writes meanwhile: the current version is the listed one.
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    const meter = new IntegrityMeter();
    if (res.Body) {
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) meter.update(chunk);
    }
    return judgeReadBack(expected, meter.digest(), { versionId: res.VersionId, etag: res.ETag });
  }
}
