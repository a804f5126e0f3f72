import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, it } from 'vitest';
import { z } from 'zod';
import { ensureBucket, ensureQueues, ensureTable } from '../../local/aws/resources.js';
import { startLocalAws } from '../../local/aws/servers.js';
import { createDocumentClient, createS3Client, createSqsClient } from '../../shared/platform/aws-clients.js';
import { INDEX_TABLE_KEYS } from '../../shared/contracts/table-keys.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';

// Proves that the local stack starts on loopback only, stops cleanly, keeps DynamoDB, s3rver and
// queue data across a restart with a data dir, that the ensure* helpers are idempotent, and records what
// the local S3 servers do not support (versioning).

const aws = localAwsFromInject();
const tempDirs: string[] = [];

afterAll(async () => {
  aws.destroy();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archiver-local-aws-test-'));
  tempDirs.push(dir);
  return dir;
}

/** Resolves 'open' if a TCP connection to host:port succeeds, else the error code. */
async function probe(host: string, port: number): Promise<string> {
  const socket = connect({ host, port });
  try {
    await once(socket, 'connect');
    return 'open';
  } catch (err) {
    return err instanceof Error && 'code' in err ? String(err.code) : 'error';
  } finally {
    socket.destroy();
  }
}

function portOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

/** An IPv4 address of this machine other than loopback, if it has one. */
function otherLocalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

describe.concurrent('startLocalAws', () => {
  it('binds every server to 127.0.0.1 only', async ({ expect }) => {
    const endpoints = [aws.s3Endpoint, aws.sqsEndpoint, aws.dynamodbEndpoint, aws.s3rverEndpoint];
    for (const endpoint of endpoints) {
      expect(new URL(endpoint).hostname).toBe('127.0.0.1');
      expect(await probe('127.0.0.1', portOf(endpoint))).toBe('open');
    }
    const other = otherLocalAddress();
    // Machines without another interface cannot show the negative; loopback binding is still asserted above.
    if (other) {
      for (const endpoint of endpoints) expect(await probe(other, portOf(endpoint))).toBe('ECONNREFUSED');
    }
  });

  it(
    'keeps DynamoDB items, s3rver objects and queued messages (in ' +
      'flight ones too) across a restart on the same data dir, and ' +
      'frees its ports on stop',
    async ({ expect }) => {
      const dataDir = await tempDir();
      const table = 'persisted-index';
      const bucket = 'persisted-archive';
      const queue = 'persisted-queue';

      const first = await startLocalAws({ s3: 's3rver', dataDir });
      expect(first.s3Server).toBe('s3rver');
      const other = otherLocalAddress();
      if (other) expect(await probe(other, portOf(first.sqsEndpoint))).toBe('ECONNREFUSED');
      let inFlightId: string | undefined;
      {
        const ddb = createDocumentClient({ endpoint: first.dynamodbEndpoint });
        const s3 = createS3Client({ endpoint: first.s3Endpoint });
        const sqs = createSqsClient({ endpoint: first.sqsEndpoint });
        expect(await ensureTable(ddb, table)).toEqual({ created: true });
        await ddb.send(new PutCommand({ TableName: table, Item: { pk: 'FILE#f1', sk: 'FILE', state: 'ARCHIVED' } }));
        expect(await ensureBucket(s3, bucket)).toMatchObject({ created: true });
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'files/f1', Body: 'archived bytes' }));
        const { queueUrl } = await ensureQueues(sqs, {
          name: queue,
          maxReceiveCount: 5,
          visibilityTimeoutSeconds: 600,
        });
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'taken' }));
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
        inFlightId = Messages[0]?.MessageId;
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'waiting' }));
        expect(first.inFlightMessages(queue)).toEqual([
          { messageId: inFlightId, receiptHandle: Messages[0]?.ReceiptHandle, body: 'taken' },
        ]);
        ddb.destroy();
        s3.destroy();
        sqs.destroy();
      }
      await first.stop();
      for (const endpoint of [first.dynamodbEndpoint, first.s3Endpoint, first.sqsEndpoint]) {
        expect(await probe('127.0.0.1', portOf(endpoint))).toBe('ECONNREFUSED');
      }

      const second = await startLocalAws({ s3: 's3rver', dataDir });
      try {
        const ddb = createDocumentClient({ endpoint: second.dynamodbEndpoint });
        const s3 = createS3Client({ endpoint: second.s3Endpoint });
        expect(await ensureTable(ddb, table)).toEqual({ created: false });
        const { Item } = await ddb.send(new GetCommand({ TableName: table, Key: { pk: 'FILE#f1', sk: 'FILE' } }));
        expect(Item).toEqual({ pk: 'FILE#f1', sk: 'FILE', state: 'ARCHIVED' });
        expect(await ensureBucket(s3, bucket)).toMatchObject({ created: false });
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'files/f1' }));
        expect(await object.Body?.transformToString()).toBe('archived bytes');
        // The queue is back with both messages: one waiting, one still in flight with its receipt handle.
        const sqs = createSqsClient({ endpoint: second.sqsEndpoint });
        const { queueUrl } = await ensureQueues(sqs, {
          name: queue,
          maxReceiveCount: 5,
          visibilityTimeoutSeconds: 600,
        });
        expect(second.inFlightMessages(queue).map((m) => [m.messageId, m.body])).toEqual([[inFlightId, 'taken']]);
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        expect(Messages.map((m) => m.Body)).toEqual(['waiting']);
        // s3rver keeps no versions, so every write it acknowledged is in the write log.
        const writes = (await readFile(join(dataDir, 's3-writes.log'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(writes).toEqual([
          expect.objectContaining({ event: 'ObjectCreated:Put', bucket, key: 'files/f1', size: 14 }),
        ]);
        ddb.destroy();
        s3.destroy();
        sqs.destroy();
      } finally {
        await second.stop();
      }
    },
  );

  it('uses the ports it is given', async ({ expect }) => {
    const probeServer = await startLocalAws({ s3: 'fauxqs' });
    const dynamodbPort = portOf(probeServer.dynamodbEndpoint);
    const fauxqsPort = portOf(probeServer.sqsEndpoint);
    await probeServer.stop();
    const fixed = await startLocalAws({ s3: 'fauxqs', ports: { dynamodb: dynamodbPort, fauxqs: fauxqsPort } });
    try {
      expect(fixed.dynamodbEndpoint).toBe(`http://127.0.0.1:${dynamodbPort}`);
      expect(fixed.sqsEndpoint).toBe(`http://127.0.0.1:${fauxqsPort}`);
      expect(fixed.s3Endpoint).toBe(fixed.sqsEndpoint);
    } finally {
      await fixed.stop();
    }
  });

  it('s3rver exits when the process that started it is killed', async ({ expect }) => {
    const dir = await tempDir();
    const script = fileURLToPath(new URL('../support/s3rver-parent-process.ts', import.meta.url));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const parent = spawn(process.execPath, ['--import', tsx, script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line]: unknown[] = await once(createInterface({ input: parent.stdout }), 'line');
    const { pid, port } = z.object({ pid: z.number(), port: z.number() }).parse(JSON.parse(String(line)));
    expect(await probe('127.0.0.1', port)).toBe('open');

    parent.kill('SIGKILL');
    const deadline = Date.now() + 5_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
    expect(await probe('127.0.0.1', port)).toBe('ECONNREFUSED');
  });
});

describe.concurrent('ensure helpers', () => {
  it('ensureTable creates the index table with the shared key schema, on demand billing, once', async ({ expect }) => {
    const name = uniqueName('index');
    expect(await ensureTable(aws.ddb, name)).toEqual({ created: true });
    expect(await ensureTable(aws.ddb, name)).toEqual({ created: false });
    const { Table } = await aws.ddb.send(new DescribeTableCommand({ TableName: name }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: INDEX_TABLE_KEYS.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: INDEX_TABLE_KEYS.sortKey.name, KeyType: 'RANGE' },
    ]);
  });

  it('ensureQueues creates a queue whose RedrivePolicy targets its DLQ, and re-applies changed settings', async ({
    expect,
  }) => {
    const name = uniqueName('ingest');
    const first = await ensureQueues(aws.sqs, { name, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
    expect(first.dlqUrl.endsWith(`/${name}-dlq`)).toBe(true);
    const again = await ensureQueues(aws.sqs, { name, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
    expect(again).toEqual(first);
    await ensureQueues(aws.sqs, { name, maxReceiveCount: 7, visibilityTimeoutSeconds: 45 });

    const { Attributes = {} } = await aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: first.queueUrl,
        AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
      }),
    );
    expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: first.dlqArn,
      maxReceiveCount: 7,
    });
    expect(Attributes.VisibilityTimeout).toBe('45');
  });

  it('ensureBucket is idempotent on both S3 servers; neither keeps versions (no VersionId on PutObject)', async ({
    expect,
  }) => {
    for (const s3 of [aws.s3, aws.s3rver]) {
      const bucket = uniqueName('archive');
      expect(await ensureBucket(s3, bucket)).toEqual({ created: true, versioningEnabled: false });
      expect(await ensureBucket(s3, bucket)).toEqual({ created: false, versioningEnabled: false });
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
      expect(put.VersionId).toBeUndefined();
    }
  });
});

describe('clients from the global setup', () => {
  it('reach each server with the shared client factories', async ({ expect }) => {
    const sqs = createSqsClient({ endpoint: aws.sqsEndpoint });
    const { queueUrl } = await ensureQueues(sqs, {
      name: uniqueName('reach'),
      maxReceiveCount: 1,
      visibilityTimeoutSeconds: 1,
    });
    expect(queueUrl).toContain('/000000000000/');
    sqs.destroy();
  });
});

// What the local S3 servers do and do not do, checked rather than assumed: tests that rely on one
// of these must pick the server that has it. If a server upgrade changes one, these fail first.
describe.concurrent('local S3 server capabilities', () => {
  async function openUpload(s3: typeof aws.s3, bucket: string) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
    await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, Body: Buffer.alloc(16) }),
    );
    return UploadId;
  }

  it(
    'fauxqs: AbortMultipartUpload works (NoSuchUpload afterwards), ' +
      'but ListMultipartUploads never lists an open upload',
    async ({ expect }) => {
      const bucket = uniqueName('caps');
      await ensureBucket(aws.s3, bucket);
      const uploadId = await openUpload(aws.s3, bucket);
      const listed = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(listed.Uploads ?? []).toEqual([]);
      await aws.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', UploadId: uploadId }));
      await expect(
        aws.s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: 'mpu',
            UploadId: uploadId,
            PartNumber: 2,
            Body: Buffer.alloc(16),
          }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    },
  );

  it('s3rver: AbortMultipartUpload answers 405 and ListMultipartUploads 501', async ({ expect }) => {
    const bucket = uniqueName('caps');
    await ensureBucket(aws.s3rver, bucket);
    const uploadId = await openUpload(aws.s3rver, bucket);
    await expect(aws.s3rver.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 501 },
    });
    await expect(
      aws.s3rver.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', UploadId: uploadId })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 405 } });
  });

  it('presigned GET URLs expire on s3rver (403) but never on fauxqs', async ({ expect }) => {
    const urls: Record<'fauxqs' | 's3rver', string> = { fauxqs: '', s3rver: '' };
    for (const [server, s3] of [
      ['fauxqs', aws.s3],
      ['s3rver', aws.s3rver],
    ] as const) {
      const bucket = uniqueName('presign');
      await ensureBucket(s3, bucket);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
      // X-Amz-Date has whole seconds, so a URL can live up to a second less than expiresIn: 3 s keeps
      // the fresh fetch safely inside its lifetime on a busy machine.
      urls[server] = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), { expiresIn: 3 });
      expect((await fetch(urls[server])).status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    expect((await fetch(urls.s3rver)).status).toBe(403);
    expect((await fetch(urls.fauxqs)).status).toBe(200);
  });
});
