import type { SQSBatchResponse, SQSEvent, Context } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3ArchiveStore } from '../../shared/archive/s3-archive-store.js';
import { NoObjectLockLegalHolds, S3LegalHolds } from '../../shared/archive/s3-legal-holds.js';
import { DynamoDbHeldFiles, DynamoDbMatterStore } from '../../shared/index/dynamodb-holds.js';
import { DynamoDbFileSearch } from '../../shared/index/dynamodb-file-search.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import type { ApiKeyProvider } from '../../shared/upstream/api-key.js';
import { createDocumentClient, createS3Client, createSqsClient } from '../../shared/platform/aws-clients.js';
import type { IngestConfig, WorkerBudgetConfig } from '../../shared/contracts/lambda-environment.js';
import { createSharedBudgetGate } from '../../shared/index/dynamodb-shared-budget-gate.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { METRIC } from '../../shared/contracts/metric-names.js';
import { SqsIngestQueue } from '../../shared/platform/sqs-ingest-queue.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import { createUpstreamAgent, createUpstreamClient } from '../../shared/upstream/upstream-client.js';
import { createIngestHandler } from './sqs-batch.js';

const MIB = 1024 * 1024;

export interface IngestClients {
  s3: S3Client;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/** The ingest function's AWS clients, as configured (SDK defaults in AWS, the endpoint overrides locally). */
export function createIngestClients(config: IngestConfig): IngestClients {
  return {
    s3: createS3Client({ endpoint: config.LOCAL_S3_ENDPOINT }),
    doc: createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT }),
    sqs: createSqsClient({ endpoint: config.LOCAL_SQS_ENDPOINT }),
  };
}

/**
 * Builds the ingest handler and its clients from validated configuration, once per process. The
 * Lambda entry point and the local stack both come through here, so they run the same code. A caller
 * that already holds clients built by createIngestClients (the test stack, which observes their
 * calls) passes them instead of having a second set built.
 */
export function createIngestRuntime(
  config: IngestConfig,
  opts: {
    apiKey: string | ApiKeyProvider;
    log: Log;
    counters: Counters;
    deadlineMarginMs?: number;
    clients?: IngestClients;
    /** The shared upstream budget; without COMPLIANCE_REQUESTS_PER_MINUTE the worker is not gated. */
    budget?: WorkerBudgetConfig;
  },
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { s3, doc, sqs } = opts.clients ?? createIngestClients(config);
  const rate = opts.budget?.COMPLIANCE_REQUESTS_PER_MINUTE;
  const gate =
    opts.budget && rate !== undefined
      ? createSharedBudgetGate(
          { ...opts.budget, COMPLIANCE_REQUESTS_PER_MINUTE: rate },
          doc,
          config.INDEX_TABLE,
          'worker',
          opts,
        )
      : undefined;
  const upstream = createUpstreamClient({
    baseUrl: config.ANTHROPIC_BASE_URL,
    apiKey: opts.apiKey,
    dispatcher: createUpstreamAgent(),
    ...(gate ? { gate } : {}),
    onResponse: ({ latencyMs }) => opts.counters.record(METRIC.upstreamLatency, latencyMs, 'Milliseconds'),
  });
  return createIngestHandler({
    archive: {
      upstream,
      index: new DynamoDbFileIndex(doc, config.INDEX_TABLE),
      store: new S3ArchiveStore(s3, config.ARCHIVE_BUCKET, {
        defaultPartBytes: config.PART_SIZE_MIB * MIB,
        concurrency: config.UPLOAD_CONCURRENCY,
      }),
      leaseMs: config.LEASE_SECONDS * 1000,
      maxAttempts: config.UPSTREAM_MAX_ATTEMPTS,
      maxUnsizedBytes: config.UNSIZED_MAX_MIB * MIB,
    },
    holds: {
      matters: new DynamoDbMatterStore(doc, config.INDEX_TABLE),
      files: new DynamoDbHeldFiles(doc, config.INDEX_TABLE),
      // A sweep reads its scope through the search indexes and a chat's listings (sweep-sources.ts).
      search: new DynamoDbFileSearch(doc, config.INDEX_TABLE),
      legalHolds: config.LOCAL_S3_WITHOUT_OBJECT_LOCK === 'true' ? new NoObjectLockLegalHolds() : new S3LegalHolds(s3),
      // The sweep's next page goes back on this same queue.
      work: createSqsJobSender(sqs, config.INGEST_QUEUE_URL),
      pageSize: config.HOLD_PAGE_SIZE,
      now: Date.now,
    },
    maxReceiveCount: config.MAX_RECEIVE_COUNT,
    queue: new SqsIngestQueue(sqs, {
      queueUrl: config.INGEST_QUEUE_URL,
      deadLetterQueueUrl: config.DEAD_LETTER_QUEUE_URL,
    }),
    log: opts.log,
    counters: opts.counters,
    ...(opts.deadlineMarginMs === undefined ? {} : { deadlineMarginMs: opts.deadlineMarginMs }),
  });
}
