import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { createIngestClients, createIngestRuntime } from '../../lambdas/ingest/runtime.js';
import { ensureQueues, ensureTable } from '../../local/aws/resources.js';
import type { EnsuredQueues } from '../../local/aws/resources.js';
import { toSqsRecord } from '../../local/lambda-sqs-shapes.js';
import type { UpstreamServer } from '../../local/upstream/server.js';
import { IngestConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { createS3Client, createSqsClient } from '../../shared/platform/aws-clients.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import { localAwsFromInject, uniqueName } from './local-aws.js';
import type { LocalAwsFixture } from './local-aws.js';
import { recordCallsOf, type ResourceBindings } from './permissions/aws-call-recorder.js';
import { startS3WriteCounter } from './s3-write-counter.js';
import { createArchiveBucket, type ArchiveBucketOnTier, type S3Tier } from './s3-tiers.js';
import { lambdaContextFactory } from './sqs-records.js';
import { TEST_UPSTREAM_API_KEY, startTestUpstream } from './upstream.js';

interface SdkMiddlewareStack {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

export interface Delivery {
  response: SQSBatchResponse;
  records: SQSRecord[];
  /** Message ids the handler reported as failed. */
  failed: string[];
}

export interface IngestStack {
  aws: LocalAwsFixture;
  s3: S3Client;
  bucket: string;
  table: string;
  queues: EnsuredQueues;
  /** The S3 tier's bucket, and on the gateway the users standing in for the deployed roles. */
  archive: ArchiveBucketOnTier;
  /** Which deployed resource each of this stack's bucket, table and queues stands for (permission checks). */
  bindings: ResourceBindings;
  upstream: UpstreamServer;
  index: DynamoDbFileIndex;
  logs: LogEntry[];
  metrics: { name: string; value: number; dimension?: { name: string; value: string } | undefined }[];
  /** Every call the handler's clients made, in order: the command, and the DynamoDB index a Query read. */
  sdkCalls: { command: string; indexName: string | undefined }[];
  /** Sends the bodies to the real queue, receives them back and runs the handler on them as one batch. */
  deliver(bodies: string[], opts?: { timeoutMs?: number }): Promise<Delivery>;
  /** Runs the handler on messages already received (for concurrent deliveries). */
  invoke(messages: Message[], opts?: { timeoutMs?: number }): Promise<Delivery>;
  sendAndReceive(bodies: string[]): Promise<Message[]>;
  /** Receives whatever is visible in the queue now (one long poll). */
  receiveAny(): Promise<Message[]>;
  metricTotal(name: string): number;
  /** Whether an object is visible at `key`. */
  objectExists(key: string): Promise<boolean>;
  /** How many times an object was committed at `key` (PutObject or CompleteMultipartUpload). */
  commits(key: string): number;
  /** Multipart uploads this stack created and did not complete or abort (observed on the wire). */
  openUploads(): number;
  /** Multipart uploads this stack created so far. */
  createdUploads(): number;
  readObject(key: string): Promise<{
    body: Buffer;
    contentType: string | undefined;
    contentDisposition: string | undefined;
    metadata: Record<string, string>;
  }>;
  /** Messages currently held by the dead-letter queue (received, then left to reappear). */
  deadLetters(): Promise<Message[]>;
  /** Messages in the ingest queue: visible, received and not yet back, and sent with a delay not yet over. */
  queueCounts(): Promise<{ visible: number; inFlight: number; delayed: number }>;
  close(): Promise<void>;
}

/**
 * A fresh bucket, table, queue pair and test upstream on the global setup's servers, with the ingest
 * handler built exactly as the Lambda builds it (createIngestClients, createIngestRuntime). Its
 * clients' calls are recorded as the ingest role's, and so are the receives and deletes this stack
 * makes in place of the event source mapping (which AWS makes with the function's role); the jobs it
 * sends are checked against the job producer policy.
 */
export async function createIngestStack(
  opts: {
    s3?: S3Tier;
    partSizeMib?: number;
    concurrency?: number;
    maxAttempts?: number;
    deadlineMarginMs?: number;
    /** The queue's redrive maxReceiveCount (default 3), also given to the handler. */
    maxReceiveCount?: number;
    /** UNSIZED_MAX_MIB (default 500). */
    unsizedMaxMib?: number;
    /** HOLD_PAGE_SIZE (default 500): index items a legal hold's sweep reads per message. */
    holdPageSize?: number;
  } = {},
): Promise<IngestStack> {
  const aws = localAwsFromInject();
  const name = uniqueName('ingest');
  const maxReceiveCount = opts.maxReceiveCount ?? 3;
  const queues = await ensureQueues(aws.sqs, { name, maxReceiveCount, visibilityTimeoutSeconds: 30 });
  const archive = await createArchiveBucket(opts.s3 ?? 'fauxqs', aws, name);
  const s3 = archive.s3;
  await ensureTable(aws.ddb, name);
  const upstream = await startTestUpstream();
  const writes = await startS3WriteCounter(archive.endpoint, { preserveHost: archive.verifiesSignatures });
  const logs: LogEntry[] = [];
  const metrics: IngestStack['metrics'] = [];
  const entry =
    (level: LogEntry['level']) =>
    (message: string, attributes: Record<string, unknown> = {}) => {
      logs.push({ level, message, attributes });
    };
  const log: Log = { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
  const counters: Counters = {
    record: (metric, value, _unit, dimension) => metrics.push({ name: metric, value, dimension }),
  };
  const queueName = (url: string) => new URL(url).pathname.split('/').pop() ?? url;
  const bindings: ResourceBindings = {
    buckets: { [name]: 'archiveBucket' },
    tables: { [name]: 'indexTable' },
    queues: { [queueName(queues.queueUrl)]: 'ingestQueue', [queueName(queues.dlqUrl)]: 'deadLetterQueue' },
  };
  const config = loadConfig(IngestConfigSchema, {
    ARCHIVE_BUCKET: name,
    INDEX_TABLE: name,
    INGEST_QUEUE_URL: queues.queueUrl,
    DEAD_LETTER_QUEUE_URL: queues.dlqUrl,
    MAX_RECEIVE_COUNT: String(maxReceiveCount),
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY,
    PART_SIZE_MIB: String(opts.partSizeMib ?? 5),
    UPLOAD_CONCURRENCY: String(opts.concurrency ?? 4),
    UPSTREAM_MAX_ATTEMPTS: String(opts.maxAttempts ?? 3),
    LEASE_SECONDS: '120',
    ...(opts.unsizedMaxMib === undefined ? {} : { UNSIZED_MAX_MIB: String(opts.unsizedMaxMib) }),
    ...(opts.holdPageSize === undefined ? {} : { HOLD_PAGE_SIZE: String(opts.holdPageSize) }),
    // Only the gateway has Object Lock; on the emulators the holds are recorded on the index only.
    LOCAL_S3_WITHOUT_OBJECT_LOCK: (opts.s3 ?? 'fauxqs') === 'rgw' ? 'false' : 'true',
    LOCAL_S3_ENDPOINT: writes.endpoint,
    LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
  });
  const clients = createIngestClients(config);
  // On the gateway the handler signs as a user holding exactly the ingest role's S3 statements.
  const ingestUser = await archive.credentialsFor('ingest');
  if (ingestUser) {
    clients.s3.destroy();
    clients.s3 = createS3Client({ endpoint: config.LOCAL_S3_ENDPOINT, region: aws.region, credentials: ingestUser });
  }
  for (const client of Object.values(clients)) recordCallsOf(client, 'ingest', bindings);
  const sdkCalls: IngestStack['sdkCalls'] = [];
  for (const client of Object.values(clients)) {
    (client as unknown as SdkMiddlewareStack).middlewareStack.add(
      (next, context) => async (args) => {
        const indexName = (args.input as { IndexName?: unknown }).IndexName;
        sdkCalls.push({
          command: context.commandName ?? '?',
          indexName: typeof indexName === 'string' ? indexName : undefined,
        });
        return next(args);
      },
      { step: 'initialize', name: 'ingestStackCallLog' },
    );
  }
  const eventSource = recordCallsOf(
    createSqsClient({ endpoint: aws.sqsEndpoint, region: aws.region }),
    'ingest',
    bindings,
    'event source mapping',
  );
  const producer = recordCallsOf(
    createSqsClient({ endpoint: aws.sqsEndpoint, region: aws.region }),
    'jobProducer',
    bindings,
  );
  const handler = createIngestRuntime(config, {
    clients,
    apiKey: TEST_UPSTREAM_API_KEY,
    log,
    counters,
    deadlineMarginMs: opts.deadlineMarginMs ?? 1_000,
  });

  const receive = async (): Promise<Message[]> => {
    const res = await eventSource.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return res.Messages ?? [];
  };

  const sendAndReceive = async (bodies: string[]): Promise<Message[]> => {
    const sent = new Set<string>();
    for (const body of bodies) {
      const res = await producer.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
      if (res.MessageId) sent.add(res.MessageId);
    }
    // Only the messages just sent: a message an earlier test left failed reappears after the
    // visibility timeout (30 s, which a loaded machine reaches mid-file) and must not be delivered in
    // their place. Such a stranger is left invisible again, to reappear later as it would anyway.
    const received: Message[] = [];
    for (let i = 0; i < 20 && received.length < bodies.length; i++)
      received.push(...(await receive()).filter((m) => m.MessageId !== undefined && sent.has(m.MessageId)));
    if (received.length !== bodies.length) throw new Error(`received ${received.length} of ${bodies.length} messages`);
    return received;
  };

  const invoke = async (messages: Message[], o: { timeoutMs?: number } = {}): Promise<Delivery> => {
    const records = messages.map((m) => toSqsRecord(m, `arn:aws:sqs:us-east-1:000000000000:${name}`, 'us-east-1'));
    const response = await handler({ Records: records }, lambdaContextFactory({ timeoutMs: o.timeoutMs ?? 60_000 }));
    const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
    // As the event source mapping does: delete what succeeded, leave failures to reappear.
    const done = messages.filter((m) => m.MessageId && !failed.includes(m.MessageId));
    if (done.length > 0) {
      await eventSource.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    return { response, records, failed };
  };

  return {
    aws,
    s3,
    bucket: name,
    table: name,
    queues,
    archive,
    bindings,
    upstream,
    index: new DynamoDbFileIndex(aws.ddb, name),
    logs,
    metrics,
    sdkCalls,
    sendAndReceive,
    receiveAny: receive,
    invoke,
    deliver: async (bodies, o) => invoke(await sendAndReceive(bodies), o),
    metricTotal: (metric) => metrics.filter((m) => m.name === metric).reduce((sum, m) => sum + m.value, 0),
    async objectExists(key) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: name, Key: key }));
        return true;
      } catch (err) {
        if (err instanceof Error && (err.name === 'NotFound' || err.name === 'NoSuchKey')) return false;
        throw err;
      }
    },
    commits: (key) => writes.commits(name, key),
    openUploads: () => writes.openUploads(name),
    createdUploads: () => writes.createdUploads(name),
    async readObject(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: name, Key: key }));
      if (!res.Body) throw new Error(`no body for ${key}`);
      const body = Buffer.from(await res.Body.transformToByteArray());
      return {
        body,
        contentType: res.ContentType,
        contentDisposition: res.ContentDisposition,
        metadata: res.Metadata ?? {},
      };
    },
    async deadLetters() {
      const res = await aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 0,
        }),
      );
      return res.Messages ?? [];
    },
    async queueCounts() {
      const res = await aws.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queues.queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return {
        visible: Number(res.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(res.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    },
    async close() {
      await upstream.close();
      await writes.close();
      for (const client of [...Object.values(clients), eventSource, producer]) client.destroy();
      archive.destroy();
      aws.destroy();
    },
  };
}
