import type { FileSource } from './ids.js';

/**
 * The archive bucket's key layout, defined once: the ingest path writes here, the ingest role's
 * s3:ListBucket grant is scoped to it, and tests read from here. One key per file,
 * `archive/<source>/<fileId>`, derived from validated ids only, never from the upstream filename.
 */
export const ARCHIVE_KEY_PREFIX = 'archive/';

export function objectKeyFor(source: FileSource, fileId: string): string {
  return `${ARCHIVE_KEY_PREFIX}${source}/${fileId}`;
}
