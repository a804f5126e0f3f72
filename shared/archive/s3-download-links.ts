import type { ArchivedObjectRef, DownloadSigner } from './archive-store.js';
import { contentDisposition } from './content-disposition.js';
import type { S3UrlSigner } from './s3-url-signer.js';

/**
 * Presigned GETs of archived versions: all the lookup does with the archive bucket on its frequent
 * routes. Signed in process (shared/archive/s3-url-signer.ts), without an S3 client.
 */
export class S3DownloadSigner implements DownloadSigner {
  constructor(private readonly urls: S3UrlSigner) {}

  presignDownload(ref: ArchivedObjectRef, ttlSeconds: number): Promise<string> {
    return this.urls.presignGetObject(
      {
        Bucket: ref.bucket,
        Key: ref.key,
        ...(ref.versionId ? { VersionId: ref.versionId } : {}),
        ResponseContentDisposition: ref.contentDisposition,
        ResponseContentType: ref.contentType,
      },
      ttlSeconds,
    );
  }
}

/** A short-lived link to a completed export bag in `bucket`, downloaded as `filename` (a ZIP). */
export function exportBagLinks(
  urls: S3UrlSigner,
  bucket: string,
): (key: string, ttlSeconds: number, filename: string) => Promise<string> {
  return (key, ttlSeconds, filename) =>
    urls.presignGetObject(
      {
        Bucket: bucket,
        Key: key,
        ResponseContentDisposition: contentDisposition(filename),
        ResponseContentType: 'application/zip',
      },
      ttlSeconds,
    );
}
