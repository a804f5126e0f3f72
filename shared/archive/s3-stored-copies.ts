import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { CopyRef, StoredCopies } from '../fixity/check-copy.js';

/**
 * Fixity reads of one exact archived version. HeadObject with ChecksumMode ENABLED returns the
 * full-object CRC-32 S3 verified at the write and keeps with the object
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html); a read with
 * a VersionId needs s3:GetObjectVersion (HeadObject too). A version that is gone answers 404
 * (NoSuchVersion / NotFound) to a caller allowed to read it.
 */
export class S3StoredCopies implements StoredCopies {
  constructor(private readonly s3: S3Client) {}

  async head(copy: CopyRef, signal?: AbortSignal) {
    try {
      const res = await this.s3.send(
        new HeadObjectCommand({ ...target(copy), ChecksumMode: 'ENABLED' }),
        signal ? { abortSignal: signal } : {},
      );
      return { kind: 'found' as const, sizeBytes: res.ContentLength ?? -1, crc32: res.ChecksumCRC32 };
    } catch (err) {
      if (isMissing(err)) return { kind: 'missing' as const };
      throw err;
    }
  }

  async digest(copy: CopyRef, signal?: AbortSignal) {
    let res: GetObjectCommandOutput;
    try {
      res = await this.s3.send(new GetObjectCommand(target(copy)), signal ? { abortSignal: signal } : {});
    } catch (err) {
      if (isMissing(err)) return { kind: 'missing' as const };
      throw err;
    }
    const md5 = createHash('md5');
    const sha256 = createHash('sha256');
    let sizeBytes = 0;
    for await (const chunk of (res.Body as AsyncIterable<Uint8Array> | undefined) ?? []) {
      md5.update(chunk);
      sha256.update(chunk);
      sizeBytes += chunk.byteLength;
    }
    return { kind: 'found' as const, sizeBytes, md5Hex: md5.digest('hex'), sha256Hex: sha256.digest('hex') };
  }
}

function target(copy: CopyRef) {
  return { Bucket: copy.bucket, Key: copy.key, ...(copy.versionId ? { VersionId: copy.versionId } : {}) };
}

/**
 * A version that is gone: 404 to a caller allowed to list the bucket, 403 to one that is not (S3
 * hides whether a key exists from a caller without s3:ListBucket; the lookup role has none). A 403
 * is reported as missing too: a role that may read every version of the archive is refused only a
 * version that does not exist.
 */
function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return (
    ['NotFound', 'NoSuchKey', 'NoSuchVersion', 'AccessDenied', 'Forbidden'].includes(e.name ?? '') ||
    status === 404 ||
    status === 403
  );
}
