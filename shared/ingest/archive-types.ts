import type { ArchiveStore } from '../archive/archive-store.js';
import type { ArchivedRecord, FailedRecord, UnavailableRecord } from '../contracts/file-records.js';
import type { FileIndex } from '../index/file-index.js';
import type { IngestHolds } from '../holds/hold-at-ingest.js';
import type { Log } from '../platform/telemetry.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';

/**
 * The types of archiving one file, in one module that both halves import: archive-file.ts (the use
 * case) and final-outcome.ts (the records it writes when a failure is final), so neither imports the
 * other's module for a type (no import cycle).
 */

export interface ArchiveDeps {
  upstream: UpstreamClient;
  index: FileIndex;
  store: ArchiveStore;
  /** How long a claim protects an archive in progress; longer than one invocation can run. */
  leaseMs: number;
  /** In-process attempts for a retryable upstream failure (the first included). */
  maxAttempts: number;
  /** The most bytes read of a file whose size upstream did not publish (UNSIZED_MAX_MIB). */
  maxUnsizedBytes: number;
  /** Legal holds at ingest: a copy an active matter selects is held before its record is written. */
  holds?: IngestHolds;
  log: Log;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** The delivery of the job being archived. */
export interface Delivery {
  /** Unique to this delivery: the claim on the file is held in its name. */
  owner: string;
  /** Deliveries of the message so far (1 on the first). */
  receiveCount: number;
  /** Aborts at the invocation's deadline. */
  signal: AbortSignal;
}

export type ArchiveOutcome =
  | { kind: 'archived'; record: ArchivedRecord; metadataRequested: boolean }
  | { kind: 'duplicate'; record: ArchivedRecord }
  | { kind: 'unavailable'; record: UnavailableRecord }
  | { kind: 'failed'; record: FailedRecord };
