import { createHash } from 'node:crypto';
import * as z from '../contracts/zod.js';
import { InstantSchema, instantOf, pageLimitSchema } from './query-params.js';
import { ChatIdSchema } from '../contracts/ids.js';
import type { FileRecord } from '../contracts/file-records.js';
import {
  FIXITY_FAILED_KEY,
  indexedName,
  nameShard,
  SEARCH_INDEXES,
  type SearchIndexKey,
} from '../contracts/search-index.js';
import { chatPartition } from '../contracts/table-keys.js';
import { InvalidCursorError, RequestRejectedError } from '../platform/errors.js';

/**
 * The auditor's file search (GET /search/files, `archiver search`): validates the filters, picks the
 * one index that answers the combination with a key condition (never a Scan, never a filter over
 * more items than the page), and pages through it with an opaque cursor bound to the filters.
 *
 * Supported combinations (docs/lookup-api.md has the table of access patterns):
 * - one of creator (user id or email), chat, project, status, source, fixity (failed), sha256, md5,
 *   each with an optional period (from / to);
 * - the period alone (from, optional to): the month index, one partition per month;
 * - filename (a prefix, case-insensitive) alone, in filename order.
 * Anything else is a 400 that names these.
 */

/** A query on one partition of an index (or of the table, for a chat's listings). */
export interface IndexQuery {
  index: SearchIndexKey | 'chat';
  /** The partition key value. */
  partition: string;
  /** Inclusive range of the sort key (a search time), or a prefix of it (the filename index). */
  sort: { between: [string, string] } | { prefix: string };
  newestFirst: boolean;
  limit: number;
  startKey: Record<string, string> | undefined;
}

export interface IndexPage {
  records: FileRecord[];
  lastKey: Record<string, string> | undefined;
  /** Read capacity the query consumed, as DynamoDB reported it (0 when it does not report). */
  readUnits: number;
}

/** The search index as the use case sees it (a port; shared/index/dynamodb-file-search.ts). */
export interface FileSearchIndex {
  query(q: IndexQuery): Promise<IndexPage>;
}

export const FILE_STATUSES = ['pending', 'archived', 'unavailable', 'failed'] as const;
export const FILE_SOURCES = ['generated', 'uploaded', 'files_api'] as const;
export const SEARCH_ORDERS = ['newest', 'oldest'] as const;
/**
 * `fixity=failed`: archived files whose latest fixity check failed. Only `failed` is indexed (a sparse
 * index: search-index.ts), so `passed` is not a filter: nearly every checked file has passed.
 */
export const FIXITY_FILTERS = ['failed'] as const;

export const SEARCH_PAGE_DEFAULT = 25;
export const SEARCH_PAGE_MAX = 100;
/** The period alone walks month partitions; a page stops after this many, with a cursor to go on. */
export const MONTHS_PER_PAGE = 12;

export const SearchQuerySchema = z.object({
  creator: z.optional(
    z
      .string()
      .check(z.maxLength(320))
      .check(
        z.regex(/^([A-Za-z0-9_-]{1,200}|[^@\s]{1,200}@[^@\s]{1,200})$/, {
          message: 'creator must be a user id or an email address',
        }),
      ),
  ),
  chat: z.optional(ChatIdSchema),
  project: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,200}$/, { message: 'project must be a project id' }))),
  filename: z.optional(
    z
      .string()
      .check(z.minLength(1), z.maxLength(200))
      .check(z.regex(/^[^\u0000-\u001f\u007f]+$/, { message: 'filename must be a prefix of printable characters' })),
  ),
  sha256: z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, { message: 'sha256 must be 64 hex digits' }))),
  md5: z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{32}$/, { message: 'md5 must be 32 hex digits' }))),
  status: z.optional(z.enum(FILE_STATUSES, { error: `status must be one of ${FILE_STATUSES.join(', ')}` })),
  source: z.optional(z.enum(FILE_SOURCES, { error: `source must be one of ${FILE_SOURCES.join(', ')}` })),
  fixity: z.optional(z.enum(FIXITY_FILTERS, { error: `fixity must be ${FIXITY_FILTERS.join(', ')}` })),
  from: z.optional(InstantSchema),
  to: z.optional(InstantSchema),
  order: z.optional(z.enum(SEARCH_ORDERS, { error: `order must be one of ${SEARCH_ORDERS.join(', ')}` })),
  limit: z.optional(pageLimitSchema(SEARCH_PAGE_MAX)),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export type SearchQuery = z.infer<typeof SearchQuerySchema>;

/** The query parameters of GET /search/files, in the order the route contract lists them. */
export const SEARCH_QUERY_PARAMETERS = Object.keys(SearchQuerySchema.shape) as (keyof SearchQuery)[];

export const SUPPORTED_COMBINATIONS =
  'one of creator, chat, project, status, source, fixity, sha256 or md5, ' +
  'each optionally with from/to; from/to alone; or filename alone';

export interface SearchResult {
  files: FileRecord[];
  nextCursor: string | undefined;
  /** The access pattern that answered, e.g. `creator+period` (docs/lookup-api.md). */
  accessPattern: string;
  /** Read capacity consumed by the page's queries, as DynamoDB reported it. */
  readUnits: number;
}

type Anchor = 'creator' | 'chat' | 'project' | 'status' | 'source' | 'fixity' | 'sha256' | 'md5' | 'filename';
const ANCHORS: Anchor[] = ['creator', 'chat', 'project', 'status', 'source', 'fixity', 'sha256', 'md5', 'filename'];

/** One page of a search. `now` bounds a period without `to`. */
export async function searchFiles(index: FileSearchIndex, query: SearchQuery, now: Date): Promise<SearchResult> {
  const plan = planSearch(query, now);
  const limit = query.limit ?? SEARCH_PAGE_DEFAULT;
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, plan);
  if (plan.kind === 'single') {
    const page = await index.query({ ...plan.query, limit, startKey: cursor?.k });
    return {
      files: page.records,
      nextCursor: page.lastKey ? encodeCursor({ f: plan.fingerprint, k: page.lastKey }) : undefined,
      accessPattern: plan.accessPattern,
      readUnits: page.readUnits,
    };
  }
  // The period alone: month partitions, newest (or oldest) first, at most MONTHS_PER_PAGE per page.
  const months = plan.months;
  let position = cursor?.m === undefined ? 0 : months.indexOf(cursor.m);
  if (position < 0) throw new InvalidCursorError();
  let startKey = cursor?.k;
  const files: FileRecord[] = [];
  let readUnits = 0;
  for (let visited = 0; visited < MONTHS_PER_PAGE && position < months.length; visited++) {
    const month = months[position] as string;
    const page = await index.query({
      index: 'month',
      partition: month,
      sort: plan.sort,
      newestFirst: plan.newestFirst,
      limit: limit - files.length,
      startKey,
    });
    files.push(...page.records);
    readUnits += page.readUnits;
    if (page.lastKey) {
      if (files.length >= limit)
        return {
          files,
          nextCursor: encodeCursor({ f: plan.fingerprint, m: month, k: page.lastKey }),
          accessPattern: plan.accessPattern,
          readUnits,
        };
      startKey = page.lastKey;
      visited--;
      continue;
    }
    startKey = undefined;
    position++;
    if (files.length >= limit) break;
  }
  const next = months[position];
  return {
    files,
    nextCursor: next === undefined ? undefined : encodeCursor({ f: plan.fingerprint, m: next }),
    accessPattern: plan.accessPattern,
    readUnits,
  };
}

type Plan =
  | { kind: 'single'; query: Omit<IndexQuery, 'limit' | 'startKey'>; fingerprint: string; accessPattern: string }
  | {
      kind: 'months';
      months: string[];
      sort: { between: [string, string] };
      newestFirst: boolean;
      fingerprint: string;
      accessPattern: string;
    };

const EARLIEST = '0000-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';

/** Which index answers the filters, or a 400 naming the supported combinations. */
export function planSearch(query: SearchQuery, now: Date): Plan {
  const given = ANCHORS.filter((a) => query[a] !== undefined);
  const hasPeriod = query.from !== undefined || query.to !== undefined;
  const reject = (why: string) =>
    new RequestRejectedError('invalid_request', `${why}. Supported: ${SUPPORTED_COMBINATIONS}.`);
  if (given.length > 1) throw reject(`${given.join(' and ')} cannot be combined`);
  const from = query.from === undefined ? EARLIEST : instantOf(query.from, 'start');
  const to = query.to === undefined ? LATEST : instantOf(query.to, 'end');
  if (from > to) throw new RequestRejectedError('invalid_request', 'from must not be after to');
  const newestFirst = (query.order ?? 'newest') === 'newest';
  const fingerprint = fingerprintOf(query);
  const anchor = given[0];
  if (anchor === undefined) {
    if (!hasPeriod) throw reject('give at least one filter');
    if (query.from === undefined) throw reject('a period alone needs from');
    const upTo = query.to === undefined ? now.toISOString() : to;
    const months = monthsBetween(from.slice(0, 7), upTo.slice(0, 7));
    if (months.length === 0) throw new RequestRejectedError('invalid_request', 'from must not be after to');
    return {
      kind: 'months',
      months: newestFirst ? months.reverse() : months,
      sort: { between: [from, to] },
      newestFirst,
      fingerprint,
      accessPattern: 'period',
    };
  }
  if (anchor === 'filename') {
    if (hasPeriod || query.order !== undefined) throw reject('filename cannot be combined with from, to or order');
    const prefix = indexedName(query.filename) as string;
    return {
      kind: 'single',
      query: { index: 'filename', partition: nameShard(prefix), sort: { prefix }, newestFirst: false },
      fingerprint,
      accessPattern: 'filename',
    };
  }
  const value = query[anchor] as string;
  const [index, partition] = ((): [SearchIndexKey | 'chat', string] => {
    switch (anchor) {
      case 'creator':
        return value.includes('@') ? ['creatorEmail', value.toLowerCase()] : ['creator', value];
      case 'sha256':
      case 'md5':
        return [anchor, value.toLowerCase()];
      case 'fixity':
        return ['fixity', FIXITY_FAILED_KEY];
      default:
        return [anchor, value];
    }
  })();
  return {
    kind: 'single',
    query: { index, partition, sort: { between: [from, to] }, newestFirst },
    fingerprint,
    accessPattern: hasPeriod ? `${anchor}+period` : anchor,
  };
}

function monthsBetween(first: string, last: string): string[] {
  const months: string[] = [];
  let [y, m] = first.split('-').map(Number) as [number, number];
  while (months.length < 12 * 200) {
    const month = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
    if (month > last) break;
    months.push(month);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return months;
}

/** The filters (not the page size or cursor) a cursor is bound to. */
function fingerprintOf(query: SearchQuery): string {
  const { limit: _limit, cursor: _cursor, ...filters } = query;
  const canonical = Object.entries(filters)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 16);
}

const KEY_VALUE = z.string().check(z.minLength(1), z.maxLength(1100));
const CursorSchema = z.strictObject({
  f: z.string().check(z.length(16)),
  m: z.optional(z.string().check(z.regex(/^\d{4}-\d{2}$/))),
  k: z.optional(z.record(z.string().check(z.regex(/^[A-Za-z]{1,16}$/)), KEY_VALUE)),
});
type Cursor = z.infer<typeof CursorSchema>;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** A cursor this search issued for these filters; anything else is a 400. */
function decodeCursor(text: string, plan: Plan): Cursor {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new InvalidCursorError();
  let parsed: Cursor;
  try {
    const result = CursorSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    if (!result.success) throw new InvalidCursorError();
    parsed = result.data;
  } catch {
    throw new InvalidCursorError();
  }
  if (parsed.f !== plan.fingerprint) throw new InvalidCursorError();
  const indexKey: SearchIndexKey | 'chat' = plan.kind === 'single' ? plan.query.index : 'month';
  if (parsed.k !== undefined) {
    // The start key must be a key of this index and partition: the table's pk/sk plus the index's own.
    const allowed =
      indexKey === 'chat'
        ? ['pk', 'sk']
        : ['pk', 'sk', SEARCH_INDEXES[indexKey].partitionKey, SEARCH_INDEXES[indexKey].sortKey];
    if (Object.keys(parsed.k).some((k) => !allowed.includes(k))) throw new InvalidCursorError();
    const partitionAttribute = indexKey === 'chat' ? 'pk' : SEARCH_INDEXES[indexKey].partitionKey;
    let expected: string | undefined = parsed.m;
    if (plan.kind === 'single')
      expected = indexKey === 'chat' ? chatPartition(plan.query.partition) : plan.query.partition;
    if (parsed.k[partitionAttribute] !== expected) throw new InvalidCursorError();
  }
  if (plan.kind === 'months' && parsed.m === undefined) throw new InvalidCursorError();
  if (plan.kind === 'single' && (parsed.m !== undefined || parsed.k === undefined)) throw new InvalidCursorError();
  return parsed;
}
