import * as z from '../contracts/zod.js';
import type { HoldScope } from '../contracts/holds.js';
import { SEARCH_INDEXES, type SearchIndexKey } from '../contracts/search-index.js';
import { chatPartition } from '../contracts/table-keys.js';
import { MalformedJobError } from '../platform/errors.js';

/**
 * Where a matter's sweep reads its files: one source per selector of the scope, read in order, each
 * resumable from a cursor (docs/legal-hold-and-fixity.md, "The sweep"). The index table answers every
 * selector with a key condition, so a sweep reads the files its scope names, not the table:
 * - a user: the creator index (an upstream user id) or the creator-email index (an address, lowercased),
 *   shared/contracts/search-index.ts;
 * - a chat: the chat's listing partition (`CHAT#<chatId>`, one item per file listed in it);
 * - a project: the project index;
 * - file ids: the file items themselves (GetItem);
 * - a window alone (no list): the month index, one partition per month of the window.
 * The window (`from`, `to`) narrows every index source by its sort key (the file's search time, which
 * is the time scope matching uses: upstream's creation time, else the time the archive listed it).
 *
 * One source is a Scan: a window with no list and no `from`. The month index cannot list its months
 * and a record's time is whatever upstream stamped (an epoch-zero `created_at` is a real possibility),
 * so no first month is safe; such a window asks for everything before `to`, most of an archive, which
 * a Scan reads once. A window wider than MAX_SWEEP_MONTHS months is swept by a Scan for the same reason.
 *
 * Pure: the hold worker (hold-work.ts) reads the sources through its ports.
 */
export type SweepSource =
  | {
      kind: 'query';
      index: (typeof SWEEP_INDEXES)[number] | 'chat';
      partition: string;
      between: [string, string];
    }
  | { kind: 'fileIds'; ids: readonly string[] }
  | { kind: 'scan' };

/** The search indexes a sweep queries (the ingest role may Query these and no other). */
export const SWEEP_INDEXES = [
  'creator',
  'creatorEmail',
  'project',
  'month',
] as const satisfies readonly SearchIndexKey[];
export const SWEEP_INDEX_NAMES = SWEEP_INDEXES.map((key) => SEARCH_INDEXES[key].name);

/** A window alone is walked a month partition at a time up to this many months; wider, a Scan. */
export const MAX_SWEEP_MONTHS = 1200;

const EARLIEST = '0000-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';

/**
 * The sources of a scope's sweep, in the order they are read. `sweptAt` is when the sweep started (the
 * matter's placement, or its release): a window open at its end is walked up to the month after it.
 * Upstream stamps a file's creation time with its own clock, so a file created later is archived later
 * and held at ingest (hold-at-ingest.ts); the month after covers a clock a little ahead.
 */
export function sweepSources(scope: HoldScope, sweptAt: string): SweepSource[] {
  const between: [string, string] = [scope.from ?? EARLIEST, scope.to ?? LATEST];
  const sources: SweepSource[] = [];
  for (const user of unique(scope.users)) {
    sources.push(
      user.includes('@')
        ? { kind: 'query', index: 'creatorEmail', partition: user.toLowerCase(), between }
        : { kind: 'query', index: 'creator', partition: user, between },
    );
  }
  for (const chat of unique(scope.chats)) sources.push({ kind: 'query', index: 'chat', partition: chat, between });
  for (const project of unique(scope.projects))
    sources.push({ kind: 'query', index: 'project', partition: project, between });
  const ids = unique(scope.fileIds);
  if (ids.length > 0) sources.push({ kind: 'fileIds', ids });
  if (sources.length > 0) return sources;

  if (scope.from === undefined) return [{ kind: 'scan' }];
  // `to` is exclusive: its month is the month of the instant just before it.
  const last =
    scope.to === undefined ? nextMonth(sweptAt.slice(0, 7)) : new Date(Date.parse(scope.to) - 1).toISOString();
  const months = monthsBetween(scope.from.slice(0, 7), last.slice(0, 7));
  if (months === undefined) return [{ kind: 'scan' }];
  return months.map((month) => ({ kind: 'query', index: 'month', partition: month, between }));
}

function unique(list: readonly string[] | undefined): string[] {
  return [...new Set(list ?? [])];
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${String(y + 1).padStart(4, '0')}-01` : `${String(y).padStart(4, '0')}-${pad(m + 1)}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The months from `first` to `last` (YYYY-MM, both included); undefined when more than MAX_SWEEP_MONTHS. */
function monthsBetween(first: string, last: string): string[] | undefined {
  const months: string[] = [];
  for (let month = first; month <= last; month = nextMonth(month)) {
    if (months.length === MAX_SWEEP_MONTHS) return undefined;
    months.push(month);
  }
  return months;
}

/**
 * Where the sweep stands: the source (`s`, its position in sweepSources) and where in it: `k`, the
 * last key a Query returned; `o`, how many of the file ids are done; `c`, the Scan's own cursor.
 */
export interface SweepPosition {
  s: number;
  k?: Record<string, string>;
  o?: number;
  c?: string;
}

const PositionSchema = z.strictObject({
  s: z.number().check(z.int(), z.minimum(0)),
  k: z.optional(
    z.record(z.string().check(z.regex(/^[A-Za-z]{1,16}$/)), z.string().check(z.minLength(1), z.maxLength(1100))),
  ),
  o: z.optional(z.number().check(z.int(), z.minimum(1))),
  c: z.optional(z.string().check(z.minLength(1), z.maxLength(1500))),
});

export function encodeSweepPosition(position: SweepPosition): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * The position a hold-work message's cursor names (the first source when none), checked against this
 * sweep's sources: a cursor this worker did not write for them (a forged or corrupted message) is a
 * MalformedJobError, which dead-letters the message with its reason instead of reading elsewhere.
 */
export function decodeSweepPosition(cursor: string | undefined, sources: readonly SweepSource[]): SweepPosition {
  if (cursor === undefined) return { s: 0 };
  const bad = (why: string) => new MalformedJobError(`hold-work cursor: ${why}`);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('not base64url');
  let parsed: SweepPosition;
  try {
    parsed = PositionSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))) as SweepPosition;
  } catch {
    throw bad('not a sweep position');
  }
  const source = sources[parsed.s];
  if (source === undefined) throw bad(`no source ${parsed.s} in this matter's scope`);
  const given = [parsed.k, parsed.o, parsed.c].filter((v) => v !== undefined).length;
  if (given > 1) throw bad('more than one position within the source');
  if (source.kind === 'fileIds') {
    if (parsed.k !== undefined || parsed.c !== undefined || (parsed.o ?? 0) >= source.ids.length)
      throw bad('not a position among the file ids');
  } else if (source.kind === 'scan') {
    if (parsed.k !== undefined || parsed.o !== undefined) throw bad('not a Scan position');
  } else {
    if (parsed.o !== undefined || parsed.c !== undefined) throw bad('not a Query position');
    if (parsed.k !== undefined) checkQueryKey(parsed.k, source, bad);
  }
  return parsed;
}

/** A Query's start key must be a key of its own index and partition: the table's pk/sk plus the index's. */
function checkQueryKey(
  key: Record<string, string>,
  source: Extract<SweepSource, { kind: 'query' }>,
  bad: (why: string) => Error,
): void {
  const index = source.index === 'chat' ? undefined : SEARCH_INDEXES[source.index];
  const allowed = index ? ['pk', 'sk', index.partitionKey, index.sortKey] : ['pk', 'sk'];
  if (Object.keys(key).some((k) => !allowed.includes(k))) throw bad('a key of another index');
  const partition = index ? key[index.partitionKey] : key['pk'];
  const expected = index ? source.partition : chatPartition(source.partition);
  if (partition !== expected) throw bad('a key of another partition');
}
