/**
 * The local stack the CLI tests run `archiver` against: the same pieces `npm start` assembles
 * (local/start.ts) on the integration run's servers — s3rver for S3 as npm start uses, fauxqs,
 * dynalite, the local upstream with its listings, the ingest handler behind the SQS event source, the
 * lookup handler behind the local lookup server — and a stack file in a temporary data folder.
 * `run` starts the real CLI (cli/archiver.mjs) as a child process pointed at that folder. The ingest
 * and lookup handlers' calls (and the event source's, as the ingest role's) are checked against the
 * deployed roles after each test; the CLI's own calls are an operator's, under no role of the app.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createIngestClients, createIngestRuntime } from '../../lambdas/ingest/runtime.js';
import { createLookupClients, createLookupRuntime } from '../../lambdas/lookup/runtime.js';
import { ensureBucket, ensureQueues, ensureTable } from '../../local/aws/resources.js';
import type { EnsuredQueues } from '../../local/aws/resources.js';
import { startLookupServer } from '../../local/lookup-server.js';
import { startSqsEventSource } from '../../local/sqs-event-source.js';
import { stackFilePath } from '../../shared/platform/local-stack-file.js';
import type { StackInfo } from '../../shared/platform/local-stack-file.js';
import type { UpstreamFile } from '../../local/upstream/catalogue.js';
import type { UpstreamServer } from '../../local/upstream/server.js';
import { IngestConfigSchema, LookupConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import type { FileRecord } from '../../shared/contracts/file-records.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { createSqsClient } from '../../shared/platform/aws-clients.js';
import { noCounters } from '../../shared/platform/telemetry.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { localAwsFromInject, uniqueName } from './local-aws.js';
import type { LocalAwsFixture } from './local-aws.js';
import { recordCallsOf, type ResourceBindings } from './permissions/aws-call-recorder.js';
import { TEST_UPSTREAM_API_KEY, startTestUpstream } from './upstream.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliStack {
  aws: LocalAwsFixture;
  dataDir: string;
  table: string;
  bucket: string;
  queues: EnsuredQueues;
  upstream: UpstreamServer;
  files: DynamoDbFileIndex;
  /** Runs `archiver <args>` to completion. */
  run(args: string[], opts?: { env?: Record<string, string>; cwd?: string }): Promise<CliRun>;
  /** The environment `run` gives the CLI (for running it another way, e.g. under a pseudo-terminal). */
  cliEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Waits until the file's record is no longer pending (archived or unavailable). */
  waitForFinal(fileId: string, timeoutMs?: number): Promise<FileRecord>;
  close(): Promise<void>;
}

export const CLI_ENTRY = resolve('cli/archiver.mjs');

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

export async function createCliStack(opts: { files?: UpstreamFile[]; ingest?: boolean } = {}): Promise<CliStack> {
  const aws = localAwsFromInject();
  const name = uniqueName('cli');
  const queues = await ensureQueues(aws.sqs, { name, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
  await ensureBucket(aws.s3rver, name);
  await ensureTable(aws.ddb, name);
  const upstream = await startTestUpstream(opts.files ?? []);
  const queueName = (url: string) => new URL(url).pathname.split('/').pop() ?? url;
  const bindings: ResourceBindings = {
    buckets: { [name]: 'archiveBucket' },
    tables: { [name]: 'indexTable' },
    queues: { [queueName(queues.queueUrl)]: 'ingestQueue', [queueName(queues.dlqUrl)]: 'deadLetterQueue' },
  };
  const ingestConfig = loadConfig(IngestConfigSchema, {
    ARCHIVE_BUCKET: name,
    INDEX_TABLE: name,
    INGEST_QUEUE_URL: queues.queueUrl,
    DEAD_LETTER_QUEUE_URL: queues.dlqUrl,
    MAX_RECEIVE_COUNT: '3',
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY,
    LEASE_SECONDS: '120',
    // s3rver answers the legal-hold subresource NotImplemented: holds are recorded on the index only.
    LOCAL_S3_WITHOUT_OBJECT_LOCK: 'true',
    LOCAL_S3_ENDPOINT: aws.s3rverEndpoint,
    LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
  });
  const ingestClients = createIngestClients(ingestConfig);
  for (const client of Object.values(ingestClients)) recordCallsOf(client, 'ingest', bindings);
  const ingest = createIngestRuntime(ingestConfig, {
    clients: ingestClients,
    apiKey: TEST_UPSTREAM_API_KEY,
    log: quiet,
    counters: noCounters,
  });
  const eventSourceSqs = recordCallsOf(
    createSqsClient({ endpoint: aws.sqsEndpoint, region: aws.region }),
    'ingest',
    bindings,
    'event source mapping',
  );
  const eventSource =
    opts.ingest === false
      ? undefined
      : startSqsEventSource({
          sqs: eventSourceSqs,
          queueUrl: queues.queueUrl,
          handler: ingest,
          batchSize: 5,
          concurrency: 2,
          functionTimeoutSeconds: 60,
        });
  const lookupConfig = loadConfig(LookupConfigSchema, {
    ARCHIVE_BUCKET: name,
    INDEX_TABLE: name,
    HOLD_WORK_QUEUE_URL: queues.queueUrl,
    HOLD_RELEASE_DELAY_SECONDS: '0',
    LOCAL_S3_ENDPOINT: aws.s3rverEndpoint,
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
  });
  const lookupClients = createLookupClients(lookupConfig, {
    onClient: (client) => recordCallsOf(client, 'lookup', bindings),
  });
  const lookup = createLookupRuntime(lookupConfig, quiet, lookupClients);
  const lookupServer = await startLookupServer(lookup, { port: 0, defaultCaller: 'local:cli-test' });
  const dataDir = await mkdtemp(join(tmpdir(), 'archiver-cli-'));
  const info: StackInfo = {
    lookupUrl: lookupServer.url,
    upstream: { url: upstream.url, sample: false },
    region: aws.region,
    s3: { endpoint: aws.s3rverEndpoint, server: 's3rver', bucket: name },
    dynamodb: { endpoint: aws.dynamodbEndpoint, table: name },
    sqs: { endpoint: aws.sqsEndpoint, queueUrl: queues.queueUrl, deadLetterQueueUrl: queues.dlqUrl },
    // The CLI does not use the webhook; the stack file names one as npm start's does.
    webhook: { url: 'http://127.0.0.1:9/events', secret: 'whsec_Y2xpLXRlc3Qtd2ViaG9vay1zZWNyZXQ=', replayTable: name },
    dataDir,
    // The test process serves the stack, so it is the pid the CLI checks is alive.
    pid: process.pid,
  };
  await writeFile(stackFilePath(dataDir), `${JSON.stringify(info, null, 2)}\n`);
  const files = new DynamoDbFileIndex(aws.ddb, name);

  const cliEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    ARCHIVER_DATA_DIR: dataDir,
    // The stack's upstream is not the built-in sample, so the CLI takes the key from here.
    ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY,
    ...extra,
  });

  return {
    aws,
    dataDir,
    table: name,
    bucket: name,
    queues,
    upstream,
    files,
    cliEnv,
    run: (args, o = {}) => runCli(args, cliEnv(o.env), o.cwd),
    async waitForFinal(fileId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const record = await files.get(fileId);
        if (record && record.status !== 'pending') return record;
        if (Date.now() > deadline)
          throw new Error(`${fileId} is still ${record?.status ?? 'unseen'} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async close() {
      await eventSource?.stop();
      await lookupServer.close();
      for (const client of [...Object.values(ingestClients), eventSourceSqs]) client.destroy();
      lookupClients.destroy();
      await upstream.close();
      await rm(dataDir, { recursive: true, force: true });
      aws.destroy();
    },
  };
}

/** Runs the CLI as a child process, as a user's shell would (stdin closed, stdout and stderr pipes). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
  onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void,
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      env,
      cwd: cwd ?? process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(chunk, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}
