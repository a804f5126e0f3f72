import { z } from 'zod';
import { ConfigurationError } from '../platform/errors.js';

/**
 * Environment variables read by the Lambdas, validated once at cold start. A missing or invalid
 * variable fails the function's initialisation with a message that names it, not a record mid-batch.
 * Core code never reads process.env: it is handed the parsed configuration.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalUrl = z.url().optional();

export const IngestConfigSchema = z
  .object({
    ARCHIVE_BUCKET: z.string().min(3),
    INDEX_TABLE: z.string().min(3),
    INGEST_QUEUE_URL: z.url(),
    DEAD_LETTER_QUEUE_URL: z.url(),
    ANTHROPIC_BASE_URL: z.url().default('https://api.anthropic.com'),
    /** Production: the Secrets Manager secret holding the upstream key (read at cold start, cached). */
    ANTHROPIC_API_KEY_SECRET_ARN: z.string().min(1).optional(),
    /** Local runs only: the key itself. Never set by the infrastructure. */
    ANTHROPIC_API_KEY: z.string().min(1).optional(),
    /** S3 multipart part size when the file size is unknown or small (MiB, 5..64). */
    PART_SIZE_MIB: z.coerce.number().int().min(5).max(64).default(8),
    /** Parts uploaded at once per file; memory held is about (concurrency + 1) × part size. */
    UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
    /** How long a claim on a file protects an in-progress archive from a racing delivery. */
    LEASE_SECONDS: positiveInt(960),
    /** In-process attempts for a retryable upstream failure before the message goes back to the queue. */
    UPSTREAM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    /**
     * The ingest queue's redrive maxReceiveCount, set from the same value as the queue: the delivery
     * with this receive count is a job's last, so a failure there records the file as failed.
     */
    MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).max(1000),
    /**
     * The most MiB read of a file whose size upstream did not publish (nothing else bounds it). The
     * default is the Files API's maximum file size, 500 MB, rounded up to MiB.
     */
    UNSIZED_MAX_MIB: z.coerce.number().int().min(1).max(51_200).default(500),
    LOCAL_S3_ENDPOINT: optionalUrl,
    LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
    LOCAL_SQS_ENDPOINT: optionalUrl,
  })
  .refine((c) => Boolean(c.ANTHROPIC_API_KEY_SECRET_ARN) !== Boolean(c.ANTHROPIC_API_KEY), {
    message: 'set exactly one of ANTHROPIC_API_KEY_SECRET_ARN (deployed) or ANTHROPIC_API_KEY (local)',
    path: ['ANTHROPIC_API_KEY_SECRET_ARN'],
  });
export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export const LookupConfigSchema = z.object({
  ARCHIVE_BUCKET: z.string().min(3),
  INDEX_TABLE: z.string().min(3),
  /** Lifetime of a download URL, seconds (1 minute to 1 hour). */
  PRESIGN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(300),
  LOCAL_S3_ENDPOINT: optionalUrl,
  LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
});
export type LookupConfig = z.infer<typeof LookupConfigSchema>;

/** Parses the environment against a schema; throws one error listing every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigurationError(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
