import type { ArchivedRecord } from '../contracts/file-records.js';
import type { HoldWork, LegalHoldEntry, Matter } from '../contracts/holds.js';
import { inScope, serializeHoldWork } from '../contracts/holds.js';
import type { Log } from '../platform/telemetry.js';
import type { FileSearchIndex } from '../lookup/search-files.js';
import type { HeldFiles, HoldWorkSender, LegalHoldSwitch, MatterStore } from './ports.js';
import {
  decodeSweepPosition,
  encodeSweepPosition,
  type SweepPosition,
  type SweepSource,
  sweepSources,
} from './sweep-sources.js';

/**
 * One page of a matter's sweep (a hold-work message): read up to `pageSize` index items from the
 * scope's sources (sweep-sources.ts: the search indexes, a chat's listings, the file items of the
 * listed ids; a Scan only for a window open at its start), place or release the matter's hold on each
 * archived version they reach, checkpoint the page on the matter, then queue the next page. Every step
 * is idempotent and the checkpoint is conditional on the page, so a redelivered or duplicated message
 * neither counts a page twice nor forks the sweep; a file reached through two selectors is held once
 * (the record's entry is written only where absent).
 */
export interface HoldWorkDeps {
  matters: MatterStore;
  files: HeldFiles;
  /** The index table's key-condition reads: the search indexes and a chat's listings (no Scan). */
  search: FileSearchIndex;
  legalHolds: LegalHoldSwitch;
  work: HoldWorkSender;
  /** Index items read per message, at most. */
  pageSize: number;
  now: () => number;
  log: Log;
}

/**
 * Reads per message at most: a scope of many selectors that name few files (500 users, most with no
 * file in the window) moves on through several sources in one message, but a message stays short.
 */
export const MAX_READS_PER_PAGE = 50;

export type HoldWorkOutcome =
  | { kind: 'page'; matched: number; changed: number; last: boolean }
  | { kind: 'skipped'; why: string };

export async function processHoldWork(
  work: HoldWork,
  deps: HoldWorkDeps,
  signal: AbortSignal,
): Promise<HoldWorkOutcome> {
  const matter = await deps.matters.get(work.matterId);
  if (!matter) return { kind: 'skipped', why: 'no such matter' };
  const p = matter.progress;
  // A release supersedes a place sweep still running: its remaining pages have nothing to do.
  if (p.action !== work.action) return { kind: 'skipped', why: `the matter's sweep is now ${p.action}` };
  if (p.page > work.page) {
    // Done before; if the delivery that did it died before sending the next page, send it now.
    if (p.page === work.page + 1 && !p.sent && !p.done) await sendNext(matter, deps, signal);
    return { kind: 'skipped', why: 'page already done' };
  }
  if (p.page < work.page) return { kind: 'skipped', why: 'page ahead of the checkpoint' };
  // A message for the page after the last (a duplicate, or forged) must not start the sweep over.
  if (p.done) return { kind: 'skipped', why: 'the sweep is done' };

  const sources = sweepSources(matter.scope, p.startedAt);
  let position: SweepPosition | undefined = decodeSweepPosition(work.cursor, sources);
  if (sources.length === 0) position = undefined;
  let read = 0;
  let matched = 0;
  let changed = 0;
  const seen = new Set<string>();
  for (let reads = 0; position !== undefined && read < deps.pageSize && reads < MAX_READS_PER_PAGE; reads++) {
    const at: SweepPosition = position;
    const source = sources[at.s] as SweepSource;
    const batch = await readSource(source, at, deps.pageSize - read, work, deps);
    read += batch.read;
    for (const record of batch.records) {
      if (signal.aborted) throw signal.reason;
      // The same file through two selectors of one page: once is enough.
      if (seen.has(record.fileId)) continue;
      seen.add(record.fileId);
      if (work.action === 'place') {
        if (!inScope(record, matter.scope)) continue;
        matched++;
        if (await placeOne(record, matter, deps, signal)) changed++;
      } else {
        // The record as read says whether the matter holds it. Index reads are eventually consistent
        // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html),
        // normally a second behind; the release sweep starts after the ingest timeout (matters.ts).
        if (record.legalHolds?.[matter.matterId] === undefined) continue;
        matched++;
        if (await releaseOne(record, matter.matterId, deps, signal)) changed++;
      }
    }
    if (batch.next !== undefined) position = { s: at.s, ...batch.next };
    else position = at.s + 1 < sources.length ? { s: at.s + 1 } : undefined;
  }
  const last = position === undefined;
  const at = new Date(deps.now()).toISOString();
  const next = {
    ...p,
    page: p.page + 1,
    sent: false,
    scanned: p.scanned + read,
    matched: p.matched + matched,
    changed: p.changed + changed,
    done: last,
    ...(last ? { finishedAt: at } : {}),
  };
  delete next.cursor;
  if (position !== undefined) next.cursor = encodeSweepPosition(position);
  if (!(await deps.matters.checkpoint(matter.matterId, { action: p.action, page: p.page }, next))) {
    return { kind: 'skipped', why: 'another delivery checkpointed this page' };
  }
  if (!last) await sendNext({ ...matter, progress: next }, deps, signal);
  deps.log.info('hold work page done', {
    matterId: matter.matterId,
    action: work.action,
    page: work.page,
    scanned: read,
    matched,
    changed,
    last,
  });
  return { kind: 'page', matched, changed, last };
}

/** What one read of a source gave: the archived records, the items read, and where the source goes on. */
interface SourceBatch {
  records: ArchivedRecord[];
  read: number;
  next: Omit<SweepPosition, 's'> | undefined;
}

async function readSource(
  source: SweepSource,
  at: SweepPosition,
  limit: number,
  work: HoldWork,
  deps: HoldWorkDeps,
): Promise<SourceBatch> {
  switch (source.kind) {
    case 'query': {
      const page = await deps.search.query({
        index: source.index,
        partition: source.partition,
        sort: { between: source.between },
        newestFirst: false,
        limit,
        startKey: at.k,
      });
      return {
        records: page.records.filter((r): r is ArchivedRecord => r.status === 'archived'),
        read: page.records.length,
        next: page.lastKey ? { k: page.lastKey } : undefined,
      };
    }
    case 'fileIds': {
      const from = at.o ?? 0;
      const ids = source.ids.slice(from, from + limit);
      const records: ArchivedRecord[] = [];
      for (const id of ids) {
        const record = await deps.files.getArchived(id);
        if (record) records.push(record);
      }
      const done = from + ids.length;
      return { records, read: ids.length, next: done < source.ids.length ? { o: done } : undefined };
    }
    case 'scan': {
      const page = await deps.files.scanArchived(at.c, limit, work.action === 'release' ? work.matterId : undefined);
      return { records: page.records, read: page.scanned, next: page.nextCursor ? { c: page.nextCursor } : undefined };
    }
  }
}

async function sendNext(matter: Matter, deps: HoldWorkDeps, signal: AbortSignal): Promise<void> {
  const p = matter.progress;
  await deps.work.send(
    [
      serializeHoldWork({
        matterId: matter.matterId,
        action: p.action,
        page: p.page,
        ...(p.cursor ? { cursor: p.cursor } : {}),
      }),
    ],
    signal,
  );
  await deps.matters.markSent(matter.matterId, { action: p.action, page: p.page });
}

/**
 * Records the matter on the record first, then turns the version's legal hold on: a release racing
 * this one either sees the matter on the record (and leaves the hold on) or turns the hold off before
 * this turns it on (releaseOne re-reads the record after turning it off). The entry is written only
 * where the record has none for the matter, so a file reached again (another selector, a redelivered
 * page) keeps the time it was first held. True when this call added the entry.
 */
async function placeOne(record: ArchivedRecord, matter: Matter, deps: HoldWorkDeps, signal: AbortSignal) {
  if (record.legalHolds?.[matter.matterId] !== undefined) {
    // Set again: a delivery may have died between recording the entry and turning the hold on.
    await deps.legalHolds.set(record, true, signal);
    return false;
  }
  const entry: LegalHoldEntry = {
    matterId: matter.matterId,
    placedBy: matter.placedBy,
    placedAt: new Date(deps.now()).toISOString(),
    reason: matter.reason,
    via: 'matter',
  };
  const held = await deps.files.addHold(record.fileId, entry);
  if (!held) return false;
  await deps.legalHolds.set(held.record, true, signal);
  return held.added;
}

/**
 * Removes the matter from the record; turns the version's legal hold off only when no matter holds it
 * any more, then reads the record again and turns the hold back on if a matter was placed meanwhile.
 */
export async function releaseOne(
  record: ArchivedRecord,
  matterId: string,
  deps: Pick<HoldWorkDeps, 'files' | 'legalHolds'>,
  signal: AbortSignal,
): Promise<boolean> {
  const after = await deps.files.removeHold(record.fileId, matterId);
  if (!after) return false;
  if (Object.keys(after.legalHolds ?? {}).length > 0) return true;
  await deps.legalHolds.set(after, false, signal);
  const now = await deps.files.getArchived(record.fileId);
  if (now && Object.keys(now.legalHolds ?? {}).length > 0) await deps.legalHolds.set(now, true, signal);
  return true;
}
