import { z } from 'zod';

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

export const WebhookConfigSchema = z
  .object({
    /** Where the webhook puts ingest jobs. */
    INGEST_QUEUE_URL: z.url(),
    /** The replay table: one item per webhook-id seen (shared/contracts/table-keys.ts). */
    WEBHOOK_REPLAY_TABLE: z.string().min(3),
    /** Production: the Secrets Manager secret holding {"current": "whsec_…", "previous"?: "whsec_…"}. */
    WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
    /** Local runs only: that same JSON document itself. Never set by the infrastructure. */
    WEBHOOK_SECRETS: z.string().min(1).optional(),
    /**
     * How long a processed webhook-id is remembered (a redelivery inside it is a duplicate). Senders
     * retry a failed delivery with the same id for hours to days; at least the ±5-minute timestamp
     * window twice over.
     */
    REPLAY_RETENTION_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(72),
    /** How long a delivery in progress holds its id; longer than the function's timeout. */
    CLAIM_LEASE_SECONDS: positiveInt(60),
    /** Chat ids are fanned out through the Compliance API, with the same key as ingest. */
    ANTHROPIC_BASE_URL: z.url().default('https://api.anthropic.com'),
    ANTHROPIC_API_KEY_SECRET_ARN: z.string().min(1).optional(),
    ANTHROPIC_API_KEY: z.string().min(1).optional(),
    LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
    LOCAL_SQS_ENDPOINT: optionalUrl,
  })
  .refine((c) => Boolean(c.WEBHOOK_SECRET_ARN) !== Boolean(c.WEBHOOK_SECRETS), {
    message: 'set exactly one of WEBHOOK_SECRET_ARN (deployed) or WEBHOOK_SECRETS (local)',
    path: ['WEBHOOK_SECRET_ARN'],
  })
  .refine((c) => Boolean(c.ANTHROPIC_API_KEY_SECRET_ARN) !== Boolean(c.ANTHROPIC_API_KEY), {
    message: 'set exactly one of ANTHROPIC_API_KEY_SECRET_ARN (deployed) or ANTHROPIC_API_KEY (local)',
    path: ['ANTHROPIC_API_KEY_SECRET_ARN'],
  });
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

/** Parses the environment against a schema; throws one error listing every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
