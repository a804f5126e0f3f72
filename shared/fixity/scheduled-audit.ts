import { createHash } from 'node:crypto';
import type { ArchivedRecord } from '../contracts/file-records.js';
import { METRIC } from '../contracts/metric-names.js';
import type { FixityEvent, FixityTier } from '../contracts/fixity.js';
import type { Counters, Log } from '../platform/telemetry.js';
import { checkCopy, type FixityDeps } from './check-copy.js';
import { FIXITY_DEEP_SAMPLE_PERCENT, FIXITY_ROTATION_DAYS } from '../contracts/lambda-environment.js';

/**
 * The scheduled fixity audit: every archived copy gets a cheap check (HeadObject with its checksum)
 * once per rotation, and a daily sample gets a deep check (re-read and rehash).
 *
 * Rotation: a file's position is a hash of its id, `position = uint32(SHA-256(fileId)) mod rotationDays`,
 * and the day's slice is `dayNumber mod rotationDays` (dayNumber: whole UTC days since the epoch).
 * Every file falls in exactly one slice, so `rotationDays` consecutive days check every file once.
 * Deep sample: `uint32(SHA-256(day + fileId)) / 2^32 < samplePercent / 100`, a fresh, reproducible draw per day.
 *
 * The pass walks the table one Scan page per step (every file item is read every day, only the
 * slice is checked: a full read of the index per day is the price of needing no extra index), with a
 * checkpoint after each page, so a run cut short by its timeout resumes where it stopped.
 */
export interface AuditSettings {
  rotationDays: number;
  samplePercent: number;
}

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = {
  rotationDays: FIXITY_ROTATION_DAYS.default,
  samplePercent: FIXITY_DEEP_SAMPLE_PERCENT.default,
};

const DAY_MS = 86_400_000;

export function dayNumber(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS);
}

function hash32(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/** The slice (0 … rotationDays-1) a file is checked in. */
export function rotationPosition(fileId: string, rotationDays: number): number {
  return hash32(fileId) % rotationDays;
}

/** Whether the file's cheap check falls on `day`. */
export function inTodaysSlice(fileId: string, day: number, rotationDays: number): boolean {
  return rotationPosition(fileId, rotationDays) === day % rotationDays;
}

/** Whether the file is in `day`'s deep sample. */
export function inDeepSample(fileId: string, day: number, samplePercent: number): boolean {
  return hash32(`${day}:${fileId}`) / 2 ** 32 < samplePercent / 100;
}

/** The tiers a file gets on `day` (deep alone when both fall: deep re-proves what cheap would). */
export function tiersFor(fileId: string, day: number, settings: AuditSettings): FixityTier[] {
  if (inDeepSample(fileId, day, settings.samplePercent)) return ['deep'];
  return inTodaysSlice(fileId, day, settings.rotationDays) ? ['cheap'] : [];
}

/** Where a pass stands: the day it checks, and the page to read next (absent: from the start). */
export interface AuditCheckpoint {
  day: number;
  startKey?: Record<string, unknown> | undefined;
  done: boolean;
}

export interface AuditPort {
  /** One page of archived file records, from `startKey`; `nextKey` absent at the end of the table. */
  page(
    startKey: Record<string, unknown> | undefined,
  ): Promise<{ records: ArchivedRecord[]; nextKey?: Record<string, unknown> | undefined }>;
  loadCheckpoint(): Promise<AuditCheckpoint | undefined>;
  saveCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
}

export interface AuditDeps extends FixityDeps {
  audit: AuditPort;
  counters: Counters;
  log: Log;
  /** Stop starting pages once this returns true (the Lambda's remaining time). */
  outOfTime: () => boolean;
  /** The archive bucket: a record naming another is logged and counted as an error, not read. */
  archiveBucket: string;
}

export interface AuditRunResult {
  day: number;
  checked: { cheap: number; deep: number };
  failed: number;
  /** Files whose check could not run (S3 or DynamoDB error); retried on their next slice. */
  errors: number;
  done: boolean;
}

/**
 * One run: resumes an unfinished pass (of whatever day it began), else starts today's unless today's
 * is already done; reads pages until the end of the table or out of time, saving the checkpoint after each.
 */
export async function runScheduledAudit(
  deps: AuditDeps,
  settings: AuditSettings = DEFAULT_AUDIT_SETTINGS,
): Promise<AuditRunResult> {
  const today = dayNumber(deps.now());
  const saved = await deps.audit.loadCheckpoint();
  let checkpoint: AuditCheckpoint = saved && (!saved.done || saved.day >= today) ? saved : { day: today, done: false };
  const result: AuditRunResult = {
    day: checkpoint.day,
    checked: { cheap: 0, deep: 0 },
    failed: 0,
    errors: 0,
    done: checkpoint.done,
  };
  if (checkpoint.done) return result;
  while (!deps.outOfTime()) {
    const page = await deps.audit.page(checkpoint.startKey);
    for (const record of page.records) {
      for (const tier of tiersFor(record.fileId, checkpoint.day, settings)) {
        await checkOne(record, tier, deps, result);
      }
    }
    checkpoint = { day: checkpoint.day, startKey: page.nextKey, done: page.nextKey === undefined };
    await deps.audit.saveCheckpoint(checkpoint);
    if (checkpoint.done) break;
  }
  result.done = checkpoint.done;
  deps.log.info('fixity audit run', { ...result });
  return result;
}

async function checkOne(record: ArchivedRecord, tier: FixityTier, deps: AuditDeps, result: AuditRunResult) {
  if (record.bucket !== deps.archiveBucket) {
    result.errors += 1;
    deps.log.warn('fixity check skipped: the record names another bucket', {
      fileId: record.fileId,
      bucket: record.bucket,
    });
    return;
  }
  let event: FixityEvent;
  try {
    event = await checkCopy(record, tier, deps);
    await deps.records.record(record.fileId, event);
  } catch (err) {
    // One file that cannot be checked (a throttle, a network error) never stops the rest.
    result.errors += 1;
    deps.log.warn('fixity check could not run', { fileId: record.fileId, tier, error: String(err) });
    return;
  }
  result.checked[tier] += 1;
  if (event.outcome === 'failed') {
    result.failed += 1;
    deps.counters.record(METRIC.fixityFailures, 1, 'Count');
    deps.log.error('fixity check failed', { fileId: record.fileId, tier, detail: event.detail });
  }
}
