/**
 * A file's chain-of-custody report (JSON, one per exported file): where its bytes came from, what was
 * checked when it was archived and again when it was exported, and what else the archive knows of it:
 * upstream deletions, the discovery runs, the legal-hold matters that hold (or held) this version,
 * the fixity checks recorded on it, and the access trail's events naming it.
 */
import type { Digests } from '../archive/integrity.js';
import type { ArchivedRecord } from '../contracts/file-records.js';
import type { LedgerRecord, UpstreamDeletionRecord } from '../contracts/discovery-ledger.js';
import { MAX_FIXITY_EVENTS } from '../contracts/fixity.js';
import { inScope } from '../contracts/holds.js';
import type { Matter } from '../contracts/holds.js';
import type { TrailEvent } from '../lookup/access-trail.js';
import type { CustodySources } from './ports.js';

/**
 * A report carries at most this many trail events (the newest), and the count of all of them: a file
 * read ten thousand times must not put ten thousand events in one worker's memory or one report.
 */
export const MAX_TRAIL_EVENTS_PER_REPORT = 1000;
/** Trail events read per Query while counting past the cap. */
const TRAIL_PAGE = 500;

/** One matter's hold on the exported version, as far as the archive knows it. */
export interface HoldEvidence {
  matterId: string;
  /**
   * `record`: the record carries the matter's hold mark (set when the S3 legal hold went on, removed when
   * it came off). `scope`: the record carries none, but the file is in the matter's scope and was
   * archived before the matter was released (a released matter's marks are removed; an active matter's
   * sweep may not have reached the file yet: `matterStatus` says which).
   */
  basis: 'record' | 'scope';
  /** Whether the record holds the matter's mark when the export read it. */
  heldNow: boolean;
  /** When and how this version was put on hold for the matter (from the mark; null without one). */
  heldAt: string | null;
  heldVia: 'matter' | 'ingest' | null;
  heldBy: string | null;
  reason: string;
  /** The matter as recorded (`POST /holds`); `unknown` when the mark names a matter the table no longer has. */
  matterStatus: 'active' | 'released' | 'unknown';
  placedBy: string | null;
  placedAt: string | null;
  releasedBy: string | null;
  releasedAt: string | null;
}

/** One access-trail event naming the file (GET /audit's fields, the request's own). */
export interface TrailEvidence {
  at: string;
  principal: string;
  action: string;
  status: number;
  errorType: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface CustodyEvidence {
  upstreamDeletions: UpstreamDeletionRecord[];
  discoveryRuns: LedgerRecord[];
  holds: HoldEvidence[];
  accessTrail: { total: number; events: TrailEvidence[] };
}

/**
 * Gathers a file's custody evidence. The matters are read once per gatherer (one run of an export:
 * a run lasts minutes and a matter placed meanwhile cannot hold a version the run already wrote).
 */
export function createEvidenceGatherer(sources: CustodySources): (record: ArchivedRecord) => Promise<CustodyEvidence> {
  let matters: Promise<Map<string, Matter>> | undefined;
  const matterMap = () => {
    matters ??= sources.matters().then((list) => new Map(list.map((m) => [m.matterId, m])));
    // A failed read is retried by the next file rather than failing every later one.
    matters.catch(() => {
      matters = undefined;
    });
    return matters;
  };
  return async (record) => {
    const [upstreamDeletions, discoveryRuns, byId, accessTrail] = await Promise.all([
      sources.upstreamDeletions([record.fileId, ...record.chatIds]),
      sources.discoveryRuns(record),
      matterMap(),
      trailOf(sources, record.fileId),
    ]);
    return { upstreamDeletions, discoveryRuns, holds: holdsOf(record, byId), accessTrail };
  };
}

/** The matters holding the version (its marks), then the matters whose scope covered it without a mark. */
export function holdsOf(record: ArchivedRecord, matters: ReadonlyMap<string, Matter>): HoldEvidence[] {
  const marks = record.legalHolds ?? {};
  const out: HoldEvidence[] = [];
  for (const entry of Object.values(marks).sort((a, b) => a.matterId.localeCompare(b.matterId))) {
    const m = matters.get(entry.matterId);
    out.push({
      matterId: entry.matterId,
      basis: 'record',
      heldNow: true,
      heldAt: entry.placedAt,
      heldVia: entry.via,
      heldBy: entry.placedBy,
      reason: entry.reason,
      matterStatus: m?.status ?? 'unknown',
      placedBy: m?.placedBy ?? null,
      placedAt: m?.placedAt ?? null,
      releasedBy: m?.releasedBy ?? null,
      releasedAt: m?.releasedAt ?? null,
    });
  }
  for (const m of matters.values()) {
    if (marks[m.matterId] || !inScope(record, m.scope)) continue;
    // Archived after the release: the matter never held this version.
    if (m.releasedAt !== undefined && record.archivedAt >= m.releasedAt) continue;
    out.push({
      matterId: m.matterId,
      basis: 'scope',
      heldNow: false,
      heldAt: null,
      heldVia: null,
      heldBy: null,
      reason: m.reason,
      matterStatus: m.status,
      placedBy: m.placedBy,
      placedAt: m.placedAt,
      releasedBy: m.releasedBy ?? null,
      releasedAt: m.releasedAt ?? null,
    });
  }
  return out;
}

/** The newest MAX_TRAIL_EVENTS_PER_REPORT events naming the file, and how many there are in all. */
async function trailOf(sources: CustodySources, fileId: string): Promise<CustodyEvidence['accessTrail']> {
  const events: TrailEvidence[] = [];
  let total = 0;
  let cursor: string | undefined;
  do {
    const limit =
      events.length < MAX_TRAIL_EVENTS_PER_REPORT ? MAX_TRAIL_EVENTS_PER_REPORT - events.length : TRAIL_PAGE;
    const page = await sources.trail.page(fileId, Math.min(limit, TRAIL_PAGE), cursor);
    total += page.events.length;
    for (const e of page.events) if (events.length < MAX_TRAIL_EVENTS_PER_REPORT) events.push(trailEvidence(e));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { total, events };
}

function trailEvidence(e: TrailEvent): TrailEvidence {
  return {
    at: e.at,
    principal: e.principal,
    action: e.action,
    status: e.status,
    errorType: e.errorType ?? null,
    sourceIp: e.sourceIp,
    userAgent: e.userAgent,
    requestId: e.requestId,
  };
}

export function custodyReport(
  record: ArchivedRecord,
  evidence: CustodyEvidence,
  ctx: { exportId: string; bagPath: string; exportedAt: string; digests: Digests },
) {
  const mismatch = record.publishedMd5Mismatch;
  const trail = evidence.accessTrail;
  return {
    exportId: ctx.exportId,
    fileId: record.fileId,
    bagPath: ctx.bagPath,
    source: record.source,
    filename: record.filename,
    mimeType: record.mimeType,
    sizeBytes: record.sizeBytes,
    createdAt: record.createdAt,
    chatIds: record.chatIds,
    projectId: record.projectId ?? null,
    creator: record.creator ?? null,
    organizationId: record.organizationId ?? null,
    messageIds: record.messageIds ?? [],
    upstream: {
      requestId: record.upstreamRequestId,
      // The archive recorded one MD5 unless the two upstream published disagreed (then Content-MD5 won).
      publishedMd5: mismatch ? mismatch.metadataMd5 : record.md5,
      contentMd5: mismatch ? mismatch.contentMd5 : record.md5,
      publishedMd5Mismatch: mismatch !== undefined,
    },
    archive: {
      bucket: record.bucket,
      key: record.key,
      versionId: record.versionId,
      archivedAt: record.archivedAt,
      md5: record.md5,
      sha256: record.sha256,
      crc32: record.crc32 ?? null,
    },
    export: {
      exportedAt: ctx.exportedAt,
      bytes: ctx.digests.bytes,
      md5: ctx.digests.md5Hex,
      sha256: ctx.digests.sha256Hex,
      crc32: ctx.digests.crc32Base64,
      matchesArchive: true,
    },
    upstreamDeletions: evidence.upstreamDeletions,
    discoveryRuns: evidence.discoveryRuns.map((r) => ({
      source: r.source,
      runId: r.runId,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      ending: r.ending,
      windowStart: r.windowStart,
      windowEnd: r.windowEnd,
      lastRequestId: r.lastRequestId,
    })),
    holds: evidence.holds,
    fixity: {
      // The record's summary counts every check; it keeps the newest MAX_FIXITY_EVENTS events.
      status: record.fixity?.status ?? 'never checked',
      lastCheckedAt: record.fixity?.lastCheckedAt ?? null,
      checks: record.fixity?.checks ?? 0,
      events: record.fixityEvents ?? [],
      eventsKept: `the newest ${MAX_FIXITY_EVENTS} checks; older ones are in the fixity function's logs`,
    },
    accessTrail: {
      total: trail.total,
      included: trail.events.length,
      ...(trail.total > trail.events.length
        ? { note: `the newest ${trail.events.length} of ${trail.total} events; GET /audit?fileId= has them all` }
        : {}),
      events: trail.events,
    },
  };
}

/** What every custody report draws on, for the export's HTML page. */
export const CUSTODY_SOURCES: readonly string[] = [
  'the file index (the record, its hashes and S3 version)',
  'upstream deletions',
  'the discovery ledger',
  'legal holds (the matters holding or having held each version: who placed each, when, why, its release)',
  `fixity events (the PREMIS-style checks recorded on each record, the newest ${MAX_FIXITY_EVENTS})`,
  `the access trail (every event naming the file: the newest ${MAX_TRAIL_EVENTS_PER_REPORT} and the count of all)`,
];
