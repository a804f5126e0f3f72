import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { judgeReadBack } from './archive-store.js';
import type { ArchivedObjectRef, ArchiveObject, ArchiveStore, DownloadSigner, ReadBack, StoredObject, WriteHooks } from './archive-store.js';
import { IntegrityMeter } from './integrity.js';
import type { ExpectedIntegrity } from './integrity.js';
import { writeVerifiedObject } from './verified-writer.js';

export interface UploadSettings {
  /** Multipart part size when the file's size does not call for a larger one. */
  defaultPartBytes: number;
  /** Parts in flight at once; memory held is about (concurrency + 1) × part size. */
  concurrency: number;
}

/** Presigned GETs of archived versions: all the lookup Lambda does with the bucket. */
export class S3DownloadSigner implements DownloadSigner {
  constructor(protected readonly s3: S3Client) {}

  presignDownload(ref: ArchivedObjectRef, ttlSeconds: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ...(ref.versionId ? { VersionId: ref.versionId } : {}),
        ResponseContentDisposition: ref.contentDisposition,
        ResponseContentType: ref.contentType,
      }),
      { expiresIn: ttlSeconds },
    );
  }
}

/** The archive bucket over S3: verified writes (shared/archive/verified-writer.ts), read-back, presigning. */
export class S3ArchiveStore extends S3DownloadSigner implements ArchiveStore {
  constructor(
    s3: S3Client,
    readonly bucket: string,
    private readonly upload: UploadSettings,
  ) {
    super(s3);
  }

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

  async readBackVerified(key: string, expected: ExpectedIntegrity, signal: AbortSignal): Promise<ReadBack> {
    let versionId: string | undefined;
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      versionId = head.VersionId;
    } catch (err) {
      if (isNotFound(err)) return { kind: 'absent' };
      throw err;
    }
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }), { abortSignal: signal });
    const meter = new IntegrityMeter();
    if (res.Body) {
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) meter.update(chunk);
    }
    return judgeReadBack(expected, meter.digest(), { versionId, etag: res.ETag });
  }
}

/** S3 (and the local servers) report a missing key as NotFound (HEAD), NoSuchKey (GET) or a bare 404. */
export function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const name = 'name' in err ? err.name : undefined;
  const meta = '$metadata' in err ? err.$metadata : undefined;
  const status = typeof meta === 'object' && meta !== null && 'httpStatusCode' in meta ? meta.httpStatusCode : undefined;
  return name === 'NotFound' || name === 'NoSuchKey' || status === 404;
}
