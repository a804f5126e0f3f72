import type { ExportScope } from '../contracts/exports.js';
import type { HoldScope } from '../contracts/holds.js';
import { type SWEEP_INDEXES, SWEEP_INDEX_NAMES, sweepSources } from '../holds/sweep-sources.js';
import type { ExportSelection } from './scope.js';

/**
 * Where an export's first run reads the files its selection may take (docs/exports.md, "How an export
 * finds its files"). Pure: the DynamoDB adapter (shared/index/dynamodb-export-jobs.ts) performs the
 * reads; the export run keeps the files `selects` takes, so every plan here only has to give a
 * superset of the selection, never miss a file a Scan of every file item would have given to it.
 *
 * The plan reads the search indexes (shared/contracts/search-index.ts) with key conditions where that
 * is provably complete, and every file item (a Scan) where it is not:
 * - **named files or chats** (an export scope naming them, or a matter naming nothing else): the file
 *   items (GetItem) and each chat's whole listing partition, in the order named, as before;
 * - **a matter** naming users or projects: the sources of its sweep (`sweepSources`, the same function
 *   the hold worker reads, so the export reads where the hold read), each partition read whole. The
 *   sweep narrows them by the window on the index sort key, `searchAt`; the hold rules (`inScope`)
 *   narrow by the upstream creation time, else the archive time. Search keys version 3 index an
 *   archived file by that same time, but an item not yet reindexed from version 2 has the time the
 *   archive first listed it, so a window read of the partition could miss a file the hold rules take.
 *   A user is read through both the creator and
 *   the creator-email index: the hold rules match either with any user reference, whatever it looks like;
 * - **an export scope** (every criterion must hold, `matchesScope`): one criterion bounds the
 *   candidates. Users (creator and creator-email index per user), else projects (project index), each
 *   within the window; else a window with both ends (the month index, one partition per month, as the
 *   sweep walks it). The window is exact there: an export scope with a window takes only files with a
 *   usable upstream creation time, and for those `searchAt` is that time, canonical;
 * - **a matter narrowed by a scope**: whichever of the two plans reads fewer partitions (each is
 *   complete for its own selection, so for both); the matter's when they tie;
 * - **anything else is a Scan**: a window open at its start (no first month is safe), a window open at
 *   its end (a file stamped far ahead by upstream's clock lies past any month the walk could stop at),
 *   a window wider than MAX_SWEEP_MONTHS months, and a matter with a window alone (on an item of
 *   search keys version 2 the month index holds a file without a usable creation time under its
 *   listing time, the hold rules under its archive time).
 */
export type CandidateRead =
  | {
      kind: 'index';
      index: (typeof SWEEP_INDEXES)[number];
      partition: string;
      /** Inclusive bounds of the index sort key (`searchAt`); the whole partition when absent. */
      between?: readonly [string, string];
    }
  /** The chat's whole listing partition; each listed file's item is read (the listing is a copy). */
  | { kind: 'chat'; chatId: string }
  | { kind: 'fileIds'; ids: readonly string[] }
  | { kind: 'scan' };

export interface CandidateReads {
  reads: readonly CandidateRead[];
  /**
   * The order of the export's files: `read`, the order the reads give (the files and chats the caller
   * named, in the order named); `fileId`, by file id (any other plan: the same files in the same order
   * whichever indexes gave them, and whatever order a Scan returns items in).
   */
  order: 'read' | 'fileId';
}

/** The search indexes an export may Query (its role may Query these, the trail's file index, no other). */
export const EXPORT_SCOPE_INDEX_NAMES = SWEEP_INDEX_NAMES;

const SCAN: CandidateReads = { reads: [{ kind: 'scan' }], order: 'fileId' };
const EARLIEST = '0000-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';

/** The reads that give every file `selection` may take; `now` is when the export starts. */
export function candidateReads(selection: ExportSelection, now: string): CandidateReads {
  const { scope, matter } = selection;
  // An export scope's lists must all hold: its files are among those it names.
  if (scope?.fileIds || scope?.chats) return named(scope.fileIds ?? [], scope.chats ?? []);
  if (!matter) return scope ? scopeReads(scope, now) : SCAN;
  const held = matterReads(matter.scope, now);
  if (!scope) return held;
  const narrowed = scopeReads(scope, now);
  if (isScan(held)) return narrowed;
  if (isScan(narrowed)) return held;
  return narrowed.reads.length < held.reads.length ? narrowed : held;
}

function named(fileIds: readonly string[], chats: readonly string[]): CandidateReads {
  const reads: CandidateRead[] = [];
  if (fileIds.length > 0) reads.push({ kind: 'fileIds', ids: fileIds });
  for (const chatId of chats) reads.push({ kind: 'chat', chatId });
  return { reads, order: 'read' };
}

function isScan(plan: CandidateReads): boolean {
  return plan.reads.some((r) => r.kind === 'scan');
}

/** A hold scope's lists select ANY of: each list's files are read whole; a window alone is a Scan. */
function matterReads(held: HoldScope, now: string): CandidateReads {
  const selectors = [held.users, held.chats, held.projects, held.fileIds].some((l) => (l?.length ?? 0) > 0);
  if (!selectors) return SCAN;
  // Names alone bound it as before (the files, the chats' listings), in the order named.
  if (!held.users?.length && !held.projects?.length) return named(held.fileIds ?? [], held.chats ?? []);
  // The sweep routes a user reference by its `@` (and lowercases an address); the hold rules match any
  // reference against both the creator's id and address, so each is read through both indexes.
  const reads: CandidateRead[] = userReads(held.users ?? [], undefined);
  for (const source of sweepSources(held, now)) {
    if (source.kind === 'fileIds') reads.push({ kind: 'fileIds', ids: source.ids });
    else if (source.kind === 'scan') return SCAN;
    else if (source.index === 'chat') reads.push({ kind: 'chat', chatId: source.partition });
    else if (source.index === 'project') reads.push({ kind: 'index', index: 'project', partition: source.partition });
    // creator / creatorEmail: read above; month: only for a window alone, which is a Scan here.
  }
  return { reads: dedupe(reads), order: 'fileId' };
}

/** An export scope (every criterion must hold): the narrowest criterion the indexes answer exactly. */
function scopeReads(scope: ExportScope, now: string): CandidateReads {
  const window = windowOf(scope);
  if (window === 'empty') return { reads: [], order: 'fileId' };
  if (scope.users) return { reads: dedupe(userReads(scope.users, window)), order: 'fileId' };
  if (scope.projects) {
    const reads = [...new Set(scope.projects)].map(
      (partition): CandidateRead => ({ kind: 'index', index: 'project', partition, ...between(window) }),
    );
    return { reads, order: 'fileId' };
  }
  if (window === undefined || scope.from === undefined || scope.to === undefined) return SCAN;
  // The sweep's month walk of the same window, in canonical form (its bounds compare as strings).
  const sources = sweepSources({ from: window[0], to: window[1] }, now);
  const reads: CandidateRead[] = [];
  for (const source of sources) {
    if (source.kind !== 'query' || source.index !== 'month') return SCAN;
    reads.push({ kind: 'index', index: 'month', partition: source.partition, between: window });
  }
  return { reads, order: 'fileId' };
}

function userReads(users: readonly string[], window: readonly [string, string] | undefined): CandidateRead[] {
  return users.flatMap((user): CandidateRead[] => [
    { kind: 'index', index: 'creator', partition: user, ...between(window) },
    { kind: 'index', index: 'creatorEmail', partition: user.toLowerCase(), ...between(window) },
  ]);
}

function between(window: readonly [string, string] | undefined): { between?: readonly [string, string] } {
  return window === undefined ? {} : { between: window };
}

function dedupe(reads: CandidateRead[]): CandidateRead[] {
  const seen = new Set<string>();
  return reads.filter((read) => {
    const key = JSON.stringify(read);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The window of an export scope as inclusive bounds of `searchAt` (canonical timestamps, which compare
 * as strings in time order): `from` as the instant `matchesScope` compares (Date.parse), `to` likewise
 * (exclusive there; the bound takes its instant too, and `selects` drops a file exactly at it).
 * undefined when the scope sets no window; `empty` when no canonical time can fall in it.
 */
function windowOf(scope: ExportScope): readonly [string, string] | undefined | 'empty' {
  if (scope.from === undefined && scope.to === undefined) return undefined;
  // A bound Date.parse cannot read bounds nothing in matchesScope either (its comparisons are false).
  const from = (scope.from === undefined ? undefined : canonicalOf(scope.from)) ?? EARLIEST;
  const to = (scope.to === undefined ? undefined : canonicalOf(scope.to)) ?? LATEST;
  if (from > to) return 'empty';
  return [from, to];
}

/** An instant as `searchAt` holds it, clamped to the years a canonical timestamp can have. */
function canonicalOf(timestamp: string): string | undefined {
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return undefined;
  if (at < Date.parse(EARLIEST)) return EARLIEST;
  if (at > Date.parse(LATEST)) return LATEST;
  return new Date(at).toISOString();
}
