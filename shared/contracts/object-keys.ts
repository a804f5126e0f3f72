import type { FileSource } from './ids.js';

/**
 * The archive bucket's key layout, defined once: the ingest path writes here, and tests and the
 * benchmark read from here. One key per file, `archive/<source>/<fileId>`, derived from validated
 * ids only, never from the upstream filename. Versions of one key are the file's copies (a
 * versioned bucket keeps each), so a redelivery must adopt an existing object rather than write again.
 */
export function objectKeyFor(source: FileSource, fileId: string): string {
  return `archive/${source}/${fileId}`;
}
