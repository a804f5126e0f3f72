import type { StoredObject } from '../archive/archive-store.js';
import { encodeRfc5987 } from '../archive/content-disposition.js';
import type { ExpectedIntegrity } from '../archive/integrity.js';
import type { FileSource } from '../contracts/ids.js';
import { describeError } from '../platform/errors.js';
import type { ArchiveDeps } from './archive-types.js';

/*
 * What every archiving path (archive-file.ts for streamed content, archive-document.ts for project
 * documents) does the same way with the object it stores.
 */

/** The object a crashed delivery left at `key`, when its bytes still match upstream's. */
export async function adoptExisting(
  key: string,
  expected: ExpectedIntegrity,
  signal: AbortSignal,
  deps: ArchiveDeps,
): Promise<StoredObject | undefined> {
  const found = await deps.store.readBackVerified(key, expected, signal);
  switch (found.kind) {
    case 'absent':
      return undefined;
    case 'mismatch':
      deps.log.error('an object at the archive key does not match upstream; writing a new version', {
        key,
        error: describeError(found.error),
      });
      return undefined;
    case 'verified':
      deps.log.info('adopted an object committed by an earlier delivery', { key, versionId: found.object.versionId });
      return found.object;
  }
}

/** S3 user metadata must be ASCII and small: the filename goes in RFC 5987-encoded and bounded. */
export function objectMetadata(fileId: string, source: FileSource, filename: string): Record<string, string> {
  let encoded = encodeRfc5987(filename);
  if (encoded.length > 1024) encoded = encoded.slice(0, 1024).replace(/%[0-9A-F]?$/, '');
  return { 'file-id': fileId, source, filename: encoded };
}
