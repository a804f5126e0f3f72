/**
 * The messages between the benchmark (bench/worker-runner.ts) and the worker process it forks
 * for each measured transfer (bench/transfer-worker.ts). Both sides parse what they receive.
 */
import { z } from 'zod';

/**
 * - `ingest`: the real ingest handler (createIngestRuntime) on an SQS message.
 * - `baseline`: the same bytes streamed from upstream into a plain multipart upload, with no hashing
 *   at all: no MD5/SHA-256 of the content, no Content-MD5 on parts, and the SDK's SigV4 payload hash
 *   turned off (`x-amz-content-sha256: UNSIGNED-PAYLOAD`), no verification.
 * - `baseline-sdk`: the same plain copy with the S3 client's default signing, which hashes every
 *   part with SHA-256 (the ingest path's client does this too).
 */
export const WorkerModeSchema = z.enum(['ingest', 'baseline', 'baseline-sdk']);
export type WorkerMode = z.infer<typeof WorkerModeSchema>;

const FileRefSchema = z.object({
  fileId: z.string().min(1),
  chatId: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
});

export const WorkerTaskSchema = z.object({
  type: z.literal('task'),
  mode: WorkerModeSchema,
  upstreamUrl: z.url(),
  apiKey: z.string().min(1),
  s3Endpoint: z.url(),
  sqsEndpoint: z.url(),
  dynamodbEndpoint: z.url(),
  bucket: z.string().min(3),
  table: z.string().min(3),
  queueUrl: z.url(),
  deadLetterQueueUrl: z.url(),
  /** The queue's redrive maxReceiveCount, which the ingest handler is told. */
  maxReceiveCount: z.number().int().positive(),
  partSizeMib: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  /** Runs first, unmeasured, through the same path: JIT, modules, connections. */
  warmUp: FileRefSchema,
  file: FileRefSchema,
  /** How often the worker samples its own memory. */
  sampleIntervalMs: z.number().int().positive(),
});
export type WorkerTask = z.infer<typeof WorkerTaskSchema>;

/** Sent by the worker as its measured section starts and ends, so the benchmark can read the servers' CPU. */
export const WorkerMarkSchema = z.object({ type: z.literal('mark'), phase: z.enum(['start', 'end']) });
export type WorkerMark = z.infer<typeof WorkerMarkSchema>;

export const WorkerResultSchema = z.discriminatedUnion('ok', [
  z.object({
    type: z.literal('result'),
    ok: z.literal(true),
    /** The S3 key the measured transfer wrote. */
    key: z.string(),
    bytes: z.number().int().nonnegative(),
    /** Wall time of the measured transfer only. */
    seconds: z.number().positive(),
    /** User + system CPU of the worker during the measured transfer. */
    cpuSeconds: z.number().nonnegative(),
    /** Garbage collections during the transfer and their total pause (PerformanceObserver 'gc' entries). */
    gcCount: z.number().int().nonnegative(),
    gcMs: z.number().nonnegative(),
    /** Of which full (mark-compact) collections. */
    gcMajorCount: z.number().int().nonnegative(),
    gcMajorMs: z.number().nonnegative(),
    /** RSS after the warm-up and a full GC, just before the measured transfer. */
    rssBeforeBytes: z.number().int().nonnegative(),
    /** max(sampled RSS, kernel VmHWM since reset) over the measured transfer. */
    rssPeakBytes: z.number().int().nonnegative(),
    rssPeakSampledBytes: z.number().int().nonnegative(),
    /** The kernel's high-water mark, reset just before the transfer; null where /proc cannot. */
    rssHwmBytes: z.number().int().nonnegative().nullable(),
    arrayBuffersPeakBytes: z.number().int().nonnegative(),
    heapUsedPeakBytes: z.number().int().nonnegative(),
    samples: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('result'), ok: z.literal(false), error: z.string() }),
]);
export type WorkerResult = z.infer<typeof WorkerResultSchema>;
