/**
 * Names shared by the code that emits metrics and the infrastructure that alarms on them. Powertools
 * Metrics adds one dimension, `service`, whose value is POWERTOOLS_SERVICE_NAME of the function.
 */
import { DISCOVERY_SOURCES, POLLER_SOURCES, type PollerSource } from './discovery-sources.js';

export const METRICS_NAMESPACE = 'ClaudeFileArchiver';

export const SERVICE_NAMES = {
  ingest: 'archiver-ingest',
  lookup: 'archiver-lookup',
  webhook: 'archiver-webhook',
  export: 'archiver-export',
  fixity: 'archiver-fixity',
} as const;

export const METRIC = {
  /** Count of files newly archived and indexed (duplicates not counted). */
  filesArchived: 'FilesArchived',
  /** Bytes of newly archived files. */
  bytesArchived: 'BytesArchived',
  /** A download whose size or MD5 did not match; the upload was aborted. */
  integrityFailures: 'IntegrityFailures',
  /** Final outcomes recorded without a copy (not found, expired, not downloadable); extra dimension `reason`. */
  finalOutcomes: 'FinalOutcomes',
  /** Upstream answered 429. */
  upstreamThrottled: 'UpstreamThrottled',
  /** Upstream answered 401 or 403: the key is wrong or lacks a scope. */
  upstreamAuthFailures: 'UpstreamAuthFailures',
  /** Milliseconds from request to response headers, per upstream request. */
  upstreamLatency: 'UpstreamLatency',
  /** A queue message that was not a valid job; sent to the dead-letter queue. */
  malformedJobs: 'MalformedJobs',
  /** A delivery of a file that was already archived. */
  duplicateDeliveries: 'DuplicateDeliveries',
  /**
   * Milliseconds from a file's appearance upstream (the time of the message or activity that showed
   * it, carried on the job as `appearedAt`) to its archived copy; one value per newly archived file
   * whose job carried the time. Alarmed on its p95.
   */
  captureLatency: 'CaptureLatency',
  /** Webhook requests by answer; extra dimension `outcome` (one of WEBHOOK_OUTCOMES). */
  webhookRequests: 'WebhookRequests',
  /** Ingest jobs the webhook put on the queue (files named directly plus files of fanned-out chats). */
  webhookJobsEnqueued: 'WebhookJobsEnqueued',
  /**
   * 401 answers of the webhook stage, the function's and API Gateway's alike: a CloudWatch Logs
   * metric filter on the stage's access log emits it (no dimension), not Powertools.
   */
  webhookUnauthorizedAnswers: 'WebhookUnauthorizedAnswers',
  /** A scheduled fixity check (shared/fixity/scheduled-audit.ts) that found an archived copy missing or changed. */
  fixityFailures: 'FixityFailures',
} as const;

/**
 * The `outcome` dimension of WebhookRequests: one per answer of the webhook function (202 accepted or
 * duplicate; 409 in_progress; 400 invalid; 401 unauthorized; 413 too_large; 404 not_found; 405
 * method_not_allowed; 503 unavailable; 500 error). The alarms and dashboard read the same values.
 */
export const WEBHOOK_OUTCOMES = [
  'accepted',
  'duplicate',
  'in_progress',
  'id_reused',
  'invalid',
  'unauthorized',
  'too_large',
  'not_found',
  'method_not_allowed',
  'unavailable',
  'error',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** Service names (the `service` dimension) of the discovery pollers, from the poller registry. */
export const DISCOVERY_SERVICE_NAMES = Object.fromEntries(
  POLLER_SOURCES.map((source) => [source, DISCOVERY_SOURCES[source].serviceName]),
) as { readonly [S in PollerSource]: (typeof DISCOVERY_SOURCES)[S]['serviceName'] };

export const DISCOVERY_METRIC = {
  /** Listing pages read by a poller run. */
  pages: 'DiscoveryPages',
  /** Items read (chats, messages, activities, files). */
  records: 'DiscoveryRecords',
  /** Ingest jobs accepted by the queue. */
  jobsEnqueued: 'DiscoveryJobsEnqueued',
  /** Seconds between now and the newest upstream time the poller has caught up with. */
  lagSeconds: 'DiscoveryLagSeconds',
  /**
   * One per run that ended without an error (completed or stopped at its deadline): the stalled-poller alarm watches
   * it.
   */
  runsCompleted: 'DiscoveryRunsCompleted',
  /** Upstream refused the stored cursor (400). */
  cursorRejected: 'DiscoveryCursorRejected',
  /** A unit (a chat) a run could not read and put on the retry list. */
  unitFailures: 'DiscoveryUnitFailures',
  /** A caller found no budget within its wait; extra dimension `api`. */
  budgetExhausted: 'BudgetExhausted',
} as const;
