import { Duration } from 'aws-cdk-lib';

/**
 * Timing constants shared by the stateful stack (queue visibility) and the stateless one (function
 * timeout), so the two cannot drift apart across separate deploys.
 */

/**
 * The ingest function streams one file of up to 500 MB (the Files API maximum) per job. At the
 * measured 50-90 MB/s a 500 MB file takes 6-10 s, but the upstream can be far slower (a 500 MB body
 * at 1 MB/s is 8.3 minutes) and a batch holds several jobs: 15 minutes, Lambda's maximum, leaves the
 * function time to finish or abort cleanly instead of timing out mid-upload.
 */
export const INGEST_TIMEOUT = Duration.minutes(15);

/**
 * Lambda's guidance for SQS event sources: a visibility timeout of at least six times the function
 * timeout, so a message is not redelivered while an earlier invocation (including the event source's
 * own retries on throttling) may still be working on it.
 */
export const INGEST_VISIBILITY_TIMEOUT = Duration.seconds(INGEST_TIMEOUT.toSeconds() * 6);

/**
 * The core's claim on a file outlives the longest possible invocation by a minute, so a racing
 * redelivery never takes over a file that is still being uploaded.
 */
export const INGEST_LEASE_SECONDS = INGEST_TIMEOUT.toSeconds() + 60;

/** Both queues keep messages for SQS's maximum, 14 days: long enough to survive an outage or a holiday. */
export const QUEUE_RETENTION = Duration.days(14);

/**
 * The lookup function answers one API request: a DynamoDB read or Query and, for /content, a local
 * presign (no S3 call). 512 MB gives enough CPU for a quick cold start; 10 s is far below API
 * Gateway's 29 s integration limit.
 */
export const LOOKUP_MEMORY_MB = 512;
export const LOOKUP_TIMEOUT = Duration.seconds(10);

/**
 * The webhook function answers one `POST /events`: a signature check, a DynamoDB claim, a few
 * SendMessageBatch calls and, for chat ids, upstream listing requests. 25 s stays under API Gateway's
 * 29 s integration limit with room for the function to answer 503 itself (it stops 2 s before its
 * timeout); the claim on a webhook-id outlives an invocation (CLAIM_LEASE_SECONDS, default 60 s).
 */
export const WEBHOOK_MEMORY_MB = 512;
export const WEBHOOK_TIMEOUT = Duration.seconds(25);

/**
 * Memory the ingest function needs besides the batch's upload buffers (MB): Node 24, the bundled
 * handler with its SDK clients, Powertools and the upstream agent, TLS and socket buffers, and garbage
 * not yet collected. docs/benchmark.md measures 127-150 MB of RSS for a process that has loaded the
 * same clients and moved one file, before the transfer's buffers; Lambda's runtime client adds its
 * own, and V8 releases Buffers only at the next GC, so the peak runs above the live set. 256 MB
 * covers that with room to spare, and still lets the default batch fit in the default 1024 MB.
 */
export const INGEST_RUNTIME_HEADROOM_MB = 256;

export interface IngestBatchShape {
  /** Jobs per invocation, all processed at once (Powertools' BatchProcessor runs records in parallel). */
  batchSize: number;
  /** Parts in flight per file (UPLOAD_CONCURRENCY). */
  uploadConcurrency: number;
  /** Multipart part size (PART_SIZE_MIB). */
  partSizeMib: number;
}

/**
 * The ingest function's memory need (MB): batchSize × (uploadConcurrency + 2) × partSizeMib + the
 * runtime headroom. One file holds its parts in flight and the part being filled (reused part
 * buffers, shared/archive/verified-writer.ts), plus about one part's worth of read chunks not yet
 * collected (measured: bench/, docs/benchmark.md); every record of a batch is archived
 * at once. (Lambda's "MB" are MiB, like the part size.) The part size is raised above the setting
 * only for a file over 10,000 parts (≥ 48.8 GiB at the 5 MiB minimum), far beyond the Files API's
 * 500 MB maximum.
 */
export function ingestMemoryNeedMb(shape: IngestBatchShape): number {
  return shape.batchSize * (shape.uploadConcurrency + 2) * shape.partSizeMib + INGEST_RUNTIME_HEADROOM_MB;
}

/**
 * The export worker runs an export until 60 s before this timeout, then checkpoints and queues the
 * next run (docs/exports.md): Lambda's maximum, so a run moves as many bytes as it can.
 */
export const EXPORT_TIMEOUT = Duration.minutes(15);
/** Six times the function timeout, as for ingest: a run still going is never raced by a redelivery. */
export const EXPORT_VISIBILITY_TIMEOUT = Duration.seconds(EXPORT_TIMEOUT.toSeconds() * 6);
/**
 * Part buffers ((concurrency + 1) × 5 MiB = 20 MiB; parts grow to 64 MiB only past 4,000 parts, a bag over
 * 73 GiB: 256 MiB) plus the runtime and the per-file lists.
 */
export const EXPORT_MEMORY_MB = 1024;

/**
 * The export function's V8 young generation: 4 MiB semi-spaces, where Lambda would give a 1024 MB
 * function about 51 MiB.
 *
 * Why: an export reads every archived byte through Node's HTTP client, which allocates a new Buffer
 * for each socket read. Those Buffers die at once, but their memory goes back only when the small
 * object holding each one is collected, and with large semi-spaces that happens rarely: the dead
 * Buffers pile up until V8's limit on external memory forces a full collection. Measured with
 * `npm run bench:export` (docs/benchmark.md, "Export benchmark"), 1000 MB on fauxqs, one run per
 * setting: semi-spaces of 51 MiB (Lambda's choice at 1024 MB) gave 146 MiB of RSS growth, Node's
 * default 16 MiB gave 137 MiB, 1-8 MiB gave 71-90 MiB, with the export's own CPU no higher
 * (7.0-8.5 s against 9.1-9.3 s).
 *
 * How: Node sizes the young generation from `--max-semi-space-size`, in MiB; the young generation is
 * three semi-spaces (https://nodejs.org/api/cli.html#--max-semi-space-sizesize-in-mib). Lambda's
 * Node.js runtime starts Node with both `--max-semi-space-size` and `--max-old-space-size` derived
 * from the function's memory (new space a tenth of it, the old space the rest) unless NODE_OPTIONS
 * already names either, in which case it passes neither (the runtime's `bootstrap` script, as
 * published in the nodejs20.x and nodejs24.x images). So both are set here: the old space keeps
 * the size the runtime would have given it.
 */
export const EXPORT_SEMI_SPACE_MIB = 4;

/** The V8 flags the export function runs with (added to its NODE_OPTIONS), for `memoryMb` of memory. */
export function exportV8Flags(memoryMb: number = EXPORT_MEMORY_MB): string[] {
  const oldSpaceMib = memoryMb - Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${EXPORT_SEMI_SPACE_MIB}`, `--max-old-space-size=${oldSpaceMib}`];
}
/** How many times an export run is delivered before its job is recorded failed. */
export const EXPORT_MAX_RECEIVE_COUNT = 5;
