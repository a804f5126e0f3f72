import type { FileRecord } from './file-records.js';
import { KEY_PREFIXES } from './table-keys.js';
import { canonicalTimestamp } from './timestamps.js';

/**
 * The index table's global secondary indexes, defined once: the CDK table (infra/constructs/index-table.ts),
 * the local table (local/aws/resources.ts), the writers of the file item and the search and trail
 * readers all use this table. Every index is sparse: an item is in an index only when it carries the
 * index's partition key attribute, and only file items (FILE#…) and trail events (TRAIL#…) ever do
 * (the chat listings are copies of the record without these attributes: file-items.ts toRecord).
 * Every index projects ALL attributes, so a page is one Query and nothing else.
 *
 * The file item's search attributes (prefix `s`, all strings) are derived from the record by
 * searchAttributesOf() below and written by every write of the file item (shared/index/).
 */
export const SEARCH_INDEXES = {
  /** Files by the upstream id of their creator, in time order. */
  creator: { name: 'search-creator', partitionKey: 'sCreator', sortKey: 'searchAt' },
  /** Files by their creator's email address (lowercased), in time order. */
  creatorEmail: { name: 'search-creator-email', partitionKey: 'sEmail', sortKey: 'searchAt' },
  /** Files by project, in time order. */
  project: { name: 'search-project', partitionKey: 'sProject', sortKey: 'searchAt' },
  /** Files by status (pending, archived, unavailable, failed), in time order. */
  status: { name: 'search-status', partitionKey: 'sStatus', sortKey: 'searchAt' },
  /** Files by source (generated, uploaded, files_api), in time order. */
  source: { name: 'search-source', partitionKey: 'sSource', sortKey: 'searchAt' },
  /** Archived files by SHA-256 (lowercase hex), in time order. */
  sha256: { name: 'search-sha256', partitionKey: 'sSha256', sortKey: 'searchAt' },
  /** Archived files by MD5 (lowercase hex), in time order. */
  md5: { name: 'search-md5', partitionKey: 'sMd5', sortKey: 'searchAt' },
  /** Every file, by the month (YYYY-MM) of its search time, in time order: the period alone. */
  month: { name: 'search-month', partitionKey: 'sMonth', sortKey: 'searchAt' },
  /** Files by filename: partition = the lowercased name's first character, sort = the lowercased name. */
  filename: { name: 'search-filename', partitionKey: 'sNameShard', sortKey: 'sName' },
  /**
   * Archived files whose latest fixity check failed (`sFixity` = `failed`), in time order. Only those:
   * a check that passes removes the key, so the index holds the few files an auditor must look at, and
   * the audit's routine passes (every object, every 30 days) write nothing to it.
   */
  fixity: { name: 'search-fixity', partitionKey: 'sFixity', sortKey: 'searchAt' },
} as const;

/** The one value of `sFixity`: the latest fixity check of the archived copy failed. */
export const FIXITY_FAILED_KEY = 'failed';

export type SearchIndexKey = keyof typeof SEARCH_INDEXES;

/** The access trail's indexes: events by principal and by file, in time order (the trail's `sk`). */
export const TRAIL_INDEXES = {
  principal: { name: 'trail-principal', partitionKey: 'tPrincipal', sortKey: 'sk' },
  file: { name: 'trail-file', partitionKey: 'tFile', sortKey: 'sk' },
} as const;

export const ALL_INDEXES = [...Object.values(SEARCH_INDEXES), ...Object.values(TRAIL_INDEXES)];

/**
 * Version of the derivation below; `archiver reindex` rewrites file items written under an older one.
 * 3: an archived file without a usable creation time is searched (and swept) by its archive time.
 */
export const SEARCH_KEYS_VERSION = 3;

/** The attributes searchAttributesOf() may set, all removed from a record read back (toRecord). */
export const SEARCH_ATTRIBUTES = [
  'sCreator',
  'sEmail',
  'sProject',
  'sStatus',
  'sSource',
  'sSha256',
  'sMd5',
  'sMonth',
  'sNameShard',
  'sName',
  'sFixity',
  'searchAt',
  'searchV',
] as const;
export type SearchAttribute = (typeof SEARCH_ATTRIBUTES)[number];

/** Filenames are indexed lowercased and cut to this many characters (a GSI sort key holds at most 1024 bytes). */
export const INDEXED_NAME_LENGTH = 200;

/** What a write of the file item does to its search attributes: set these, remove those, leave the rest. */
export interface SearchAttributeUpdate {
  set: Partial<Record<SearchAttribute, string | number>>;
  remove: SearchAttribute[];
}

/**
 * The search attributes of a finished record. `searchAt`, the time the period filter and the time
 * order use, is upstream's creation time when it is an RFC 3339 timestamp; else, for an archived
 * file, when it was archived (`archivedAt`); else `fallbackAt` (the listing time the index keeps for
 * the chat listings, or when the archive recorded the file). That is the time the hold rules
 * (`inScope`, holds.ts) compare a matter's window with, so a sweep reading an index within the window
 * reaches every archived file the rules take (test/unit/hold-sweep-sources.test.ts checks it); before
 * version 3 a file archived long after it was first listed (first unavailable, say) sat under its
 * listing time and a windowed sweep could pass it by.
 * Provenance the record does not carry (`undefined`: not read yet) leaves the stored attributes as
 * they are; `null` removes them.
 */
export function searchAttributesOf(record: FileRecord, fallbackAt: string): SearchAttributeUpdate {
  const set: SearchAttributeUpdate['set'] = {};
  const remove: SearchAttribute[] = [];
  const put = (name: SearchAttribute, value: string | null | undefined, keepWhenUndefined = false) => {
    if (value === undefined && keepWhenUndefined) return;
    if (value === undefined || value === null || value === '') remove.push(name);
    else set[name] = value;
  };
  const searchAt =
    canonicalTimestamp(record.createdAt) ??
    (record.status === 'archived' ? canonicalTimestamp(record.archivedAt) : null) ??
    canonicalTimestamp(fallbackAt) ??
    fallbackAt;
  set.searchAt = searchAt;
  set.sMonth = searchAt.slice(0, 7);
  set.sStatus = record.status;
  set.sSource = record.source;
  set.searchV = SEARCH_KEYS_VERSION;
  if (record.creator === undefined) {
    // Not read yet: keep what an earlier write stored.
  } else {
    put('sCreator', record.creator?.id ?? null);
    put('sEmail', record.creator?.emailAddress?.toLowerCase() ?? null);
  }
  put('sProject', record.projectId, true);
  put('sSha256', record.status === 'archived' ? record.sha256.toLowerCase() : null);
  put('sMd5', record.status === 'archived' ? record.md5.toLowerCase() : null);
  const name = indexedName(record.filename);
  put('sName', name);
  put('sNameShard', name === null ? null : nameShard(name));
  // The latest fixity outcome (the fixity writer sets and removes the key with each check it records).
  // A record that does not carry the summary leaves the key as it is, as a write of it leaves the summary.
  if (record.status !== 'archived') remove.push('sFixity');
  else if (record.fixity !== undefined) put('sFixity', fixityKeyOf(record.fixity.status));
  return { set, remove };
}

/** `sFixity` for a fixity outcome: set for a failure, absent (null) otherwise. */
export function fixityKeyOf(outcome: 'passed' | 'failed'): string | null {
  return outcome === 'failed' ? FIXITY_FAILED_KEY : null;
}

/** A filename as indexed: lowercased, at most INDEXED_NAME_LENGTH characters; null for none. */
export function indexedName(filename: string | null | undefined): string | null {
  if (!filename) return null;
  return Array.from(filename.toLowerCase()).slice(0, INDEXED_NAME_LENGTH).join('');
}

/** The filename index's partition: the first character (code point) of the lowercased name. */
export function nameShard(lowercasedName: string): string {
  return Array.from(lowercasedName)[0] ?? '';
}

// ---------------------------------------------------------------------------------------------------
// The access trail: one item per request to the lookup API, append-only.
//   pk = TRAIL#<YYYY-MM-DD> (the UTC day)   sk = <ISO time>#<event id>
// so a period is a key condition on one day partition each; tPrincipal and tFile (a file route's
// file id) feed the two trail indexes with the same sort key.

export const TRAIL_PARTITION_PREFIX = KEY_PREFIXES.trail;

export function trailPartition(day: string): string {
  return `${TRAIL_PARTITION_PREFIX}${day}`;
}

export function trailSortKey(at: string, eventId: string): string {
  return `${at}#${eventId}`;
}
