import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3DownloadSigner } from '../../shared/archive/s3-archive-store.js';
import { createDocumentClient, createS3Client, createSqsClient } from '../../shared/platform/aws-clients.js';
import { DynamoDbMatterStore } from '../../shared/index/dynamodb-holds.js';
import { DynamoDbFixityRecords } from '../../shared/index/dynamodb-fixity.js';
import { S3StoredCopies } from '../../shared/archive/s3-stored-copies.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import type { LookupConfig } from '../../shared/contracts/lambda-environment.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { DynamoDbUpstreamDeletions } from '../../shared/index/dynamodb-upstream-deletions.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { DynamoDbAccessTrail } from '../../shared/index/dynamodb-access-trail.js';
import { DynamoDbFileSearch } from '../../shared/index/dynamodb-file-search.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import { S3ExportStorage } from '../../shared/archive/s3-export-storage.js';
import type { ExportRequests } from '../../shared/export/export-requests.js';
import { DynamoDbExportJobs } from '../../shared/index/dynamodb-export-jobs.js';
import { createSqsExportQueue } from '../../shared/platform/sqs-export-queue.js';

export interface LookupClients {
  s3: S3Client;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/** The lookup function's AWS clients, as configured (SDK defaults in AWS, the endpoint overrides locally). */
export function createLookupClients(config: LookupConfig): LookupClients {
  return {
    s3: createS3Client({ endpoint: config.LOCAL_S3_ENDPOINT }),
    doc: createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT }),
    sqs: createSqsClient({ endpoint: config.LOCAL_SQS_ENDPOINT }),
  };
}

/**
 * Builds the lookup handler from validated configuration; shared by the Lambda and the local stack.
 * `clients` (from createLookupClients) lets a caller that observes their calls pass them in.
 */
export function createLookupRuntime(
  config: LookupConfig,
  log: Log,
  clients: LookupClients = createLookupClients(config),
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const ledger = new DynamoDbDiscoveryStore(clients.doc, config.INDEX_TABLE);
  const deletions = new DynamoDbUpstreamDeletions(clients.doc, config.INDEX_TABLE);
  const matters = new DynamoDbMatterStore(clients.doc, config.INDEX_TABLE);
  return createLookupHandler({
    index: new DynamoDbFileIndex(clients.doc, config.INDEX_TABLE),
    discovery: {
      listLedger: (source, limit, cursor) => ledger.listLedger(source, limit, cursor),
      getUpstreamDeletions: (ids) => deletions.getUpstreamDeletions(ids),
    },
    downloads: new S3DownloadSigner(clients.s3),
    search: new DynamoDbFileSearch(clients.doc, config.INDEX_TABLE),
    trail: new DynamoDbAccessTrail(clients.doc, config.INDEX_TABLE),
    exports: exportRequests(config, clients, matters),
    presignTtlSeconds: config.PRESIGN_TTL_SECONDS,
    holds: {
      matters,
      work: createSqsJobSender(clients.sqs, config.HOLD_WORK_QUEUE_URL, { maxAttempts: 2 }),
      releaseDelaySeconds: config.HOLD_RELEASE_DELAY_SECONDS,
      now: Date.now,
    },
    fixity: {
      copies: new S3StoredCopies(clients.s3),
      records: new DynamoDbFixityRecords(clients.doc, config.INDEX_TABLE),
      now: Date.now,
    },
    ...(config.CONSOLE_ORIGIN ? { corsOrigin: config.CONSOLE_ORIGIN } : {}),
    log,
  });
}

/** The export routes' port, when the deployment has exports (EXPORTS_BUCKET and EXPORT_QUEUE_URL). */
function exportRequests(
  config: LookupConfig,
  clients: LookupClients,
  matters: DynamoDbMatterStore,
): ExportRequests | undefined {
  if (!config.EXPORTS_BUCKET || !config.EXPORT_QUEUE_URL) return undefined;
  const bags = new S3ExportStorage(clients.s3, config.EXPORTS_BUCKET);
  const sqs = clients.sqs ?? createSqsClient({ endpoint: config.LOCAL_SQS_ENDPOINT });
  return {
    jobs: new DynamoDbExportJobs(clients.doc, config.INDEX_TABLE),
    queue: createSqsExportQueue(sqs, config.EXPORT_QUEUE_URL),
    presignBag: (key, ttl, filename) => bags.presign(key, ttl, filename),
    matters: (matterId) => matters.get(matterId),
  };
}
