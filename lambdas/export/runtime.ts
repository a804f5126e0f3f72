import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { S3ExportStorage } from '../../shared/archive/s3-export-storage.js';
import type { ExportConfig } from '../../shared/contracts/lambda-environment.js';
import { ExportMessageSchema } from '../../shared/contracts/exports.js';
import { runExport } from '../../shared/export/export-run.js';
import type { ExportDeps } from '../../shared/export/export-run.js';
import {
  DynamoDbDiscoveryRuns,
  DynamoDbExportJobs,
  DynamoDbScopeReader,
} from '../../shared/index/dynamodb-export-jobs.js';
import { DynamoDbUpstreamDeletions } from '../../shared/index/dynamodb-upstream-deletions.js';
import { DynamoDbMatterStore } from '../../shared/index/dynamodb-holds.js';
import { DynamoDbAccessTrail, fileTrailReader } from '../../shared/index/dynamodb-access-trail.js';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient, createS3Client, createSqsClient } from '../../shared/platform/aws-clients.js';
import { describeError } from '../../shared/platform/errors.js';
import { createSqsExportQueue } from '../../shared/platform/sqs-export-queue.js';
import type { Log } from '../../shared/platform/telemetry.js';

const MiB = 1024 * 1024;

export interface ExportClients {
  s3: S3Client;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/** The export worker's AWS clients, as configured (SDK defaults in AWS, the endpoint overrides locally). */
export function createExportClients(config: ExportConfig): ExportClients {
  return {
    s3: createS3Client({ endpoint: config.LOCAL_S3_ENDPOINT }),
    doc: createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT }),
    sqs: createSqsClient({ endpoint: config.LOCAL_SQS_ENDPOINT }),
  };
}

/**
 * What an export reads and writes in the index table: its job, the files it selects, the legal-hold
 * matters (an export by matter id; every report's holds), and each report's evidence, the access
 * trail's events naming the file included (a Query of the trail's file index, never a write).
 */
export function exportIndexDeps(
  doc: DynamoDBDocumentClient,
  table: string,
): Pick<ExportDeps, 'jobs' | 'scope' | 'matters' | 'custody'> {
  const deletions = new DynamoDbUpstreamDeletions(doc, table);
  const matters = new DynamoDbMatterStore(doc, table);
  return {
    jobs: new DynamoDbExportJobs(doc, table),
    scope: new DynamoDbScopeReader(doc, table),
    matters: (matterId) => matters.get(matterId),
    custody: {
      upstreamDeletions: (ids) => deletions.getUpstreamDeletions(ids),
      // One ledger Query per source serves every file archived between the same two poller runs.
      discoveryRuns: new DynamoDbDiscoveryRuns(doc, table).runsFor,
      matters: () => matters.list(),
      trail: fileTrailReader(new DynamoDbAccessTrail(doc, table)),
    },
  };
}

/**
 * The export worker for an SQS event source (batch size 1): runs the export the message names until
 * it completes or the function's time is nearly up; then it queues the job's next run, which resumes
 * from the checkpoint. A run that fails returns its message to the queue (a batch item failure), so
 * the next delivery resumes; on the queue's last delivery the export is recorded failed.
 */
export function createExportRuntime(
  config: ExportConfig,
  log: Log,
  clients: ExportClients = createExportClients(config),
): (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse> {
  // Tests pass clients that record each call, to check it against the deployed role's grants.
  const { doc, s3, sqs } = clients;
  const queue = createSqsExportQueue(sqs, config.EXPORT_QUEUE_URL);
  const index = exportIndexDeps(doc, config.INDEX_TABLE);
  const jobs = index.jobs;
  const deps: ExportDeps = {
    ...index,
    storage: new S3ExportStorage(s3, config.EXPORTS_BUCKET),
    log,
  };
  const settings = {
    partBytes: config.EXPORT_PART_SIZE_MIB * MiB,
    concurrency: config.EXPORT_UPLOAD_CONCURRENCY,
    sourceOrganization: config.SOURCE_ORGANIZATION,
    checkpointEverySeconds: config.EXPORT_CHECKPOINT_SECONDS,
  };

  return async (event, context) => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const parsed = ExportMessageSchema.safeParse(safeJson(record.body));
      if (!parsed.success) {
        // Not a job this worker can run: it goes to the dead-letter queue after its receives, reason logged.
        log.error('export message rejected', { messageId: record.messageId, reason: parsed.error.issues[0]?.message });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const { exportId } = parsed.data;
      const deadlineMs = Date.now() + context.getRemainingTimeInMillis() - config.EXPORT_STOP_MARGIN_SECONDS * 1000;
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new Error('the function is out of time')),
        Math.max(0, context.getRemainingTimeInMillis() - 10_000),
      );
      try {
        const outcome = await runExport(exportId, deps, settings, deadlineMs, controller.signal);
        if (outcome.kind === 'continue') await queue.send({ exportId });
        if (outcome.kind === 'skipped') log.info('export message skipped', { exportId, reason: outcome.reason });
      } catch (err) {
        const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
        log.error('export run failed', { exportId, receives, error: describeError(err) });
        if (receives >= config.MAX_RECEIVE_COUNT) {
          await jobs.update(exportId, {
            status: 'failed',
            error: `the export failed ${receives} times; last: ${describeError(err)}`,
            updatedAt: new Date().toISOString(),
          });
        } else {
          failures.push({ itemIdentifier: record.messageId });
        }
      } finally {
        clearTimeout(timer);
      }
    }
    return { batchItemFailures: failures };
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
