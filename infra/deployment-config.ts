import { z } from 'zod';
import { ConfigurationError } from '../shared/platform/errors.js';
import {
  FIXITY_DEEP_SAMPLE_PERCENT,
  FIXITY_ROTATION_DAYS,
  PART_SIZE_MIB,
  UPLOAD_CONCURRENCY,
} from '../shared/contracts/lambda-environment.js';
import { upstreamBaseUrlProblem } from '../shared/contracts/upstream-base-url.js';
import { DEFAULT_ARCHIVE_RETENTION } from '../shared/contracts/archive-retention.js';
import { INGEST_RUNTIME_HEADROOM_MB, ingestMemoryNeedMb } from './sizing.js';

/**
 * The deployment's configuration, read from CDK context keys prefixed `archiver:` and validated at
 * synth. Every key has a default, so `npm run synth` works with no options; a key that is unknown (a
 * typo) or a value that is out of range fails the synth with a message naming the key, because a
 * silently ignored `-c archiver:retentionDay=2555` on a WORM bucket is not a mistake to find later.
 *
 *   npx cdk deploy --all -c archiver:environment=prod -c archiver:retentionMode=COMPLIANCE \
 *     -c archiver:retentionDays=2557 -c archiver:alarmEmail=ops@example.com
 *
 * Values given with `-c` arrive as strings; the same keys in cdk.json's "context" may be typed JSON.
 */
export const CONTEXT_PREFIX = 'archiver:';

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const DEPLOYED_UPSTREAM_RULE =
  'must be an https:// URL: the API key travels with every request, ' +
  'and a deployed function has no upstream on its own loopback';

/** A whole number; context values from the command line are strings. */
const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );

/** A number (fractions allowed); context values from the command line are strings. */
const num = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
    z.number().min(min).max(max),
  );

export const DeploymentConfigSchema = z
  .strictObject({
    /** Names the stacks and resources; one deployment per environment and account/region. */
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,11}$/, {
        // 12 characters keep the archive bucket's name (prefix, account and region) within S3's 63.
        message: 'must be 1-12 lowercase letters, digits or hyphens, starting with a letter',
      })
      .default('dev'),
    /**
     * S3 Object Lock default retention mode. GOVERNANCE lets a principal holding
     * s3:BypassGovernanceRetention remove a lock (a safety valve while a deployment is tried out);
     * COMPLIANCE can be shortened by no one, root included, which is what SEC 17a-4(f)-style WORM
     * rules expect. Choose COMPLIANCE deliberately: it cannot be undone for objects already written.
     */
    retentionMode: z.enum(['GOVERNANCE', 'COMPLIANCE']).default(DEFAULT_ARCHIVE_RETENTION.mode),
    /** Default retention of every archived object version (days). 2557 ≈ 7 years. */
    retentionDays: int(1, 36_500).default(DEFAULT_ARCHIVE_RETENTION.days),
    /** Where alarms are e-mailed (the subscription must be confirmed). Omit to subscribe later. */
    alarmEmail: z.email({ message: 'must be an e-mail address' }).optional(),
    /**
     * Base URL of the upstream (Anthropic) API. The rule the functions apply at cold start
     * (shared/contracts/upstream-base-url.ts: https, plain http only to loopback), and stricter: a
     * deployed function has no upstream on its own loopback, so a deployment accepts https:// only.
     */
    upstreamBaseUrl: z
      .string()
      .superRefine((url, ctx) => {
        const problem = upstreamBaseUrlProblem(url) ?? (/^https:/i.test(url) ? undefined : DEPLOYED_UPSTREAM_RULE);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default('https://api.anthropic.com'),
    /**
     * At most this many ingest functions run at once (SQS event source maxConcurrency, 2..1000).
     * The Compliance API allows 600 requests/min per organization; one file costs 1-2 requests and
     * takes roughly 1-10 s, so 5 workers stay well under the budget and leave room for discovery.
     */
    maxConcurrency: int(2, 1000).default(5),
    /** Ingest function memory (MB). CPU share scales with memory, and hashing + TLS are CPU-bound. */
    ingestMemoryMb: int(512, 10_240).default(1024),
    /** Jobs per ingest invocation (1..10, so a batch of 500 MB files still fits the 15-minute timeout). */
    batchSize: int(1, 10).default(5),
    /** Multipart part size of the ingest function's uploads (MiB; PART_SIZE_MIB). */
    partSizeMib: int(PART_SIZE_MIB.min, PART_SIZE_MIB.max).default(PART_SIZE_MIB.default),
    /** Parts in flight per file (UPLOAD_CONCURRENCY). */
    uploadConcurrency: int(UPLOAD_CONCURRENCY.min, UPLOAD_CONCURRENCY.max).default(UPLOAD_CONCURRENCY.default),
    /** Seconds the event source waits to fill a batch (0..300). */
    batchWindowSeconds: int(0, 300).default(5),
    /** Deliveries of one job before it moves to the dead-letter queue. */
    maxReceiveCount: int(1, 1000).default(5),
    /** Move archived objects to archiveStorageClass after this many days; omit to keep them in STANDARD. */
    archiveTransitionDays: int(1, 36_500).optional(),
    /**
     * GLACIER_IR keeps millisecond reads, so the lookup API's presigned downloads keep working.
     * GLACIER and DEEP_ARCHIVE are cheaper but need a restore before any download.
     */
    archiveStorageClass: z.enum(['GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE']).default('GLACIER_IR'),
    /** Alarm when the oldest ingest job has waited longer than this (minutes). */
    oldestMessageAlarmMinutes: int(5, 20_160).default(60),
    /** Retention of function and API access logs (days; a value CloudWatch Logs accepts). */
    logRetentionDays: int(1, 3653)
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(365),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** Lifetime of a lookup API download URL (seconds). */
    presignTtlSeconds: int(60, 3600).default(300),
    /** eDiscovery export bags are deleted this many days after they are written (docs/exports.md). */
    exportExpireDays: int(1, 3650).default(30),
    /** `Source-Organization` in each export bag's bag-info.txt. */
    sourceOrganization: z.string().min(1).max(200).default('Claude Enterprise organization'),
    /**
     * The scheduled fixity audit (docs/legal-hold-and-fixity.md): every archived copy gets a cheap
     * check (HeadObject with its CRC-32) once in this many days (1..365; the function's
     * FIXITY_ROTATION_DAYS). A shorter rotation checks more copies a day, at one HeadObject each.
     */
    fixityRotationDays: int(FIXITY_ROTATION_DAYS.min, FIXITY_ROTATION_DAYS.max).default(FIXITY_ROTATION_DAYS.default),
    /**
     * Percent of the archived copies read back in full and re-hashed each day (0..100, fractions allowed,
     * e.g. 0.1 for a large archive; FIXITY_DEEP_SAMPLE_PERCENT). Each costs a GET of the whole object.
     */
    fixityDeepSamplePercent: num(FIXITY_DEEP_SAMPLE_PERCENT.min, FIXITY_DEEP_SAMPLE_PERCENT.max).default(
      FIXITY_DEEP_SAMPLE_PERCENT.default,
    ),
    /** Lookup API stage throttling: steady requests per second and burst. */
    apiRateLimit: int(1, 10_000).default(20),
    apiBurstLimit: int(1, 5000).default(40),
    /** Webhook API (`POST /events`) stage throttling: steady requests per second and burst; over it, 429. */
    webhookRateLimit: int(1, 10_000).default(10),
    webhookBurstLimit: int(1, 5000).default(20),
    /**
     * The webhook stage's WAFv2 web ACL. `create` (default): the stack creates one (infra/constructs/
     * webhook-web-acl.ts) with a body size rule (413 above the function's limit) and a per-IP rate
     * rule (429). `none`: no web ACL, and a body over Lambda's 6 MB invocation payload is then
     * answered by API Gateway with a 5xx instead of 413. With webhookWebAclArn, that ACL is used instead.
     */
    webhookWebAcl: z.enum(['create', 'none']).default('create'),
    /**
     * An existing regional WAFv2 web ACL to associate with the webhook stage instead of creating one
     * (for an ACL managed centrally, e.g. by Firewall Manager); it must refuse oversize bodies itself.
     */
    webhookWebAclArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[A-Za-z0-9_-]{1,128}\/[A-Za-z0-9-]{1,64}$/, {
        message: 'must be the ARN of a regional WAFv2 web ACL',
      })
      .optional(),
    /**
     * The created web ACL's rate rule: requests one source IP may send in any 5 minutes before it
     * is answered 429 (WAF's range is 10 to 2e9). The default, 1500 (5 a second on average), is half
     * of what the default stage throttle lets through in 5 minutes, so one address cannot take it all.
     */
    webhookIpRateLimit: int(10, 2_000_000_000).default(1500),
    /** How long a processed webhook-id is remembered as a duplicate (hours). */
    webhookReplayRetentionHours: int(1, 720).default(72),
    /**
     * The organization's Compliance API limit (requests per minute, shared by every key, poller and
     * worker). Every upstream call draws from one budget of this size, kept in the index table.
     */
    complianceRequestsPerMinute: int(1, 100_000).default(600),
    /** The Files API limit of the configured key (requests per minute; about 100 while in beta). */
    filesApiRequestsPerMinute: int(1, 100_000).default(100),
    /** Share of each budget window the pollers may use (percent), so discovery never starves the workers. */
    pollerBudgetPercent: int(5, 100).default(30),
    /** Minutes between runs of the chat, activity, Files API and projects pollers. */
    chatPollerMinutes: int(1, 1440).default(1),
    activityPollerMinutes: int(1, 1440).default(1),
    filesApiPollerMinutes: int(1, 1440).default(15),
    /** Each run polls changed projects every 20 s; every 15 minutes one also walks every project. */
    projectsPollerMinutes: int(1, 1440).default(1),
    /** Alarm when a poller has completed no run for this long (minutes; at least twice its schedule). */
    stalledPollerMinutes: int(5, 1440).default(30),
    /**
     * The auditor console (docs/console.md): `create` deploys it behind CloudFront with a Cognito
     * sign-in and lets its origin call the lookup API; `none` (default for now) leaves it out (the
     * lookup API and the CLI work without it).
     */
    console: z.enum(['create', 'none']).default('none'),
    /**
     * The sign-in page's Cognito domain prefix (https://<prefix>.auth.<region>.amazoncognito.com):
     * unique in the region, without "aws", "amazon" or "cognito". Default: `<prefix of the stacks>-auditors`.
     */
    consoleDomainPrefix: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'must be lowercase letters, digits and hyphens' })
      .refine((v) => !/aws|amazon|cognito/.test(v), { message: 'may not contain aws, amazon or cognito' })
      .optional(),
    /**
     * The organization's identity provider the sign-in federates to. `saml` needs consoleSamlMetadataUrl;
     * `oidc` needs consoleOidcIssuer, consoleOidcClientId and consoleOidcClientSecretName (a Secrets
     * Manager secret holding the client secret); `none`: users are created in the user pool itself.
     */
    consoleIdp: z.enum(['saml', 'oidc', 'none']).default('none'),
    consoleSamlMetadataUrl: z.url({ protocol: /^https$/, message: 'must be an https URL' }).optional(),
    consoleOidcIssuer: z.url({ protocol: /^https$/, message: 'must be an https URL' }).optional(),
    consoleOidcClientId: z.string().min(1).optional(),
    consoleOidcClientSecretName: z.string().min(1).optional(),
    /** The IdP's attribute (SAML) or claim (OIDC) listing the user's groups. */
    consoleGroupsAttribute: z.string().min(1).default('groups'),
    /** IdP groups mapped to the auditor and legal admin roles (a user in both gets legal admin). */
    consoleAuditorGroup: z.string().min(1).default('archiver-auditors'),
    consoleLegalAdminGroup: z.string().min(1).default('archiver-legal-admins'),
  })
  .refine((c) => c.consoleIdp !== 'saml' || c.consoleSamlMetadataUrl !== undefined, {
    message: 'is required when consoleIdp is saml',
    path: ['consoleSamlMetadataUrl'],
  })
  .refine(
    (c) =>
      c.consoleIdp !== 'oidc' ||
      (c.consoleOidcIssuer !== undefined &&
        c.consoleOidcClientId !== undefined &&
        c.consoleOidcClientSecretName !== undefined),
    {
      message:
        'consoleOidcIssuer, consoleOidcClientId and consoleOidcClientSecretName are required when consoleIdp is oidc',
      path: ['consoleIdp'],
    },
  )
  .refine(
    (c) =>
      !c.consoleAuditorGroup.includes(c.consoleLegalAdminGroup) &&
      !c.consoleLegalAdminGroup.includes(c.consoleAuditorGroup),
    {
      // The identity pool's rules match with "Contains": one name inside the other would match both.
      message: 'neither group name may contain the other',
      path: ['consoleLegalAdminGroup'],
    },
  )
  .refine((c) => c.apiBurstLimit >= c.apiRateLimit, {
    message: 'must be at least apiRateLimit',
    path: ['apiBurstLimit'],
  })
  .refine((c) => !(c.webhookWebAcl === 'none' && c.webhookWebAclArn), {
    message: 'contradicts webhookWebAcl=none: give an existing web ACL or opt out, not both',
    path: ['webhookWebAclArn'],
  })
  .refine((c) => c.webhookBurstLimit >= c.webhookRateLimit, {
    message: 'must be at least webhookRateLimit',
    path: ['webhookBurstLimit'],
  })
  .refine(
    (c) =>
      c.stalledPollerMinutes >=
      2 * Math.max(c.chatPollerMinutes, c.activityPollerMinutes, c.filesApiPollerMinutes, c.projectsPollerMinutes),
    {
      message: 'must be at least twice the longest poller schedule',
      path: ['stalledPollerMinutes'],
    },
  )
  .superRefine((c, ctx) => {
    // The records of a batch are archived at once, each holding its own upload buffers: a batch that
    // does not fit the function's memory would end every full batch in an out-of-memory kill.
    const need = ingestMemoryNeedMb(c);
    if (c.ingestMemoryMb < need) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingestMemoryMb'],
        message:
          `${c.ingestMemoryMb} MB does not hold a full batch: ` +
          `${CONTEXT_PREFIX}batchSize (${c.batchSize}) × (${CONTEXT_PREFIX}uploadConcurrency ` +
          `(${c.uploadConcurrency}) + 2) × ` +
          `${CONTEXT_PREFIX}partSizeMib (${c.partSizeMib}) + ${INGEST_RUNTIME_HEADROOM_MB} ` +
          `MB for the runtime = ${need} MB; ` +
          `raise ${CONTEXT_PREFIX}ingestMemoryMb to at least ${need} or lower one of the other three`,
      });
    }
  });

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfigSchema>;

/**
 * Validates the `archiver:*` keys of a CDK context (as returned by `node.getAllContext()`); keys
 * without the prefix (feature flags, CDK internals) are ignored. Throws one error listing every
 * problem, each prefixed with the context key to fix (a ConfigurationError: the CDK app prints the
 * message and the synth fails).
 */
export function parseDeploymentConfig(context: Record<string, unknown>): DeploymentConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (key.startsWith(CONTEXT_PREFIX)) raw[key.slice(CONTEXT_PREFIX.length)] = value;
  }
  const parsed = DeploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const known = Object.keys(DeploymentConfigSchema.shape)
      .map((k) => CONTEXT_PREFIX + k)
      .join(', ');
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown key(s) ${issue.keys.map((k) => CONTEXT_PREFIX + k).join(', ')} (known: ${known})`;
      }
      return `${CONTEXT_PREFIX}${issue.path.join('.')}: ${issue.message}`;
    });
    throw new ConfigurationError(`invalid deployment configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
