/**
 * `npm run bench:discovery`: discovery and ingest drawing from one request budget against a local
 * upstream that enforces its rate limit. Everything runs in this process on loopback servers:
 * dynalite (DynamoDB), fauxqs (SQS and S3, in memory), the local upstream, the ingest handler behind
 * the local SQS event source, and the chat and activity pollers.
 *
 *   npm run bench:discovery -- [--chats 1000] [--files-per-chat 5] [--scale 2] [--workers 4]
 *
 * The upstream allows 600 requests/min × scale (a token bucket holding 2 s of requests, so a burst
 * above the rate is refused at once); the budget is configured with the same figure. `--scale 2`
 * halves every duration of the run (rate limit 1,200/min), so the figures are per 600 × scale.
 *
 * Reported: content and metadata requests per archived file, all upstream requests per archived file
 * (listings included), 429s, budget utilisation while the backlog lasts (requests served ÷ the
 * limit × the drain time) and the time to drain (from the first poller run to the last file archived).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createIngestRuntime } from '../lambdas/ingest/runtime.js';
import { createPollerRuntime } from '../lambdas/discovery/runtime.js';
import { useLocalAwsEnvironment } from '../shared/platform/local-account.js';
import { ensureBucket, ensureQueues, ensureTable } from '../local/aws/resources.js';
import { startLocalAws } from '../local/aws/servers.js';
import { startSqsEventSource } from '../local/sqs-event-source.js';
import type { UpstreamFile } from '../local/upstream/catalogue.js';
import type { ListingActivity } from '../local/upstream/listings.js';
import { startUpstreamServer } from '../local/upstream/server.js';
import {
  DiscoveryConfigSchema,
  IngestConfigSchema,
  WorkerBudgetConfigSchema,
  loadConfig,
} from '../shared/contracts/lambda-environment.js';
import { DISCOVERY_METRIC, METRIC } from '../shared/contracts/metric-names.js';
import { createDocumentClient, createS3Client, createSqsClient } from '../shared/platform/aws-clients.js';
import type { Counters, Log } from '../shared/platform/telemetry.js';

const API_KEY = 'sk-ant-api01-bench-discovery';
const NAME = 'bench-discovery';

const { values } = parseArgs({
  options: {
    chats: { type: 'string', default: '1000' },
    'files-per-chat': { type: 'string', default: '5' },
    scale: { type: 'string', default: '2' },
    workers: { type: 'string', default: '4' },
  },
});
const CHATS = Number(values.chats);
const PER_CHAT = Number(values['files-per-chat']);
const SCALE = Number(values.scale);
const WORKERS = Number(values.workers);
const LIMIT = 600 * SCALE;

/** A chat's files: one uploaded (on a user message), the rest generated; small, distinct contents. */
function backlog(): { files: UpstreamFile[]; activities: ListingActivity[] } {
  const files: UpstreamFile[] = [];
  const activities: ListingActivity[] = [];
  const at = (i: number, s: number) => new Date(Date.UTC(2025, 0, 1) + i * 60_000 + s * 1000).toISOString();
  for (let c = 0; c < CHATS; c++) {
    const chatId = `claude_chat_01Bench${String(c).padStart(5, '0')}`;
    const uploadId = `claude_file_01Bench${String(c).padStart(5, '0')}`;
    files.push({
      source: 'uploaded',
      id: uploadId,
      chatIds: [chatId],
      filename: `in-${c}.csv`,
      mimeType: 'text/csv',
      createdAt: at(c, 0),
      content: Buffer.from(`upload ${c}\n`.repeat(64)),
    });
    activities.push({
      id: `activity_01Bench${String(c).padStart(5, '0')}`,
      type: 'claude_file_uploaded',
      created_at: at(c, 0),
      claude_file_id: uploadId,
      claude_chat_id: chatId,
    });
    for (let g = 1; g < PER_CHAT; g++) {
      files.push({
        source: 'generated',
        id: `claude_gen_file_01Bench${String(c).padStart(5, '0')}x${g}`,
        chatId,
        filename: `out-${c}-${g}.txt`,
        mimeType: 'text/plain',
        createdAt: at(c, g),
        content: Buffer.from(`generated ${c}/${g}\n`.repeat(64)),
      });
    }
  }
  return { files, activities };
}

const quiet: Log = { debug() {}, info() {}, warn() {}, error: (m, a) => console.error(m, a) };

async function main(): Promise<void> {
  useLocalAwsEnvironment();
  const aws = await startLocalAws({ s3: 'fauxqs' });
  const doc = createDocumentClient({ endpoint: aws.dynamodbEndpoint });
  const sqs = createSqsClient({ endpoint: aws.sqsEndpoint });
  const s3 = createS3Client({ endpoint: aws.s3Endpoint });
  const maxReceiveCount = 5;
  const queues = await ensureQueues(sqs, { name: NAME, maxReceiveCount, visibilityTimeoutSeconds: 900 });
  await ensureBucket(s3, NAME);
  await ensureTable(doc, NAME);
  const { files, activities } = backlog();
  const upstream = await startUpstreamServer({
    apiKey: API_KEY,
    files,
    requestsPerMinute: LIMIT,
    enforceRateLimit: { burstSeconds: 2 },
  });
  upstream.listings.addActivities(...activities);

  const totals = new Map<string, number>();
  const counters: Counters = { record: (name, value) => void totals.set(name, (totals.get(name) ?? 0) + value) };
  const budgetEnv = { COMPLIANCE_REQUESTS_PER_MINUTE: String(LIMIT) };
  const ingest = createIngestRuntime(
    loadConfig(IngestConfigSchema, {
      ARCHIVE_BUCKET: NAME,
      INDEX_TABLE: NAME,
      INGEST_QUEUE_URL: queues.queueUrl,
      DEAD_LETTER_QUEUE_URL: queues.dlqUrl,
      MAX_RECEIVE_COUNT: String(maxReceiveCount),
      ANTHROPIC_BASE_URL: upstream.url,
      ANTHROPIC_API_KEY: API_KEY,
      LOCAL_S3_ENDPOINT: aws.s3Endpoint,
      LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
      LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
    }),
    { apiKey: API_KEY, log: quiet, counters, budget: loadConfig(WorkerBudgetConfigSchema, budgetEnv) },
  );
  const discovery = loadConfig(DiscoveryConfigSchema, {
    ...budgetEnv,
    INDEX_TABLE: NAME,
    INGEST_QUEUE_URL: queues.queueUrl,
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: API_KEY,
    // Longer than the drain: the chat poller's jobs (with metadata) reach every uploaded file first,
    // and the activity's job then finds it archived without an upstream request.
    ACTIVITY_UPLOAD_JOB_DELAY_SECONDS: '900',
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
  });
  const chatPoller = createPollerRuntime('chats', discovery, { apiKey: API_KEY, log: quiet, counters });
  const activityPoller = createPollerRuntime('activities', discovery, { apiKey: API_KEY, log: quiet, counters });

  console.log(
    `bench:discovery — ${files.length} files in ${CHATS} chats; upstream limit ${LIMIT}/min (600 × scale ${SCALE}); ${WORKERS} workers × batches of 10`,
  );
  const started = performance.now();
  const samples: { t: number; served: number; throttled: number }[] = [];
  const sampler = setInterval(() => {
    const served = upstream.requests.filter((r) => r.status !== undefined && r.status !== 429).length;
    samples.push({ t: (performance.now() - started) / 1000, served, throttled: upstream.requests.length - served });
  }, 1000);
  const source = startSqsEventSource({
    sqs,
    queueUrl: queues.queueUrl,
    handler: ingest,
    batchSize: 10,
    concurrency: WORKERS,
    functionTimeoutSeconds: 900,
  });
  const lambdaContext = () => {
    const deadline = Date.now() + 300_000;
    return { getRemainingTimeInMillis: () => deadline - Date.now() };
  };
  const activityRun = activityPoller(lambdaContext());
  console.log('  discovery and ingest started; progress every 30 s');
  let chatRuns = 0;
  for (;;) {
    chatRuns += 1;
    const outcome = await chatPoller(lambdaContext());
    if (outcome.kind === 'ran' && outcome.ledger.ending === 'completed') break;
  }
  await activityRun;
  const pollersDone = (performance.now() - started) / 1000;
  const expected = files.length;
  const progress = setInterval(() => {
    const t = ((performance.now() - started) / 1000).toFixed(0);
    console.log(
      `  ${t} s: ${totals.get(METRIC.filesArchived) ?? 0} of ${expected} archived, ${upstream.requests.length} upstream requests`,
    );
  }, 30_000);
  while ((totals.get(METRIC.filesArchived) ?? 0) < expected) await new Promise((r) => setTimeout(r, 200));
  clearInterval(progress);
  const drained = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await source.stop();

  const byEndpoint = (e: string) => upstream.requests.filter((r) => r.endpoint === e).length;
  const throttled = upstream.requests.filter((r) => r.status === 429).length;
  const served = upstream.requests.length - throttled;
  const archived = totals.get(METRIC.filesArchived) ?? 0;
  const contentAndMetadata = byEndpoint('content') + byEndpoint('metadata');
  // Steady state: every whole second between the first 5 s and the last 5 s of the drain.
  const steady = samples.filter((s) => s.t >= 5 && s.t <= drained - 5);
  const steadyRate =
    steady.length > 1
      ? ((steady.at(-1)?.served ?? 0) - (steady[0]?.served ?? 0)) / ((steady.at(-1)?.t ?? 1) - (steady[0]?.t ?? 0))
      : 0;
  const rows: [string, string][] = [
    ['files archived', `${archived} of ${expected}`],
    ['content + metadata requests per archived file', (contentAndMetadata / archived).toFixed(3)],
    ['all upstream requests per archived file', (upstream.requests.length / archived).toFixed(3)],
    [
      '  of which chat listings / messages pages / activity pages',
      `${byEndpoint('chats')} / ${byEndpoint('messages')} / ${byEndpoint('activities')}`,
    ],
    ['429s', String(throttled)],
    ['budget utilisation while the backlog lasts', `${((served / ((LIMIT / 60) * drained)) * 100).toFixed(1)}%`],
    [
      '  steady-state request rate (5 s in to 5 s before the end)',
      `${steadyRate.toFixed(2)}/s of ${(LIMIT / 60).toFixed(0)}/s`,
    ],
    [
      'time to drain',
      `${drained.toFixed(1)} s (${(drained * SCALE).toFixed(0)} s at 600/min); pollers done after ${pollersDone.toFixed(1)} s in ${chatRuns} chat poller run(s)`,
    ],
    ['callers that found no budget within their wait', String(totals.get(DISCOVERY_METRIC.budgetExhausted) ?? 0)],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(62)} ${v}`);
  await upstream.close();
  await aws.stop();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
