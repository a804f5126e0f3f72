import * as z from './zod.js';
import { ConfigurationError } from '../platform/errors.js';
import { UpstreamBaseUrlSchema } from './upstream-base-url.js';

/**
 * Environment variables read by the Lambdas, validated once at cold start. A missing or invalid
 * variable fails the function's initialisation with a message that names it, not a record mid-batch.
 * Core code never reads process.env: it is handed the parsed configuration.
 */
/**
 * Bounds and defaults of the ingest upload settings, shared with the deployment configuration
 * (infra/deployment-config.ts), which sets them on the function and checks that a batch fits its memory.
 */
export const PART_SIZE_MIB = { min: 5, max: 64, default: 8 } as const;
export const UPLOAD_CONCURRENCY = { min: 1, max: 16, default: 4 } as const;
/** The scheduled fixity audit: every copy cheaply checked once in this many days (the deployment's key too). */
export const FIXITY_ROTATION_DAYS = { min: 1, max: 365, default: 30 } as const;
/** The scheduled fixity audit: percent of the copies deeply checked each day (the deployment's key too). */
export const FIXITY_DEEP_SAMPLE_PERCENT = { min: 0, max: 100, default: 1 } as const;

const positiveInt = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);
const optionalUrl = z.optional(z.url());

export const IngestConfigSchema = z
  .object({
    ARCHIVE_BUCKET: z.string().check(z.minLength(3)),
    INDEX_TABLE: z.string().check(z.minLength(3)),
    INGEST_QUEUE_URL: z.url(),
    DEAD_LETTER_QUEUE_URL: z.url(),
    /** https:// only, except a loopback host (upstream-base-url.ts): the API key goes with every request. */
    ANTHROPIC_BASE_URL: z._default(UpstreamBaseUrlSchema, 'https://api.anthropic.com'),
    /** Production: the Secrets Manager secret holding the upstream key (read at cold start, cached). */
    ANTHROPIC_API_KEY_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    /** Local runs only: the key itself. Never set by the infrastructure. */
    ANTHROPIC_API_KEY: z.optional(z.string().check(z.minLength(1))),
    /** S3 multipart part size when the file size is unknown or small (MiB, 5..64). */
    PART_SIZE_MIB: z._default(
      z.coerce.number().check(z.int(), z.gte(PART_SIZE_MIB.min), z.lte(PART_SIZE_MIB.max)),
      PART_SIZE_MIB.default,
    ),
    /**
     * Parts uploaded at once per file; one file holds up to (concurrency + 1) × part size (the sizing check budgets +
     * 2).
     */
    UPLOAD_CONCURRENCY: z._default(
      z.coerce.number().check(z.int(), z.gte(UPLOAD_CONCURRENCY.min), z.lte(UPLOAD_CONCURRENCY.max)),
      UPLOAD_CONCURRENCY.default,
    ),
    /** How long a claim on a file protects an in-progress archive from a racing delivery. */
    LEASE_SECONDS: positiveInt(960),
    /** In-process attempts for a retryable upstream failure before the message goes back to the queue. */
    UPSTREAM_MAX_ATTEMPTS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(10)), 3),
    /**
     * The ingest queue's redrive maxReceiveCount, set from the same value as the queue: the delivery
     * with this receive count is a job's last, so a failure there records the file as failed.
     */
    MAX_RECEIVE_COUNT: z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)),
    /**
     * The most MiB read of a file whose size upstream did not publish (nothing else bounds it). The
     * default is the Files API's maximum file size, 500 MB, rounded up to MiB.
     */
    UNSIZED_MAX_MIB: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(51_200)), 500),
    /** Index items a legal hold's sweep reads per hold-work message, at most (shared/holds/sweep-sources.ts). */
    HOLD_PAGE_SIZE: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(5_000)), 500),
    /**
     * Local emulators only (s3rver and fauxqs have no Object Lock): record legal holds on the index
     * without asking S3. Never set by the infrastructure (a LOCAL_ variable).
     */
    LOCAL_S3_WITHOUT_OBJECT_LOCK: z._default(z.enum(['true', 'false']), 'false'),
    LOCAL_S3_ENDPOINT: optionalUrl,
    LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
    LOCAL_SQS_ENDPOINT: optionalUrl,
  })
  .check(
    z.refine((c) => Boolean(c.ANTHROPIC_API_KEY_SECRET_ARN) !== Boolean(c.ANTHROPIC_API_KEY), {
      message: 'set exactly one of ANTHROPIC_API_KEY_SECRET_ARN (deployed) or ANTHROPIC_API_KEY (local)',
      path: ['ANTHROPIC_API_KEY_SECRET_ARN'],
    }),
  );
export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export const LookupConfigSchema = z
  .object({
    ARCHIVE_BUCKET: z.string().check(z.minLength(3)),
    INDEX_TABLE: z.string().check(z.minLength(3)),
    /** Lifetime of a download URL, seconds (1 minute to 1 hour). */
    PRESIGN_TTL_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(60), z.lte(3600)), 300),
    /** Where a legal hold's sweep is queued: the ingest queue (its function runs the sweep's pages). */
    HOLD_WORK_QUEUE_URL: z.url(),
    /**
     * How long a release sweep waits before it starts (SQS DelaySeconds, 0..900): at least the ingest
     * function's timeout, so no ingest invocation that read the matter as active can still be holding
     * a file for it when the sweep passes (shared/holds/matters.ts).
     */
    HOLD_RELEASE_DELAY_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(900)), 900),
    /** The auditor console's origin (https://<distribution>): answers carry CORS headers for it alone. */
    CONSOLE_ORIGIN: z.optional(
      z.string().check(z.regex(/^https:\/\/[a-z0-9.-]+$/, { message: 'must be an https origin without a path' })),
    ),
    /** Exports: the bucket the bags are in and the queue export jobs go to (both, or neither: no export routes). */
    EXPORTS_BUCKET: z.optional(z.string().check(z.minLength(3))),
    EXPORT_QUEUE_URL: z.optional(z.url()),
    LOCAL_S3_ENDPOINT: optionalUrl,
    LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
    LOCAL_SQS_ENDPOINT: optionalUrl,
  })
  .check(
    z.refine((c) => Boolean(c.EXPORTS_BUCKET) === Boolean(c.EXPORT_QUEUE_URL), {
      message: 'set both EXPORTS_BUCKET and EXPORT_QUEUE_URL, or neither',
      path: ['EXPORTS_BUCKET'],
    }),
  );
export type LookupConfig = z.infer<typeof LookupConfigSchema>;

/** The export worker (lambdas/export): one export job per message, resumable (docs/exports.md). */
export const ExportConfigSchema = z.object({
  INDEX_TABLE: z.string().check(z.minLength(3)),
  /** Lifetime of a download URL, seconds (1 minute to 1 hour). */
  PRESIGN_TTL_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(60), z.lte(3600)), 300),
  EXPORTS_BUCKET: z.string().check(z.minLength(3)),
  /** The worker's own queue: a run that reaches its deadline queues the job's next run here. */
  EXPORT_QUEUE_URL: z.url(),
  /** The queue's redrive maxReceiveCount: a failure on the last receive marks the export failed. */
  MAX_RECEIVE_COUNT: z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)),
  /** Part size of the bag's multipart upload (MiB, 5..64); memory holds (concurrency + 1) parts. */
  EXPORT_PART_SIZE_MIB: z._default(z.coerce.number().check(z.int(), z.gte(5), z.lte(64)), 5),
  EXPORT_UPLOAD_CONCURRENCY: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(16)), 3),
  /** `Source-Organization` of bag-info.txt. */
  SOURCE_ORGANIZATION: z._default(z.string().check(z.minLength(1), z.maxLength(200)), 'Claude Enterprise organization'),
  /** Longest time between checkpoints while files are written (seconds). */
  EXPORT_CHECKPOINT_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(5), z.lte(600)), 60),
  /** A run stops this long before the function's timeout, to write its checkpoint and queue the next run. */
  EXPORT_STOP_MARGIN_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(10), z.lte(300)), 60),
  LOCAL_S3_ENDPOINT: optionalUrl,
  LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
  LOCAL_SQS_ENDPOINT: optionalUrl,
});
export type ExportConfig = z.infer<typeof ExportConfigSchema>;

/** The scheduled fixity audit (lambdas/fixity, shared/fixity/scheduled-audit.ts). */
export const FixityConfigSchema = z.object({
  /** The archive bucket; a record naming another bucket is not checked (its role may read only this one). */
  ARCHIVE_BUCKET: z.string().check(z.minLength(3)),
  INDEX_TABLE: z.string().check(z.minLength(3)),
  /** Every archived copy gets a cheap check once in this many days (deployment key `fixityRotationDays`). */
  FIXITY_ROTATION_DAYS: z._default(
    z.coerce.number().check(z.int(), z.gte(FIXITY_ROTATION_DAYS.min), z.lte(FIXITY_ROTATION_DAYS.max)),
    FIXITY_ROTATION_DAYS.default,
  ),
  /** Percent of the archived copies given a deep check each day (deployment key `fixityDeepSamplePercent`). */
  FIXITY_DEEP_SAMPLE_PERCENT: z._default(
    z.coerce.number().check(z.gte(FIXITY_DEEP_SAMPLE_PERCENT.min), z.lte(FIXITY_DEEP_SAMPLE_PERCENT.max)),
    FIXITY_DEEP_SAMPLE_PERCENT.default,
  ),
  LOCAL_S3_ENDPOINT: optionalUrl,
  LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
});
export type FixityConfig = z.infer<typeof FixityConfigSchema>;

export const WebhookConfigSchema = z
  .object({
    /** Where the webhook puts ingest jobs. */
    INGEST_QUEUE_URL: z.url(),
    /** The replay table: one item per webhook-id seen (shared/contracts/table-keys.ts). */
    WEBHOOK_REPLAY_TABLE: z.string().check(z.minLength(3)),
    /** Production: the Secrets Manager secret holding {"current": "whsec_…", "previous"?: "whsec_…"}. */
    WEBHOOK_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    /** Local runs only: that same JSON document itself. Never set by the infrastructure. */
    WEBHOOK_SECRETS: z.optional(z.string().check(z.minLength(1))),
    /**
     * How long a processed webhook-id is remembered (a redelivery inside it is a duplicate). Senders
     * retry a failed delivery with the same id for hours to days; at least the ±5-minute timestamp
     * window twice over.
     */
    REPLAY_RETENTION_HOURS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(24 * 30)), 72),
    /** How long a delivery in progress holds its id; longer than the function's timeout. */
    CLAIM_LEASE_SECONDS: positiveInt(60),
    /**
     * The index table, where the shared upstream request budget lives: a chat fan-out draws its
     * listing requests from it as the pollers do (WorkerBudgetConfigSchema sizes it).
     */
    INDEX_TABLE: z.optional(z.string().check(z.minLength(3))),
    /** Chat ids are fanned out through the Compliance API, with the same key as ingest. */
    ANTHROPIC_BASE_URL: z._default(z.url(), 'https://api.anthropic.com'),
    ANTHROPIC_API_KEY_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    ANTHROPIC_API_KEY: z.optional(z.string().check(z.minLength(1))),
    LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
    LOCAL_SQS_ENDPOINT: optionalUrl,
  })
  .check(
    z.refine((c) => Boolean(c.WEBHOOK_SECRET_ARN) !== Boolean(c.WEBHOOK_SECRETS), {
      message: 'set exactly one of WEBHOOK_SECRET_ARN (deployed) or WEBHOOK_SECRETS (local)',
      path: ['WEBHOOK_SECRET_ARN'],
    }),
  )
  .check(
    z.refine((c) => Boolean(c.ANTHROPIC_API_KEY_SECRET_ARN) !== Boolean(c.ANTHROPIC_API_KEY), {
      message: 'set exactly one of ANTHROPIC_API_KEY_SECRET_ARN (deployed) or ANTHROPIC_API_KEY (local)',
      path: ['ANTHROPIC_API_KEY_SECRET_ARN'],
    }),
  );
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

/** Parses the environment against a schema; throws one error listing every bad variable. */
export function loadConfig<S extends z.core.$ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = z.safeParse(schema, env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigurationError(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * The shared request budget, read by every function that calls upstream (the ingest worker and the
 * pollers). Workers draw from it only when COMPLIANCE_REQUESTS_PER_MINUTE is set (the infrastructure
 * always sets it), so a worker built without it behaves as before.
 */
const BudgetFields = {
  /** The organization's Compliance API limit (requests per minute, shared by every key). */
  COMPLIANCE_REQUESTS_PER_MINUTE: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100_000))),
  /** The Files API limit for the configured key (requests per minute). */
  FILES_API_REQUESTS_PER_MINUTE: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100_000)), 100),
  /** Length of one budget window (ms); each grants rate × window / 1 min requests. */
  BUDGET_WINDOW_MS: z._default(z.coerce.number().check(z.int(), z.gte(100), z.lte(60_000)), 1_000),
  /** Share of each window the pollers may use, so discovery never starves the workers. */
  POLLER_BUDGET_SHARE: z._default(z.coerce.number().check(z.gte(0.05), z.lte(1)), 0.3),
  /** The longest a request waits for budget before the caller gives up for now (ms). */
  BUDGET_MAX_WAIT_MS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(600_000)), 20_000),
};

export const WorkerBudgetConfigSchema = z.object(BudgetFields);
export type WorkerBudgetConfig = z.infer<typeof WorkerBudgetConfigSchema>;

export const DiscoveryConfigSchema = z
  .object({
    INDEX_TABLE: z.string().check(z.minLength(3)),
    INGEST_QUEUE_URL: z.url(),
    /** https:// only, except a loopback host (upstream-base-url.ts): the API key goes with every request. */
    ANTHROPIC_BASE_URL: z._default(UpstreamBaseUrlSchema, 'https://api.anthropic.com'),
    ANTHROPIC_API_KEY_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    ANTHROPIC_API_KEY: z.optional(z.string().check(z.minLength(1))),
    ...BudgetFields,
    COMPLIANCE_REQUESTS_PER_MINUTE: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100_000)), 600),
    /** Items per listing page (chats, activities, Files API files). */
    PAGE_SIZE: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)), 100),
    /** Messages per page of a chat's messages. */
    MESSAGE_PAGE_SIZE: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)), 1000),
    /** The activity window's upper bound stays this far in the past (at least 60 s). */
    ACTIVITY_VISIBILITY_LAG_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(60), z.lte(86_400)), 120),
    /** The projects poller walks every project and its attachments this often (its change polls run in between). */
    PROJECTS_FULL_WALK_MINUTES: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(1440)), 15),
    /** Where the first activity run starts; absent = the whole feed. */
    ACTIVITY_START_AT: z.optional(z.iso.datetime({ offset: true })),
    /** Upload jobs from the activity feed wait this long in the queue (the chat poller's jobs carry metadata). */
    ACTIVITY_UPLOAD_JOB_DELAY_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(900)), 300),
    /** A run stops this long before the function's deadline, so its checkpoint and ledger are written. */
    POLLER_STOP_MARGIN_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(300)), 20),
    /** How long a run's lease protects it from an overlapping run (longer than the function timeout). */
    POLLER_LEASE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(10), z.lte(3_600)), 960),
    /**
     * Polls again this many seconds after the last poll began, within one invocation (the poller
     * registry's `pollEverySeconds`); 0 = one pass per invocation.
     */
    POLL_EVERY_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(900)), 0),
    /** An invocation begins no poll later than this many seconds after its start (0 = one pass). */
    POLL_WINDOW_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(86_400)), 0),
    LOCAL_DYNAMODB_ENDPOINT: optionalUrl,
    LOCAL_SQS_ENDPOINT: optionalUrl,
  })
  .check(
    z.refine((c) => Boolean(c.ANTHROPIC_API_KEY_SECRET_ARN) !== Boolean(c.ANTHROPIC_API_KEY), {
      message: 'set exactly one of ANTHROPIC_API_KEY_SECRET_ARN (deployed) or ANTHROPIC_API_KEY (local)',
      path: ['ANTHROPIC_API_KEY_SECRET_ARN'],
    }),
  );
export type DiscoveryConfig = z.infer<typeof DiscoveryConfigSchema>;
