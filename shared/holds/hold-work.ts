import type { ArchivedRecord } from '../contracts/file-records.js';
import type { HoldWork, LegalHoldEntry, Matter } from '../contracts/holds.js';
import { inScope, serializeHoldWork } from '../contracts/holds.js';
import type { Log } from '../platform/telemetry.js';
import type { HeldFiles, HoldWorkSender, LegalHoldSwitch, MatterStore } from './ports.js';

/**
 * One page of a matter's sweep (a hold-work message): read up to `pageSize` index items, place or
 * release the matter's hold on each archived version the page holds, checkpoint the page on the
 * matter, then queue the next page. Every step is idempotent and the checkpoint is conditional on the
 * page, so a redelivered or duplicated message neither counts a page twice nor forks the sweep.
 */
export interface HoldWorkDeps {
  matters: MatterStore;
  files: HeldFiles;
  legalHolds: LegalHoldSwitch;
  work: HoldWorkSender;
  /** Index items read per message (a Scan page). */
  pageSize: number;
  now: () => number;
  log: Log;
}

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

  const page = await deps.files.scanArchived(
    work.cursor,
    deps.pageSize,
    work.action === 'release' ? work.matterId : undefined,
  );
  let matched = 0;
  let changed = 0;
  for (const record of page.records) {
    if (signal.aborted) throw signal.reason;
    if (work.action === 'place') {
      if (!inScope(record, matter.scope)) continue;
      matched++;
      if (await placeOne(record, matter, deps, signal)) changed++;
    } else {
      matched++;
      if (await releaseOne(record, matter.matterId, deps, signal)) changed++;
    }
  }
  const last = page.nextCursor === undefined;
  const at = new Date(deps.now()).toISOString();
  const next = {
    ...p,
    page: p.page + 1,
    sent: false,
    scanned: p.scanned + page.scanned,
    matched: p.matched + matched,
    changed: p.changed + changed,
    done: last,
    ...(last ? { finishedAt: at } : {}),
  };
  delete next.cursor;
  if (page.nextCursor !== undefined) next.cursor = page.nextCursor;
  if (!(await deps.matters.checkpoint(matter.matterId, { action: p.action, page: p.page }, next))) {
    return { kind: 'skipped', why: 'another delivery checkpointed this page' };
  }
  if (!last) await sendNext({ ...matter, progress: next }, deps, signal);
  deps.log.info('hold work page done', {
    matterId: matter.matterId,
    action: work.action,
    page: work.page,
    scanned: page.scanned,
    matched,
    changed,
    last,
  });
  return { kind: 'page', matched, changed, last };
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
 * this turns it on (releaseOne re-reads the record after turning it off). True when the record changed.
 */
async function placeOne(record: ArchivedRecord, matter: Matter, deps: HoldWorkDeps, signal: AbortSignal) {
  const had = record.legalHolds?.[matter.matterId] !== undefined;
  let current: ArchivedRecord | undefined = record;
  if (!had) {
    const entry: LegalHoldEntry = {
      matterId: matter.matterId,
      placedBy: matter.placedBy,
      placedAt: new Date(deps.now()).toISOString(),
      reason: matter.reason,
      via: 'matter',
    };
    current = await deps.files.addHold(record.fileId, entry);
  }
  // Set again when already recorded: a delivery may have died between the two steps.
  if (current) await deps.legalHolds.set(current, true, signal);
  return !had && current !== undefined;
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
