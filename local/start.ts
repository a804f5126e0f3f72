// Over 400 lines: the one entry point that starts and stops every local part in order; the wiring of
// the workbench workers could move out (issue 17 note).
/**
 * `npm start`: the whole pipeline on one machine, against real servers that speak the AWS protocols.
 * DynamoDB (dynalite), S3 (s3rver) and the queue (fauxqs, SQLite) keep their data under the data
 * folder, so the archive and every queued job survive a crash and a restart; at start, jobs a killed
 * run left in flight are resumed at once (crash-recovery.ts). With ANTHROPIC_API_KEY set, files come
 * from the real API; otherwise from a built-in sample upstream. Either way the discovery pollers run
 * on their deployed schedule and find the files; nothing is enqueued by hand.
 *
 * ARCHIVER_S3=rgw runs S3 on Ceph's RADOS Gateway instead of s3rver (local-s3-choice.ts): the archive
 * bucket has versioning and Object Lock as deployed, so legal holds are real S3 legal holds. The
 * gateway keeps objects in RAM, so that mode runs on its own folder, `<data folder>/rgw-session`,
 * emptied at each start (index, queue and archive together): the index never names a lost object.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createIngestRuntime } from '../lambdas/ingest/runtime.js';
import { createLookupRuntime } from '../lambdas/lookup/runtime.js';
import { createDocumentClient, createS3Client, createSqsClient } from '../shared/platform/aws-clients.js';
import { createExportRuntime } from '../lambdas/export/runtime.js';
import {
  DiscoveryConfigSchema,
  ExportConfigSchema,
  IngestConfigSchema,
  LookupConfigSchema,
  WorkerBudgetConfigSchema,
  loadConfig,
} from '../shared/contracts/lambda-environment.js';
import { createPollerRuntime } from '../lambdas/discovery/runtime.js';
import {
  DISCOVERY_SOURCES,
  type DiscoverySource,
  POLLER_SOURCES,
  repeatWindowMs,
} from '../shared/contracts/discovery-sources.js';
import { DynamoDbDiscoveryStore } from '../shared/index/dynamodb-discovery-store.js';
import { describeError } from '../shared/platform/errors.js';
import { noCounters } from '../shared/platform/telemetry.js';
import { useLocalAwsEnvironment } from '../shared/platform/local-account.js';
import {
  allowConsoleDownloads,
  ensureBucket,
  ensureObjectLockBucket,
  ensureQueues,
  ensureTable,
} from './aws/resources.js';
import { DEFAULT_ARCHIVE_RETENTION } from '../shared/contracts/archive-retention.js';
import { chooseLocalS3, LocalS3Unavailable, type LocalS3Choice } from './local-s3-choice.js';
import { startConsoleServer } from './console-server.js';
import { startLocalAws } from './aws/servers.js';
import { createConsoleLog } from './console-log.js';
import { resumeAbandonedJobs } from './crash-recovery.js';
import { startLookupServer } from './lookup-server.js';
import { manageProcessLifecycle } from './process-lifecycle.js';
import { startPollerSchedule } from './poller-schedule.js';
import { sampleBacklog } from './sample-backlog.js';
import { SAMPLE_API_KEY, sampleChatFacts, sampleFiles, sampleProjects } from './sample-data.js';
import { startSqsEventSource } from './sqs-event-source.js';
import { DEFAULT_DATA_DIR, readStackInfo, stackFilePath } from '../shared/platform/local-stack-file.js';
import type { StackInfo } from '../shared/platform/local-stack-file.js';
import { startUpstreamServer } from './upstream/server.js';
import { startLocalWebhook } from './webhook-setup.js';
import { chooseUpstream } from './upstream-settings.js';

const BUCKET = 'claude-file-archive';
const TABLE = 'claude-file-index';
const QUEUE = 'claude-file-ingest';
const WEBHOOK_REPLAY_TABLE = 'claude-file-webhook-replays';
/** Exports: their own bucket (no Object Lock: bags are copies, deleted when done with) and queue. */
const EXPORTS_BUCKET = 'claude-file-exports';
const EXPORT_QUEUE = 'claude-file-export';
/** Lambda's function timeout in the deployed stack; the local event source counts down from it. */
const FUNCTION_TIMEOUT_SECONDS = 900;
/** Deliveries of a job before the queue moves it to the dead-letter queue (the deployed default). */
const MAX_RECEIVE_COUNT = 5;
/**
 * The pollers' timeout in the deployed stack (POLLER_TIMEOUT in infra/constructs/discovery-pollers.ts);
 * their schedules and repeat polling come from the poller registry (shared/contracts/discovery-sources.ts).
 */
const POLLER_TIMEOUT_SECONDS = 300;

/** How long Ctrl-C lets running jobs finish before the stack stops anyway (they are retried at the next start). */
const SHUTDOWN_GRACE_MS = 30_000;

const log = createConsoleLog('stack');
const lifecycle = manageProcessLifecycle(log);

async function main(): Promise<void> {
  useLocalAwsEnvironment();
  const env = process.env;
  const dataDir = DEFAULT_DATA_DIR;
  await mkdir(dataDir, { recursive: true });
  await refuseIfRunning(dataDir);
  const lookupPort = parsePort(env['LOOKUP_PORT'] ?? '8787', 'LOOKUP_PORT');
  const upstreamChoice = chooseUpstream(env);
  const s3Choice = chooseLocalS3(env, dataDir);
  if (s3Choice.server === 'rgw') {
    // Everything of a gateway run starts empty together (see the header).
    await rm(s3Choice.serverDataDir, { recursive: true, force: true });
    await mkdir(s3Choice.serverDataDir, { recursive: true });
  }

  const aws = await startLocalAws({
    s3: s3Choice.server,
    dataDir: s3Choice.serverDataDir,
    onUnexpectedExit: (reason) => lifecycle.fail(reason),
  });
  const s3 = createS3Client({ endpoint: aws.s3Endpoint });
  const sqs = createSqsClient({ endpoint: aws.sqsEndpoint });
  const doc = createDocumentClient({ endpoint: aws.dynamodbEndpoint });
  const queues = await ensureQueues(sqs, {
    name: QUEUE,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: 6 * FUNCTION_TIMEOUT_SECONDS,
  });
  const exportQueues = await ensureQueues(sqs, {
    name: EXPORT_QUEUE,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS + 60,
  });
  // On the gateway the archive is locked as deployed (infra/constructs/archive-bucket.ts); exports are not.
  if (s3Choice.server === 'rgw') await ensureObjectLockBucket(s3, BUCKET, DEFAULT_ARCHIVE_RETENTION);
  await ensureBucket(s3, BUCKET);
  await ensureBucket(s3, EXPORTS_BUCKET);
  await ensureTable(doc, TABLE);
  // Nothing polls yet: whatever is in flight was received by a run that is gone.
  const resumed = await resumeAbandonedJobs(aws.inFlightMessages(QUEUE), {
    sqs,
    queueUrl: queues.queueUrl,
    doc,
    table: TABLE,
    log,
  });
  if (resumed.resumed > 0) {
    log.info(
      `resumed ${resumed.resumed} job(s) the previous run left unfinished ` +
        `(${resumed.leasesReleased} lease(s) released)`,
    );
  }

  const backlog = sampleBacklog();
  const upstream =
    upstreamChoice.kind === 'sample'
      ? await startUpstreamServer({ apiKey: SAMPLE_API_KEY, files: [...sampleFiles(), ...backlog.files] })
      : undefined;
  if (upstream) {
    for (const [chatId, facts] of [...backlog.chatFacts, ...sampleChatFacts()])
      upstream.listings.setChat(chatId, facts);
    for (const project of sampleProjects()) upstream.listings.projects.set(project);
    upstream.listings.addActivities(...backlog.activities);
  }
  const { baseUrl: upstreamUrl, apiKey } =
    upstreamChoice.kind === 'real' ? upstreamChoice : { baseUrl: upstream?.url ?? '', apiKey: SAMPLE_API_KEY };

  const ingest = createIngestRuntime(
    loadConfig(IngestConfigSchema, {
      ARCHIVE_BUCKET: BUCKET,
      INDEX_TABLE: TABLE,
      INGEST_QUEUE_URL: queues.queueUrl,
      DEAD_LETTER_QUEUE_URL: queues.dlqUrl,
      MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
      ANTHROPIC_BASE_URL: upstreamUrl,
      ANTHROPIC_API_KEY: apiKey,
      LEASE_SECONDS: String(FUNCTION_TIMEOUT_SECONDS + 60),
      LOCAL_S3_ENDPOINT: aws.s3Endpoint,
      LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
      LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
      // s3rver has no Object Lock: there legal holds are recorded on the index only.
      LOCAL_S3_WITHOUT_OBJECT_LOCK: s3Choice.server === 'rgw' ? 'false' : 'true',
      ...pick(env, ['PART_SIZE_MIB', 'UPLOAD_CONCURRENCY', 'UPSTREAM_MAX_ATTEMPTS', 'UNSIZED_MAX_MIB']),
    }),
    {
      apiKey,
      log: createConsoleLog('ingest'),
      counters: noCounters,
      // The worker draws from the same request budget as the pollers, as deployed.
      budget: loadConfig(WorkerBudgetConfigSchema, {
        COMPLIANCE_REQUESTS_PER_MINUTE: '600',
        ...pick(env, BUDGET_VARIABLES),
      }),
    },
  );
  const discoveryConfig = loadConfig(DiscoveryConfigSchema, {
    INDEX_TABLE: TABLE,
    INGEST_QUEUE_URL: queues.queueUrl,
    ANTHROPIC_BASE_URL: upstreamUrl,
    ANTHROPIC_API_KEY: apiKey,
    POLLER_LEASE_SECONDS: String(POLLER_TIMEOUT_SECONDS + 60),
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
    ...pick(env, [...BUDGET_VARIABLES, 'ACTIVITY_START_AT', 'ACTIVITY_UPLOAD_JOB_DELAY_SECONDS']),
  });
  const pollerLog = createConsoleLog('discovery');
  const pollers = POLLER_SOURCES.map((source) => {
    // The deployed defaults: each source's schedule and repeat polling from the poller registry.
    const { scheduleMinutes, pollEverySeconds }: DiscoverySource = DISCOVERY_SOURCES[source];
    const config = {
      ...discoveryConfig,
      POLL_EVERY_SECONDS: pollEverySeconds ?? 0,
      POLL_WINDOW_SECONDS: repeatWindowMs(scheduleMinutes, pollEverySeconds) / 1000,
    };
    return {
      source,
      everyMinutes: scheduleMinutes,
      run: createPollerRuntime(source, config, { apiKey, log: pollerLog, counters: noCounters }),
    };
  });
  const lookup = createLookupRuntime(
    loadConfig(LookupConfigSchema, {
      ARCHIVE_BUCKET: BUCKET,
      INDEX_TABLE: TABLE,
      HOLD_WORK_QUEUE_URL: queues.queueUrl,
      // A release sweep waits out the local function timeout, as deployed it waits out the ingest one.
      HOLD_RELEASE_DELAY_SECONDS: String(Math.min(900, FUNCTION_TIMEOUT_SECONDS)),
      EXPORTS_BUCKET,
      EXPORT_QUEUE_URL: exportQueues.queueUrl,
      LOCAL_S3_ENDPOINT: aws.s3Endpoint,
      LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
      LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
      ...pick(env, ['PRESIGN_TTL_SECONDS']),
    }),
    createConsoleLog('lookup'),
  );
  const exportWorker = createExportRuntime(
    loadConfig(ExportConfigSchema, {
      INDEX_TABLE: TABLE,
      EXPORTS_BUCKET,
      EXPORT_QUEUE_URL: exportQueues.queueUrl,
      MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
      SOURCE_ORGANIZATION: 'Local sample organization',
      LOCAL_S3_ENDPOINT: aws.s3Endpoint,
      LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
      LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
      ...pick(env, ['EXPORT_PART_SIZE_MIB', 'EXPORT_UPLOAD_CONCURRENCY', 'SOURCE_ORGANIZATION']),
    }),
    createConsoleLog('export'),
  );
  const exportEvents = startSqsEventSource({
    sqs,
    queueUrl: exportQueues.queueUrl,
    handler: exportWorker,
    batchSize: 1,
    concurrency: 1,
    functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
    functionName: 'claude-file-export',
    logger: (entry) => {
      const { level, message, ...rest } = entry;
      createConsoleLog('sqs')[level](message, rest);
    },
  });

  const eventSource = startSqsEventSource({
    sqs,
    queueUrl: queues.queueUrl,
    handler: ingest,
    batchSize: 5,
    concurrency: 2,
    functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
    logger: (entry) => {
      const { level, message, ...rest } = entry;
      createConsoleLog('sqs')[level](message, rest);
    },
  });
  const localCaller = `local:${env['USER'] ?? 'auditor'}`;
  // The console first: its origin is the one the lookup API and the bucket allow (CORS).
  const consoleServer = await startConsoleServer({ port: parsePort(env['CONSOLE_PORT'] ?? '8789', 'CONSOLE_PORT') });
  await allowConsoleDownloads(s3, BUCKET, consoleServer.origin);
  const lookupServer = await startLookupServer(lookup, {
    port: lookupPort,
    defaultCaller: localCaller,
    corsOrigin: consoleServer.origin,
  });
  consoleServer.configure({
    apiUrl: lookupServer.url,
    region: aws.region,
    caller: localCaller,
    connectOrigins: [aws.s3Endpoint],
  });
  const webhook = await startLocalWebhook({
    env,
    doc,
    dynamodbEndpoint: aws.dynamodbEndpoint,
    sqsEndpoint: aws.sqsEndpoint,
    queueUrl: queues.queueUrl,
    indexTable: TABLE,
    replayTable: WEBHOOK_REPLAY_TABLE,
    upstreamUrl,
    apiKey,
    log: createConsoleLog('webhook'),
  });

  const info: StackInfo = {
    lookupUrl: lookupServer.url,
    consoleUrl: consoleServer.url,
    upstream: { url: upstreamUrl, sample: upstream !== undefined },
    region: aws.region,
    s3: { endpoint: aws.s3Endpoint, server: aws.s3Server, bucket: BUCKET },
    dynamodb: { endpoint: aws.dynamodbEndpoint, table: TABLE },
    sqs: { endpoint: aws.sqsEndpoint, queueUrl: queues.queueUrl, deadLetterQueueUrl: queues.dlqUrl },
    webhook: {
      url: webhook.url,
      secret: webhook.secret,
      ...(webhook.previousSecret ? { previousSecret: webhook.previousSecret } : {}),
      replayTable: webhook.replayTable,
    },
    dataDir,
    pid: process.pid,
  };
  // The file holds the local webhook secret: readable by its owner only, recreated at each start.
  await rm(stackFilePath(dataDir), { force: true });
  await writeFile(stackFilePath(dataDir), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  printBanner(info, consoleServer.built, s3Choice);

  // A run of a stack that was killed still holds its poller's lease; nothing else can be running now.
  const discoveryStore = new DynamoDbDiscoveryStore(doc, TABLE);
  for (const p of pollers) await discoveryStore.clearLease(p.source);
  const schedule = startPollerSchedule(pollers, { timeoutMs: POLLER_TIMEOUT_SECONDS * 1000, log: pollerLog });
  log.info(
    upstream
      ? `discovery is polling the sample upstream (${backlog.files.length + sampleFiles().length} files, ` +
          `${upstream.listings.chats().length} chats of which ${backlog.chatFacts.length} soft-deleted, ` +
          `${backlog.activities.length} activities); watch them being found and archived below`
      : 'discovery is polling the upstream on the deployed schedule',
  );

  lifecycle.setStop(async (reason) => {
    log.info(
      `${reason}: stopping; running jobs may finish for up to ${SHUTDOWN_GRACE_MS / 1000} s ` +
        '(Ctrl-C again stops at once)',
    );
    // Both stop taking work at once: waiting for the pollers first would let the event source take new
    // jobs for as long as a poller run takes to end.
    // An export still running stays in flight: the next start's delivery resumes it from its checkpoint.
    const [, { unfinishedBatches }] = await Promise.all([
      schedule.stop(),
      eventSource.stop({ graceMs: SHUTDOWN_GRACE_MS }),
      exportEvents.stop({ graceMs: SHUTDOWN_GRACE_MS }),
    ]);
    if (unfinishedBatches > 0) {
      log.warn(
        `${unfinishedBatches} batch(es) still running: their jobs stay queued and are retried at the next start`,
      );
    }
    await lookupServer.close();
    await consoleServer.close();
    await webhook.close();
    await upstream?.close();
    await aws.stop();
    await rm(stackFilePath(dataDir), { force: true });
    log.info(
      s3Choice.server === 'rgw'
        ? `stopped; the gateway's archive is gone with it, and the next start empties ${s3Choice.serverDataDir}`
        : `stopped; the archive, the index and the queue stay in ${dataDir}`,
    );
  });
}

function printBanner(info: StackInfo, consoleBuilt: boolean, s3Choice: LocalS3Choice): void {
  const sampleChat = 'claude_chat_01SampleQuarterlyReview';
  const secretNote = info.webhook.previousSecret
    ? '  (and the previous one, WEBHOOK_PREVIOUS_SECRET)'
    : '  (new at each start; WEBHOOK_SECRET keeps one)';
  const upstreamNote = info.upstream.sample ? '  (BUILT-IN SAMPLE upstream: no ANTHROPIC_API_KEY set)' : '  (real API)';
  const lines = [
    '',
    `claude-file-archiver is running locally (node ${process.version})`,
    `  lookup API       ${info.lookupUrl}`,
    `  auditor console  ${info.consoleUrl}${consoleBuilt ? '' : '  (NOT BUILT: run npm run build:console)'}`,
    `  webhook          POST ${info.webhook.url}  (Standard Webhooks signatures)`,
    `    secret         ${info.webhook.secret}${secretNote}`,
    `  upstream         ${info.upstream.url}${upstreamNote}`,
    ...(s3Choice.server === 'rgw'
      ? [
          `  S3               ${info.s3.endpoint}  bucket ${info.s3.bucket} (RADOS Gateway: versioning, Object Lock ` +
            `${DEFAULT_ARCHIVE_RETENTION.mode} ${DEFAULT_ARCHIVE_RETENTION.days} days)`,
          `  DynamoDB         ${info.dynamodb.endpoint}  table ${info.dynamodb.table} (dynalite)`,
          `  SQS              ${info.sqs.endpoint}  (fauxqs)`,
        ]
      : [
          `  S3               ${info.s3.endpoint}  bucket ${info.s3.bucket} (${info.s3.server}, on disk)`,
          `  DynamoDB         ${info.dynamodb.endpoint}  table ${info.dynamodb.table} (dynalite, on disk)`,
          `  SQS              ${info.sqs.endpoint}  (fauxqs, on disk)`,
        ]),
    `    queue          ${info.sqs.queueUrl}`,
    `    dead letters   ${info.sqs.deadLetterQueueUrl}`,
    `  data folder      ${info.dataDir}   (endpoints also in ${stackFilePath(info.dataDir)})`,
    ...(s3Choice.server === 'rgw'
      ? [
          `  GATEWAY MODE     archive, index and queue in ${s3Choice.serverDataDir}: EMPTIED AT EACH START`,
          '                   (the gateway keeps objects in memory; the s3rver archive in the data folder stays)',
        ]
      : []),
    '',
    'Try:',
    `  curl -s ${info.lookupUrl}/chats/${sampleChat}/files`,
    `  curl -s ${info.lookupUrl}/files/<fileId>`,
    `  curl -sL ${info.lookupUrl}/files/<fileId>/content -o file`,
    '  npm run archiver -- enqueue <fileId>... [--chat <chatId>]   (or a chat id: all its files)',
    `  npm run archiver -- export --chat ${sampleChat} --wait --download bag.zip   (a BagIt export)`,
    `  npm run webhook -- ${sampleChat} --reason "legal hold"   (signs and posts an event)`,
    '',
  ];
  console.log(lines.join('\n'));
}

/** LevelDB and s3rver hold the data folder exclusively: a second stack on it would fail obscurely. */
async function refuseIfRunning(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = (await readStackInfo(dataDir)).pid;
  } catch {
    return;
  }
  try {
    process.kill(pid, 0);
  } catch {
    return; // a stale file from a stack that did not shut down cleanly
  }
  throw new Error(
    `a local stack (pid ${pid}) is already running on ${dataDir}: stop it first, or set ARCHIVER_DATA_DIR`,
  );
}

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`${name} must be a port number, not "${value}"`);
  return port;
}

/** The shared request budget's settings (docs/configuration.md), read by the pollers and the worker. */
const BUDGET_VARIABLES = [
  'COMPLIANCE_REQUESTS_PER_MINUTE',
  'FILES_API_REQUESTS_PER_MINUTE',
  'BUDGET_WINDOW_MS',
  'POLLER_BUDGET_SHARE',
  'BUDGET_MAX_WAIT_MS',
];

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

main().catch((err: unknown) => {
  if (err instanceof LocalS3Unavailable) {
    // One line: what is missing and how to install it.
    console.error(`claude-file-archiver local stack did not start: ${err.message}`);
    process.exit(1);
  }
  log.error('could not start', { error: describeError(err), stack: err instanceof Error ? err.stack : undefined });
  console.error(`claude-file-archiver local stack did not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
