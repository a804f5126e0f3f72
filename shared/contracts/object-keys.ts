import type { FileSource } from './ids.js';

/**
 * The archive bucket's key layout, defined once: the ingest path writes here, the ingest role's
 * s3:ListBucket grant is scoped to it, and tests and the benchmark read from here. One key per file,
 * `archive/<source>/<fileId>`, derived from validated ids only, never from the upstream filename.
 * Versions of one key are the file's copies (a versioned bucket keeps each), so a redelivery must
 * adopt an existing object rather than write again.
 */
export const ARCHIVE_KEY_PREFIX = 'archive/';

export function objectKeyFor(source: FileSource, fileId: string): string {
  return `${ARCHIVE_KEY_PREFIX}${source}/${fileId}`;
}
