/**
 * A file's chain-of-custody report (JSON, one per exported file): where its bytes came from, what was
 * checked when it was archived and again when it was exported, and what else the archive knows of it.
 * Evidence a build does not record yet (legal holds, fixity events, the access trail) is stated as
 * such, never as an empty list.
 */
import type { Digests } from '../archive/integrity.js';
import type { ArchivedRecord } from '../contracts/file-records.js';
import type { LedgerRecord, UpstreamDeletionRecord } from '../contracts/discovery-ledger.js';
import type { CustodySources } from './ports.js';

export interface CustodyEvidence {
  upstreamDeletions: UpstreamDeletionRecord[];
  discoveryRuns: LedgerRecord[];
  holds: unknown[] | undefined;
  fixityEvents: unknown[] | undefined;
  accessTrail: unknown[] | undefined;
}

type Optional = { recorded: true; items: unknown[] } | { recorded: false; note: string };

function optional(items: unknown[] | undefined, what: string): Optional {
  return items === undefined
    ? { recorded: false, note: `this build does not record ${what}` }
    : { recorded: true, items };
}

export function custodyReport(
  record: ArchivedRecord,
  evidence: CustodyEvidence,
  ctx: { exportId: string; bagPath: string; exportedAt: string; digests: Digests; sources: CustodySources },
) {
  const mismatch = record.publishedMd5Mismatch;
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
    holds: optional(evidence.holds, 'legal holds'),
    fixityEvents: optional(evidence.fixityEvents, 'fixity events'),
    accessTrail: optional(evidence.accessTrail, 'an access trail reader'),
  };
}

/** What the custody reports of this build draw on, for the export's HTML page. */
export function custodySourceNames(sources: CustodySources): string[] {
  return [
    'the file index',
    'upstream deletions',
    'the discovery ledger',
    sources.holds ? 'legal holds' : 'legal holds: not recorded by this build',
    sources.fixityEvents ? 'fixity events' : 'fixity events: not recorded by this build',
    sources.accessTrail ? 'the access trail' : 'the access trail: not read by this build',
  ];
}
