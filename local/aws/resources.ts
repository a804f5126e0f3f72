/**
 * Creates (or finds) the AWS resources a local run needs, on whichever server answers: the ingest
 * queue and its dead-letter queue, the archive bucket, the index table. Each call is idempotent, so
 * `npm start`, the tests and the benchmark can call them on every start.
 */
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { ALL_INDEXES } from '../../shared/contracts/search-index.js';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SQSServiceException,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { INDEX_TABLE_KEYS } from '../../shared/contracts/table-keys.js';
import type { ArchiveRetention } from '../../shared/contracts/archive-retention.js';

/** Queue URLs and ARNs made by {@link ensureQueues}. */
export interface EnsuredQueues {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

/**
 * Creates (or finds) a queue and its dead-letter queue `<name>-dlq`, with a RedrivePolicy that moves
 * a message to the DLQ after `maxReceiveCount` receives. Idempotent; on an existing queue whose
 * attributes differ, the given attributes are applied.
 */
export async function ensureQueues(
  sqs: SQSClient,
  opts: { name: string; maxReceiveCount: number; visibilityTimeoutSeconds: number },
): Promise<EnsuredQueues> {
  const dlqUrl = await ensureQueue(sqs, `${opts.name}-dlq`, {
    MessageRetentionPeriod: String(14 * 24 * 3600),
  });
  const dlqArn = await queueArnOf(sqs, dlqUrl);
  const queueUrl = await ensureQueue(sqs, opts.name, {
    VisibilityTimeout: String(opts.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: opts.maxReceiveCount }),
  });
  return { queueUrl, queueArn: await queueArnOf(sqs, queueUrl), dlqUrl, dlqArn };
}

async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!created.QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return created.QueueUrl;
  } catch (err) {
    // Real SQS and fauxqs refuse CreateQueue when the queue exists with other attributes.
    // The SDK names this error after the query-compatible code when the server sends one (fauxqs:
    // `AWS.SimpleQueueService.QueueNameExists`), so the class alone does not identify it.
    const exists =
      err instanceof QueueNameExists ||
      (err instanceof SQSServiceException && /QueueNameExists|QueueAlreadyExists/.test(err.name));
    if (!exists) throw err;
    const found = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!found.QueueUrl) throw new Error(`GetQueueUrl ${name} returned no QueueUrl`);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl, Attributes: attributes }));
    return found.QueueUrl;
  }
}

async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}

/**
 * Creates the bucket if missing and asks for versioning. Returns whether the server reports
 * versioning as Enabled afterwards. Neither local server keeps versions: s3rver mistakes
 * PutBucketVersioning for CreateBucket (409), fauxqs accepts it and ignores it, and neither returns
 * VersionIds, so callers must not rely on versions locally.
 */
export async function ensureBucket(
  s3: S3Client,
  name: string,
): Promise<{ created: boolean; versioningEnabled: boolean }> {
  // HeadBucket first: fauxqs answers 200 to CreateBucket on an existing bucket, so the create alone
  // cannot tell whether this call made it.
  const created = !(await bucketExists(s3, name));
  if (created) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    } catch (err) {
      // Another process created it between the HeadBucket and here.
      if (!isServiceError(err, 'BucketAlreadyOwnedByYou', 'BucketAlreadyExists')) throw err;
    }
  }
  try {
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    const { Status } = await s3.send(new GetBucketVersioningCommand({ Bucket: name }));
    return { created, versioningEnabled: Status === 'Enabled' };
  } catch (err) {
    if (err instanceof S3ServiceException) return { created, versioningEnabled: false };
    throw err;
  }
}

/**
 * Creates a bucket as infra/constructs/archive-bucket.ts deploys the archive, on a server that
 * implements Object Lock (the RADOS Gateway; the emulators do not): Object Lock enabled at creation,
 * which also turns versioning on; versioning asked for explicitly as well; and the default retention
 * `retention` applied to every new version. Not mirrored: SSE-KMS and the lifecycle rules. A bucket
 * that already exists is left as it is (Object Lock cannot be enabled on an existing bucket here).
 * AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html
 */
export async function ensureObjectLockBucket(
  s3: S3Client,
  name: string,
  retention: ArchiveRetention,
): Promise<{ created: boolean }> {
  if (await bucketExists(s3, name)) return { created: false };
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: name,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: retention.mode, Days: retention.days } },
      },
    }),
  );
  return { created: true };
}

async function bucketExists(s3: S3Client, name: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    return true;
  } catch (err) {
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return false;
    throw err;
  }
}

function isServiceError(err: unknown, ...names: string[]): boolean {
  return err instanceof Error && names.includes(err.name);
}

/**
 * Creates the index table with the key schema of shared/contracts/table-keys.ts (PAY_PER_REQUEST) unless it
 * exists, and waits until it is ACTIVE. Takes the document client (as createDocumentClient builds);
 * wrap a plain DynamoDBClient with `DynamoDBDocumentClient.from`.
 */
export async function ensureTable(ddb: DynamoDBDocumentClient, name: string): Promise<{ created: boolean }> {
  let created = false;
  if (!(await describeTableStatus(ddb, name))) {
    try {
      await ddb.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: indexAttributeDefinitions(),
          KeySchema: [
            { AttributeName: INDEX_TABLE_KEYS.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: INDEX_TABLE_KEYS.sortKey.name, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: ALL_INDEXES.map(indexDefinition),
        }),
      );
      created = true;
    } catch (err) {
      // Another process created it between our DescribeTable and CreateTable.
      if (!isServiceError(err, 'ResourceInUseException')) throw err;
    }
  }
  await waitForActive(ddb, name);
  // A table kept from before the search and trail indexes existed (a local stack's data directory)
  // gains them; DynamoDB creates one index per UpdateTable.
  if (!created) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of ALL_INDEXES.filter((i) => !present.has(i.name))) {
      await ddb.send(
        new UpdateTableCommand({
          TableName: name,
          AttributeDefinitions: indexAttributeDefinitions(),
          GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
        }),
      );
      await waitForActive(ddb, name);
    }
  }
  return { created };
}

async function waitForActive(ddb: DynamoDBDocumentClient, name: string): Promise<void> {
  // dynalite runs with createTableMs 0, but DynamoDB Local or a real table takes a moment.
  const deadline = Date.now() + 30_000;
  while ((await describeTableStatus(ddb, name)) !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The table's key attributes and every index's (shared/contracts/search-index.ts), all strings. */
function indexAttributeDefinitions(): { AttributeName: string; AttributeType: 'S' }[] {
  const { partitionKey, sortKey } = INDEX_TABLE_KEYS;
  const names = new Set<string>([partitionKey.name, sortKey.name]);
  for (const index of ALL_INDEXES) names.add(index.partitionKey).add(index.sortKey);
  return [...names].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
}

function indexDefinition(index: (typeof ALL_INDEXES)[number]) {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  };
}

async function describeTableStatus(ddb: DynamoDBDocumentClient, name: string): Promise<string | undefined> {
  try {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
    return Table?.TableStatus ?? 'UNKNOWN';
  } catch (err) {
    if (isServiceError(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}

/**
 * Lets the local console read presigned downloads from the bucket (a cross-origin GET from its page),
 * as the deployed archive bucket's CORS rule does for the console's CloudFront origin.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
 */
export async function allowConsoleDownloads(s3: S3Client, bucket: string, consoleOrigin: string): Promise<void> {
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          { AllowedOrigins: [consoleOrigin], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: [], MaxAgeSeconds: 600 },
        ],
      },
    }),
  );
}
