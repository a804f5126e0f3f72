import type { ArchivedRecord } from '../contracts/file-records.js';
import type { FixityEvent, FixityTier } from '../contracts/fixity.js';
import { FIXITY_TOOL_VERSION, MAX_FIXITY_EVENTS } from '../contracts/fixity.js';
import type { FileRecord } from '../contracts/file-records.js';
import { RequestRejectedError } from '../platform/errors.js';

/** The stored copy as the archive bucket reports it (the S3 side: shared/archive/s3-stored-copies.ts). */
export interface StoredCopies {
  /** HeadObject of the exact version with its full-object checksum. */
  head(
    copy: CopyRef,
    signal?: AbortSignal,
  ): Promise<{ kind: 'found'; sizeBytes: number; crc32: string | undefined } | { kind: 'missing' }>;
  /** The exact version's bytes, hashed. */
  digest(
    copy: CopyRef,
    signal?: AbortSignal,
  ): Promise<{ kind: 'found'; sizeBytes: number; md5Hex: string; sha256Hex: string } | { kind: 'missing' }>;
}

export type CopyRef = Pick<ArchivedRecord, 'bucket' | 'key' | 'versionId'>;

/** Where the events go: the record (the DynamoDB side: shared/index/dynamodb-fixity.ts). */
export interface FixityRecords {
  get(fileId: string): Promise<FileRecord | undefined>;
  /** Appends the event (keeping the newest MAX_FIXITY_EVENTS) and sets the summary; the record after. */
  record(fileId: string, event: FixityEvent): Promise<ArchivedRecord | undefined>;
}

export interface FixityDeps {
  copies: StoredCopies;
  records: FixityRecords;
  now: () => number;
}

const MISSING = 'the archived version is missing (S3 answered 404, or 403 to a role that may read every version)';

/** Checks one archived copy by `tier` against its record; never throws for a missing or changed copy. */
export async function checkCopy(
  record: ArchivedRecord,
  tier: FixityTier,
  deps: Pick<FixityDeps, 'copies' | 'now'>,
  signal?: AbortSignal,
): Promise<FixityEvent> {
  const base = { eventType: 'fixity check' as const, tier, versionId: record.versionId };
  const at = () => new Date(deps.now()).toISOString();
  if (tier === 'cheap') {
    const head = await deps.copies.head(record, signal);
    const tool = { tool: 'S3 HeadObject (ChecksumMode ENABLED)', toolVersion: FIXITY_TOOL_VERSION };
    if (head.kind === 'missing') {
      return { ...base, ...tool, at: at(), outcome: 'failed', detail: MISSING };
    }
    const problems: string[] = [];
    if (head.sizeBytes !== record.sizeBytes) problems.push(`size ${head.sizeBytes} != recorded ${record.sizeBytes}`);
    if (record.crc32 !== undefined && head.crc32 !== undefined && head.crc32 !== record.crc32)
      problems.push(`CRC-32 ${head.crc32} != recorded ${record.crc32}`);
    const compared =
      record.crc32 === undefined
        ? 'version and size (the record keeps no CRC-32)'
        : head.crc32 === undefined
          ? 'version and size (S3 returned no full-object CRC-32)'
          : 'version, size and full-object CRC-32';
    return problems.length > 0
      ? { ...base, ...tool, at: at(), outcome: 'failed', detail: problems.join('; ') }
      : { ...base, ...tool, at: at(), outcome: 'passed', detail: `${compared} match the record` };
  }
  const read = await deps.copies.digest(record, signal);
  const tool = {
    tool: 'GetObject + node:crypto MD5, SHA-256',
    toolVersion: `${FIXITY_TOOL_VERSION} (node ${process.versions.node})`,
  };
  if (read.kind === 'missing') {
    return { ...base, ...tool, at: at(), outcome: 'failed', detail: MISSING };
  }
  const problems: string[] = [];
  if (read.sizeBytes !== record.sizeBytes) problems.push(`size ${read.sizeBytes} != recorded ${record.sizeBytes}`);
  if (read.md5Hex !== record.md5) problems.push(`MD5 ${read.md5Hex} != recorded ${record.md5}`);
  if (read.sha256Hex !== record.sha256) problems.push(`SHA-256 ${read.sha256Hex} != recorded ${record.sha256}`);
  return problems.length > 0
    ? { ...base, ...tool, at: at(), outcome: 'failed', detail: problems.join('; ') }
    : { ...base, ...tool, at: at(), outcome: 'passed', detail: 'size, MD5 and SHA-256 of the bytes match the record' };
}

/** `POST /files/{fileId}/verify`: checks the file's archived copy and records the event on its record. */
export async function verifyFile(
  fileId: string,
  tier: FixityTier,
  deps: FixityDeps,
  signal?: AbortSignal,
): Promise<{ event: FixityEvent; record: ArchivedRecord }> {
  const record = await deps.records.get(fileId);
  if (!record) throw new RequestRejectedError('not_found', 'No file with this id has been seen.');
  if (record.status !== 'archived')
    throw new RequestRejectedError('not_archived', `No archived copy exists (status: ${record.status}).`);
  const event = await checkCopy(record, tier, deps, signal);
  const after = await deps.records.record(fileId, event);
  return { event, record: after ?? record };
}

/** The record's events with `event` appended, the oldest dropped beyond MAX_FIXITY_EVENTS. */
export function appendEvent(events: readonly FixityEvent[] | undefined, event: FixityEvent): FixityEvent[] {
  return [...(events ?? []), event].slice(-MAX_FIXITY_EVENTS);
}
