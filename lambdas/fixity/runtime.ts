import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3StoredCopies } from '../../shared/archive/s3-stored-copies.js';
import type { FixityConfig } from '../../shared/contracts/lambda-environment.js';
import { runScheduledAudit, type AuditRunResult } from '../../shared/fixity/scheduled-audit.js';
import { DynamoDbFixityRecords } from '../../shared/index/dynamodb-fixity.js';
import { DynamoDbFixityAudit } from '../../shared/index/dynamodb-fixity-audit.js';
import { createDocumentClient, createS3Client } from '../../shared/platform/aws-clients.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';

export interface FixityClients {
  s3: S3Client;
  doc: DynamoDBDocumentClient;
}

export function createFixityClients(config: FixityConfig): FixityClients {
  return {
    s3: createS3Client({ endpoint: config.LOCAL_S3_ENDPOINT }),
    doc: createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT }),
  };
}

/** Leave this much of the invocation for the page in hand and the checkpoint write. */
export const FIXITY_RESERVE_MS = 90_000;

/** Builds one scheduled run from validated configuration; shared by the Lambda and the tests. */
export function createFixityRuntime(
  config: FixityConfig,
  telemetry: { log: Log; counters: Counters },
  clients: FixityClients = createFixityClients(config),
  now: () => number = Date.now,
): (remainingMs: () => number) => Promise<AuditRunResult> {
  const copies = new S3StoredCopies(clients.s3);
  const records = new DynamoDbFixityRecords(clients.doc, config.INDEX_TABLE);
  const audit = new DynamoDbFixityAudit(clients.doc, config.INDEX_TABLE);
  return (remainingMs) =>
    runScheduledAudit(
      {
        copies,
        records,
        audit,
        now,
        ...telemetry,
        archiveBucket: config.ARCHIVE_BUCKET,
        outOfTime: () => remainingMs() < FIXITY_RESERVE_MS,
      },
      { rotationDays: config.FIXITY_ROTATION_DAYS, samplePercent: config.FIXITY_DEEP_SAMPLE_PERCENT },
    );
}
