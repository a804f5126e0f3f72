/**
 * The local AWS stack: real servers that speak the AWS wire protocols, started in-process (or, for
 * s3rver, as a child process) and bound to 127.0.0.1 only. See ../shared/docs/local-aws.md for why
 * these servers and their quirks.
 *
 * - DynamoDB: dynalite, in memory or on disk under `<dataDir>/dynamodb`.
 * - SQS: fauxqs, in memory (queues and messages do not survive a restart).
 * - S3: fauxqs (in memory, correct multipart) or s3rver (on disk under `<dataDir>/s3`, expiring
 *   presigned URLs, no AbortMultipartUpload).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  PutBucketVersioningCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
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
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import { INDEX_TABLE_KEYS } from '../shared/contracts/table-keys.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './local-account.js';
import { closeHttpServer, listenOnLoopback, LOOPBACK_HOST } from './loopback.js';
import type { S3rverReadyMessage } from './s3rver-process.js';

export { LOCAL_ACCOUNT_ID, LOCAL_REGION };

/** s3rver accepts only this access key; the other servers accept anything. */
const LOCAL_ACCESS_KEY = 'S3RVER';

export type LocalS3Server = 'fauxqs' | 's3rver';

export interface LocalAwsOptions {
  /** Which server answers S3: fauxqs (in memory) or s3rver (on disk). */
  s3: LocalS3Server;
  /**
   * Directory for on-disk state: dynalite's LevelDB under `dynamodb/`, s3rver's objects under `s3/`.
   * Without it DynamoDB is in memory and s3rver (if chosen) uses a temporary directory removed on stop.
   */
  dataDir?: string;
  /** Fixed ports; 0 or absent picks a free port. */
  ports?: { dynamodb?: number; fauxqs?: number; s3rver?: number };
}

export interface LocalAws {
  region: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  s3Server: LocalS3Server;
  /** Stops every server this call started; safe to call twice. */
  stop(): Promise<void>;
}

export interface RunningServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** s3rver runs in a child process; its pid lets a caller check that it is gone. */
export interface S3rverServer extends RunningServer {
  pid: number;
}

/**
 * Points the SDK at the local servers' dummy identity: local credentials, the local region and no
 * instance-metadata probing. Real credentials, a session token or a profile in the caller's shell are
 * overridden, because nothing local may ever reach real AWS, and s3rver accepts only its own key.
 */
export function useLocalAwsEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ACCESS_KEY_ID = LOCAL_ACCESS_KEY;
  env.AWS_SECRET_ACCESS_KEY = LOCAL_ACCESS_KEY;
  env.AWS_REGION = LOCAL_REGION;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
}

/** Starts DynamoDB (dynalite), SQS + optionally S3 (fauxqs) and optionally s3rver, on loopback. */
export async function startLocalAws(opts: LocalAwsOptions): Promise<LocalAws> {
  const started: RunningServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  };
  try {
    const dynamodb = await startDynalite({
      ...(opts.dataDir ? { path: join(opts.dataDir, 'dynamodb') } : {}),
      port: opts.ports?.dynamodb ?? 0,
    });
    started.push(dynamodb);
    const fauxqs = await startFauxqsServer({ port: opts.ports?.fauxqs ?? 0 });
    started.push(fauxqs);
    let s3Endpoint = fauxqs.endpoint;
    if (opts.s3 === 's3rver') {
      const s3rver = await startS3rver({
        ...(opts.dataDir ? { directory: join(opts.dataDir, 's3') } : {}),
        port: opts.ports?.s3rver ?? 0,
      });
      started.push(s3rver);
      s3Endpoint = s3rver.endpoint;
    }
    return {
      region: LOCAL_REGION,
      s3Endpoint,
      sqsEndpoint: fauxqs.endpoint,
      dynamodbEndpoint: dynamodb.endpoint,
      s3Server: opts.s3,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Starts dynalite on 127.0.0.1; tables are ACTIVE at once. With `path`, data persists there. */
export async function startDynalite(opts: { path?: string; port?: number } = {}): Promise<RunningServer> {
  if (opts.path) await mkdir(opts.path, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.path ? { path: opts.path } : {}),
  });
  const port = await listenOnLoopback(server, opts.port ?? 0);
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    stop: callOnce(() => closeHttpServer(server)),
  };
}

/** Starts fauxqs (SQS, S3 in memory, SNS) on 127.0.0.1; its CLI would bind every interface. */
export async function startFauxqsServer(opts: { port?: number } = {}): Promise<RunningServer> {
  const app = buildApp({ logger: false, defaultRegion: LOCAL_REGION });
  const address = await app.listen({ port: opts.port ?? 0, host: LOOPBACK_HOST });
  const port = Number(new URL(address).port);
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    stop: callOnce(async () => {
      const closing = app.close();
      // A long-polling ReceiveMessage would otherwise hold close() for up to 20 s.
      app.server.closeAllConnections();
      await closing;
    }),
  };
}

/**
 * Starts s3rver in a child process (it needs `--openssl-legacy-provider`, see s3rver-process.ts),
 * storing objects under `directory` (a temporary directory, removed on stop, when absent). The child
 * exits when this process stops it, exits or dies.
 */
export async function startS3rver(opts: { directory?: string; port?: number } = {}): Promise<S3rverServer> {
  const temporary = opts.directory === undefined;
  const directory = opts.directory ?? (await mkdtemp(join(tmpdir(), 'archiver-s3rver-')));
  await mkdir(directory, { recursive: true });

  const script = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url));
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(script, ['--directory', directory, '--port', String(opts.port ?? 0)], {
    execArgv: ['--import', tsxLoader],
    env: {
      ...process.env,
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--openssl-legacy-provider'].filter(Boolean).join(' '),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  let port: number;
  try {
    port = await waitForS3rverReady(child, 20_000);
    if (child.pid === undefined) throw new Error('s3rver child has no pid');
  } catch (err) {
    child.kill('SIGKILL');
    if (temporary) await rm(directory, { recursive: true, force: true });
    throw err;
  }
  // Neither the child nor its IPC channel should keep this process alive: stop() is the clean path,
  // and the child exits by itself when the channel closes.
  child.unref();
  child.channel?.unref();

  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    pid: child.pid,
    stop: callOnce(async () => {
      await stopChild(child, 5_000);
      if (temporary) await rm(directory, { recursive: true, force: true });
    }),
  };
}

function waitForS3rverReady(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`s3rver did not start within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown): void => {
      if (isS3rverReady(message)) finish(message.port);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`s3rver exited before it was ready (code ${code}, signal ${signal})`));
    const onError = (err: Error): void => finish(err);
    function finish(result: number | Error): void {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    }
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}

function isS3rverReady(message: unknown): message is S3rverReadyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    'type' in message &&
    message.type === 's3rver-ready' &&
    'port' in message &&
    typeof message.port === 'number'
  );
}

async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Closing the IPC channel is the child's cue to close its server and exit.
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Wraps a stop function so that a second call gets the first call's promise. */
function callOnce(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}

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
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const { Status } = await s3.send(new GetBucketVersioningCommand({ Bucket: name }));
    return { created, versioningEnabled: Status === 'Enabled' };
  } catch (err) {
    if (err instanceof S3ServiceException) return { created, versioningEnabled: false };
    throw err;
  }
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
export async function ensureTable(
  ddb: DynamoDBDocumentClient,
  name: string,
): Promise<{ created: boolean }> {
  const { partitionKey, sortKey } = INDEX_TABLE_KEYS;
  let created = false;
  if (!(await describeTableStatus(ddb, name))) {
    try {
      await ddb.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
            { AttributeName: sortKey.name, AttributeType: sortKey.type },
          ],
          KeySchema: [
            { AttributeName: partitionKey.name, KeyType: 'HASH' },
            { AttributeName: sortKey.name, KeyType: 'RANGE' },
          ],
        }),
      );
      created = true;
    } catch (err) {
      // Another process created it between our DescribeTable and CreateTable.
      if (!isServiceError(err, 'ResourceInUseException')) throw err;
    }
  }
  // dynalite runs with createTableMs 0, but DynamoDB Local or a real table takes a moment.
  const deadline = Date.now() + 30_000;
  while ((await describeTableStatus(ddb, name)) !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { created };
}

async function describeTableStatus(
  ddb: DynamoDBDocumentClient,
  name: string,
): Promise<string | undefined> {
  try {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
    return Table?.TableStatus ?? 'UNKNOWN';
  } catch (err) {
    if (isServiceError(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}
