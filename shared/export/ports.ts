/**
 * What an export needs of the world (ports): no SDK type crosses them. The S3 and DynamoDB
 * implementations are shared/archive/s3-export-store.ts and shared/index/dynamodb-export-jobs.ts.
 */
import type { ArchivedRecord, FileRecord } from '../contracts/file-records.js';
import type { LedgerRecord, UpstreamDeletionRecord } from '../contracts/discovery-ledger.js';
import type { ExportCounts, ExportJob } from '../contracts/exports.js';
import type { Matter } from '../contracts/holds.js';
import type { TrailEvent } from '../lookup/access-trail.js';
import type { CandidateReads } from './candidate-reads.js';

/** The export jobs (one item each in the index table). */
export interface ExportJobStore {
  /** Creates the job; false when one with its id exists. */
  create(job: ExportJob): Promise<boolean>;
  get(exportId: string): Promise<ExportJob | undefined>;
  update(
    exportId: string,
    patch: Partial<Pick<ExportJob, 'status' | 'counts' | 'runs' | 'bag' | 'error'>> & { updatedAt: string },
  ): Promise<void>;
  /**
   * Takes the job for one run (a lease until `untilMs`), unless another run holds a live lease: a
   * duplicate delivery of the queue message must not write the same bag at the same time.
   */
  claim(exportId: string, owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  release(exportId: string, owner: string): Promise<void>;
}

/** Which files a selection takes (the file records, in a stable order), read from the index. */
export interface ScopeReader {
  /** Every file record these reads give (a superset of the selection: the caller filters with `selects`). */
  candidates(reads: CandidateReads): AsyncIterable<FileRecord>;
  get(fileId: string): Promise<FileRecord | undefined>;
}

/** A legal-hold matter as recorded (`POST /holds`), or undefined when no matter has this id. */
export type MatterLookup = (matterId: string) => Promise<Matter | undefined>;

/** Where the bag and the export's work files go (the exports bucket), and where payload bytes come from. */
export interface ExportStorage {
  readonly bucket: string;
  /** The exact archived version's bytes. */
  readArchived(
    ref: { bucket: string; key: string; versionId: string | null },
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array>>;
  putJson(key: string, value: unknown): Promise<void>;
  getJson(key: string): Promise<unknown>;
  putBytes(key: string, bytes: Uint8Array): Promise<void>;
  getBytes(key: string): Promise<Uint8Array>;
  /** Keys under `prefix`, in key order. */
  list(prefix: string): Promise<string[]>;
  /** Multipart upload of the bag: parts may be sent again (the last send of a number wins). */
  startUpload(key: string): Promise<string>;
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    bytes: Uint8Array,
    signal: AbortSignal,
    /** The part's CRC-32 (S3's base64) when the caller has it; computed from `bytes` otherwise. */
    crc32Base64?: string,
  ): Promise<string>;
  completeUpload(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
    crc32Base64: string,
    size: number,
  ): Promise<void>;
  /** The completed bag, read back (its SHA-256 when the bag was written by more than one run). */
  readObject(key: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  crc32Base64: string;
}

/**
 * The access trail's events naming one file (the trail's file index), newest first, a page at a time:
 * `cursor` is the page's own, opaque; undefined on the last page.
 */
export interface FileTrailReader {
  page(fileId: string, limit: number, cursor: string | undefined): Promise<{ events: TrailEvent[]; cursor?: string }>;
}

/**
 * The evidence a chain-of-custody report gathers about a file, beside what its record carries (its
 * legal-hold marks and fixity events): upstream deletions, the discovery runs, the matters that
 * hold or held it, and the access trail's events naming it.
 */
export interface CustodySources {
  upstreamDeletions(ids: readonly string[]): Promise<UpstreamDeletionRecord[]>;
  /** Discovery ledger runs that may have found the file (docs/exports.md says which). */
  discoveryRuns(record: ArchivedRecord): Promise<LedgerRecord[]>;
  /** Every matter (placed or released), oldest id first: read once per run of an export. */
  matters(): Promise<Matter[]>;
  trail: FileTrailReader;
}

export type { ExportCounts };
