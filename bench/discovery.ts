// Over 400 lines on purpose for now: one benchmark script whose phases (backlog, idle, steady,
// surge) share its servers and counters; splitting it by phase is the next step (issue 14 note).
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
 *
 * Then a steady state (`--steady-seconds`, 0 skips it; `--chats 0` skips the backlog), in real time
 * whatever the scale: every registered poller (shared/contracts/discovery-sources.ts) runs on its
 * schedule and polls repeatedly within each invocation, as deployed. First `--idle-seconds` with
 * nothing arriving (every request is idle polling), then files arriving at `--arrivals-per-minute`
 * round-robin as generated files in new chats, generated files in old chats, uploads to old chats (with
 * their activity) and uploads to projects (attached to one of 20 projects, with their activity; outside
 * any chat: the projects poller's change poll finds them). Halfway through,
 * `--surge-chats` chats of `--files-per-chat` files appear at once (a backlog). Reported: capture
 * latency (a file's appearance upstream, i.e. its message's or activity's time, to its record's
 * `archivedAt`) p50/p95/p99 per kind, before and during the surge's backlog; idle polling: requests
 * of polls that found nothing, per minute and as a share of 600/min.
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
import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { startPollerSchedule } from '../local/poller-schedule.js';
import {
  DISCOVERY_SOURCES,
  type DiscoverySource,
  POLLER_SOURCES,
  repeatWindowMs,
} from '../shared/contracts/discovery-sources.js';
import { fileItemKey } from '../shared/contracts/table-keys.js';
import type { RunOutcome } from '../shared/discovery/poller-run.js';
import { toRecord } from '../shared/index/dynamodb-file-items.js';
import type { Counters, Log } from '../shared/platform/telemetry.js';

const API_KEY = 'sk-ant-api01-bench-discovery';
const NAME = 'bench-discovery';

const { values } = parseArgs({
  options: {
    chats: { type: 'string', default: '1000' },
    'files-per-chat': { type: 'string', default: '5' },
    scale: { type: 'string', default: '2' },
    workers: { type: 'string', default: '4' },
    'idle-seconds': { type: 'string', default: '60' },
    'steady-seconds': { type: 'string', default: '180' },
    'arrivals-per-minute': { type: 'string', default: '30' },
    'surge-chats': { type: 'string', default: '100' },
    kinds: { type: 'string', default: 'new-chat,old-chat,chat-upload,project-upload' },
  },
});
const CHATS = Number(values.chats);
const PER_CHAT = Number(values['files-per-chat']);
const SCALE = Number(values.scale);
const WORKERS = Number(values.workers);
const LIMIT = 600 * SCALE;
const IDLE_SECONDS = Number(values['idle-seconds']);
const STEADY_SECONDS = Number(values['steady-seconds']);
const ARRIVALS_PER_MINUTE = Number(values['arrivals-per-minute']);
const SURGE_CHATS = Number(values['surge-chats']);
/** The default budget the idle-polling goal is a share of (2% of 600/min = 12/min). */
const DEFAULT_BUDGET_PER_MINUTE = 600;

/** A chat's files: one uploaded (on a user message), the rest generated; small, distinct contents. */
function backlog(): { files: UpstreamFile[]; activities: ListingActivity[] } {
  const files: UpstreamFile[] = [];
  const activities: ListingActivity[] = [];
  const at = (i: number, s: number) => new Date(Date.UTC(2025, 0, 1) + i * 60_000 + s * 1000).toISOString();
  for (let c = 0; c < CHATS; c++) {
    const chatId = benchChatId(c);
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
  const source = startSqsEventSource({
    sqs,
    queueUrl: queues.queueUrl,
    handler: ingest,
    batchSize: 10,
    concurrency: WORKERS,
    functionTimeoutSeconds: 900,
  });
  if (CHATS > 0) await backlogPhase({ upstream, files, discovery, counters, totals });
  if (STEADY_SECONDS > 0) await steadyPhase({ upstream, discovery, counters, doc, backlogChats: CHATS });
  await source.stop();
  await upstream.close();
  await aws.stop();
  process.exit(0);
}

type Upstream = Awaited<ReturnType<typeof startUpstreamServer>>;
type DiscoveryConfig = ReturnType<typeof loadConfig<typeof DiscoveryConfigSchema>>;

async function backlogPhase(ctx: {
  upstream: Upstream;
  files: UpstreamFile[];
  discovery: DiscoveryConfig;
  counters: Counters;
  totals: Map<string, number>;
}): Promise<void> {
  const { upstream, files, discovery, counters, totals } = ctx;
  const chatPoller = createPollerRuntime('chats', discovery, { apiKey: API_KEY, log: quiet, counters });
  const activityPoller = createPollerRuntime('activities', discovery, { apiKey: API_KEY, log: quiet, counters });

  console.log(
    `bench:discovery — ${files.length} files in ${CHATS} chats; upstream ` +
      `limit ${LIMIT}/min (600 × scale ${SCALE}); ${WORKERS} workers ` +
      `× batches of 10`,
  );
  const started = performance.now();
  const samples: { t: number; served: number; throttled: number }[] = [];
  const sampler = setInterval(() => {
    const served = upstream.requests.filter((r) => r.status !== undefined && r.status !== 429).length;
    samples.push({ t: (performance.now() - started) / 1000, served, throttled: upstream.requests.length - served });
  }, 1000);
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
      `  ${t} s: ${totals.get(METRIC.filesArchived) ?? 0} of ${expected} ` +
        `archived, ${upstream.requests.length} upstream requests`,
    );
  }, 30_000);
  while ((totals.get(METRIC.filesArchived) ?? 0) < expected) await new Promise((r) => setTimeout(r, 200));
  clearInterval(progress);
  const drained = (performance.now() - started) / 1000;
  clearInterval(sampler);

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
      `${drained.toFixed(1)} s (${(drained * SCALE).toFixed(0)} s at ` +
        `600/min); pollers done after ${pollersDone.toFixed(1)} s in ` +
        `${chatRuns} chat poller run(s)`,
    ],
    ['callers that found no budget within their wait', String(totals.get(DISCOVERY_METRIC.budgetExhausted) ?? 0)],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(62)} ${v}`);
}

type ArrivalKind = 'new chat' | 'old chat' | 'chat upload' | 'project upload' | 'surge';
const ALL_KINDS: ArrivalKind[] = ['new chat', 'old chat', 'chat upload', 'project upload'];
/** `--kinds`: which arrivals, round-robin (e.g. without project uploads, which wait out the feed's lag). */
const KINDS: ArrivalKind[] = String(values.kinds)
  .split(',')
  .map((k) => {
    const kind = ALL_KINDS.find((a) => a.replace(' ', '-') === k.trim());
    if (!kind) throw new Error(`--kinds: "${k}" is not one of ${ALL_KINDS.map((a) => a.replace(' ', '-')).join(', ')}`);
    return kind;
  });

interface Arrival {
  fileId: string;
  kind: ArrivalKind;
  appearedMs: number;
  /** Arrived while the surge's backlog was being worked off (from the surge until its last file is archived). */
  duringSurge: boolean;
}

/**
 * Files appearing at a steady rate while every registered poller runs as deployed; see the header.
 * Latency is read back from each file's record (`archivedAt`), independently of the CaptureLatency
 * metric the ingest handler reports from the same jobs.
 */
async function steadyPhase(ctx: {
  upstream: Upstream;
  discovery: DiscoveryConfig;
  counters: Counters;
  doc: ReturnType<typeof createDocumentClient>;
  backlogChats: number;
}): Promise<void> {
  const { upstream, discovery, counters, doc } = ctx;
  const idle = { compliance: 0, files_api: 0 };
  const polls = { total: 0, idle: 0 };
  let counting = false;
  // Every poller of the registry, with its deployed schedule and repeat polling: a poller added to the
  // registry (a projects poller) is started here without a change to this file.
  const pollers = POLLER_SOURCES.map((source) => {
    const spec: DiscoverySource = DISCOVERY_SOURCES[source];
    const config = {
      ...discovery,
      POLL_EVERY_SECONDS: spec.pollEverySeconds ?? 0,
      POLL_WINDOW_SECONDS: repeatWindowMs(spec.scheduleMinutes, spec.pollEverySeconds) / 1000,
    };
    const onRun = (outcome: RunOutcome) => {
      if (!counting || outcome.kind !== 'ran') return;
      polls.total += 1;
      // A poll that read nothing: each of its pages was a request spent finding nothing.
      if (outcome.ledger.records === 0) {
        polls.idle += 1;
        idle[spec.budgetPool] += outcome.ledger.pages;
      }
    };
    return {
      source,
      everyMinutes: spec.scheduleMinutes,
      run: createPollerRuntime(source, config, { apiKey: API_KEY, log: quiet, counters, onRun }),
    };
  });
  console.log(
    `\nsteady state — pollers ${POLLER_SOURCES.join(', ')} as deployed; ` +
      `${IDLE_SECONDS} s idle, then ${ARRIVALS_PER_MINUTE} files/min ` +
      `for ${STEADY_SECONDS} s (${KINDS.join(', ')}), ${SURGE_CHATS} ` +
      `chats × ${PER_CHAT} files at once halfway`,
  );
  for (let p = 0; p < BENCH_PROJECTS; p++)
    upstream.listings.projects.set({ id: benchProjectId(p), createdAt: '2025-01-01T00:00:00.000000Z', fileIds: [] });
  const schedule = startPollerSchedule(pollers, { timeoutMs: 300_000, log: quiet });

  // Idle: the first poll of each poller reads what the backlog left (nothing new); count from after it.
  await sleep(3_000);
  counting = true;
  const idleStarted = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const idleMinutes = (performance.now() - idleStarted) / 60_000;
  const idleOnly = { ...idle, polls: polls.total };
  console.log(
    `  idle: ${idleOnly.compliance} Compliance API requests in ${(idleMinutes * 60).toFixed(0)} ` +
      `s by ${idleOnly.polls} polls`,
  );

  // Arrivals.
  const arrivals: Arrival[] = [];
  const oldChats = Array.from({ length: Math.max(1, ctx.backlogChats) }, (_, c) => benchChatId(c));
  let n = 0;
  let surgeAt: number | undefined;
  const steadyStarted = performance.now();
  const idleBefore = { ...idle };
  const pollsBefore = { ...polls };
  const every = 60_000 / ARRIVALS_PER_MINUTE;
  for (let next = Date.now(); performance.now() - steadyStarted < STEADY_SECONDS * 1000; next += every) {
    await sleep(Math.max(0, next - Date.now()));
    const kind = KINDS[n % KINDS.length] ?? 'new chat';
    arrivals.push(await arrive(upstream, kind, n, oldChats));
    n += 1;
    if (surgeAt === undefined && SURGE_CHATS > 0 && performance.now() - steadyStarted >= (STEADY_SECONDS * 1000) / 2) {
      surgeAt = Date.now();
      arrivals.push(...(await surge(upstream, SURGE_CHATS)));
    }
  }
  const steadyMinutes = (performance.now() - steadyStarted) / 60_000;
  const steadyIdle = idle.compliance - idleBefore.compliance;
  const steadyPolls = { total: polls.total - pollsBefore.total, idle: polls.idle - pollsBefore.idle };

  // Wait for every arrival (a file the projects poller missed would come through the activity feed,
  // read its visibility lag behind now).
  const waitLimitMs = (discovery.ACTIVITY_VISIBILITY_LAG_SECONDS + 120) * 1000;
  const waitStarted = Date.now();
  let archivedAt = new Map<string, number>();
  while (Date.now() - waitStarted < waitLimitMs) {
    archivedAt = await archiveTimes(doc, arrivals);
    if (archivedAt.size === arrivals.length) break;
    await sleep(2_000);
  }
  await schedule.stop(1_000);

  // The surge's backlog lasts until its last file is archived; steady arrivals in it count as "during".
  const surgeEnd = Math.max(
    0,
    ...arrivals.filter((a) => a.kind === 'surge').map((a) => archivedAt.get(a.fileId) ?? Number.POSITIVE_INFINITY),
  );
  for (const a of arrivals)
    if (surgeAt !== undefined && a.appearedMs >= surgeAt && a.appearedMs <= surgeEnd) a.duringSurge = true;
  const latencies = (filter: (a: Arrival) => boolean) =>
    arrivals.filter(filter).map((a) => {
      const at = archivedAt.get(a.fileId);
      return at === undefined ? Number.POSITIVE_INFINITY : (at - a.appearedMs) / 1000;
    });
  const fmt = (xs: number[]) => {
    if (xs.length === 0) return 'no files';
    const missing = xs.filter((x) => !Number.isFinite(x)).length;
    const q = (p: number) => {
      const v = quantile(xs, p);
      return Number.isFinite(v) ? `${v.toFixed(1)} s` : 'not captured';
    };
    return (
      `p50 ${q(0.5)}, p95 ${q(0.95)}, p99 ${q(0.99)} (${xs.length} ` +
      `files${missing ? `, ${missing} not captured in time` : ''})`
    );
  };
  const steady = (a: Arrival) => a.kind !== 'surge' && !a.duringSurge;
  const rows: [string, string][] = [
    [
      'idle polling, nothing arriving (Compliance API)',
      IDLE_SECONDS > 0
        ? `${(idleOnly.compliance / idleMinutes).toFixed(1)} requests/min ` +
          `= ${((idleOnly.compliance / idleMinutes / DEFAULT_BUDGET_PER_MINUTE) * 100).toFixed(2)}% ` +
          `of ${DEFAULT_BUDGET_PER_MINUTE}/min (goal ≤ 2%)`
        : '- (--idle-seconds 0)',
    ],
    [
      'idle polling, files arriving (polls that found nothing)',
      `${(steadyIdle / steadyMinutes).toFixed(1)} requests/min = ` +
        `${((steadyIdle / steadyMinutes / DEFAULT_BUDGET_PER_MINUTE) * 100).toFixed(2)}% ` +
        `of ${DEFAULT_BUDGET_PER_MINUTE}/min; ${steadyPolls.idle} of ` +
        `${steadyPolls.total} polls`,
    ],
    ['capture latency, steady (no backlog), all kinds', fmt(latencies(steady))],
    [
      '  chat files (chats, chat uploads: the chat poller)',
      fmt(latencies((a) => steady(a) && a.kind !== 'project upload')),
    ],
    ...KINDS.map((k): [string, string] => [`    ${k}`, fmt(latencies((a) => steady(a) && a.kind === k))]),
    ['capture latency, arriving during the surge backlog', fmt(latencies((a) => a.kind !== 'surge' && a.duringSurge))],
    [
      `  the surge itself (${SURGE_CHATS} chats × ${PER_CHAT} files)`,
      `${fmt(latencies((a) => a.kind === 'surge'))}; drained ` +
        (surgeAt === undefined || !Number.isFinite(surgeEnd) ? '-' : `${((surgeEnd - surgeAt) / 1000).toFixed(1)} s`) +
        ' after it appeared',
    ],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(62)} ${v}`);
}

/** Projects the steady phase attaches its project uploads to (round-robin), there from the start. */
const BENCH_PROJECTS = 20;
function benchProjectId(p: number): string {
  return `claude_proj_01BenchProject${String(p).padStart(5, '0')}`;
}

function benchChatId(c: number): string {
  return `claude_chat_01Bench${String(c).padStart(5, '0')}`;
}

/** One file appearing upstream now, of the given kind. */
async function arrive(upstream: Upstream, kind: ArrivalKind, n: number, oldChats: string[]): Promise<Arrival> {
  const now = new Date();
  const createdAt = now.toISOString();
  const tag = `Steady${String(n).padStart(5, '0')}`;
  const content = Buffer.from(`steady ${n}\n`.repeat(64));
  const oldChat = oldChats[n % oldChats.length] ?? benchChatId(0);
  let fileId: string;
  if (kind === 'new chat' || kind === 'old chat') {
    fileId = `claude_gen_file_01${tag}`;
    await upstream.addFile({
      source: 'generated',
      id: fileId,
      chatId: kind === 'new chat' ? `claude_chat_01${tag}` : oldChat,
      filename: `out-${n}.txt`,
      mimeType: 'text/plain',
      createdAt,
      content,
    });
  } else if (kind === 'chat upload') {
    fileId = `claude_file_01${tag}`;
    await upstream.addFile({
      source: 'uploaded',
      id: fileId,
      chatIds: [oldChat],
      // A message of its own: several uploads to one chat are several messages.
      messageIds: [`claude_chat_msg_01${tag}u`],
      filename: `in-${n}.csv`,
      mimeType: 'text/csv',
      createdAt,
      content,
    });
    upstream.listings.addActivities({
      id: `activity_01${tag}`,
      type: 'claude_file_uploaded',
      created_at: createdAt,
      claude_file_id: fileId,
      claude_chat_id: oldChat,
    });
  } else {
    // A project's file: in no chat. Attached to one of the bench's projects (which bumps its
    // `updated_at`: the projects poller's change poll finds it), with its activity in the feed too.
    fileId = `claude_file_01${tag}`;
    await upstream.addFile({
      source: 'uploaded',
      id: fileId,
      chatIds: [],
      filename: `project-${n}.md`,
      mimeType: 'text/markdown',
      createdAt,
      content,
    });
    upstream.listings.projects.attach(benchProjectId(n % BENCH_PROJECTS), fileId);
    upstream.listings.addActivities({
      id: `activity_01${tag}`,
      type: 'claude_project_file_uploaded',
      created_at: createdAt,
      claude_file_id: fileId,
    });
  }
  // Whether it arrived during the surge's backlog is known once the surge has drained.
  return { fileId, kind, appearedMs: now.getTime(), duringSurge: false };
}

/** `chats` new chats of PER_CHAT generated files each, all appearing now: a backlog. */
async function surge(upstream: Upstream, chats: number): Promise<Arrival[]> {
  const now = new Date();
  const out: Arrival[] = [];
  for (let c = 0; c < chats; c++) {
    for (let g = 0; g < PER_CHAT; g++) {
      const id = `claude_gen_file_01Surge${String(c).padStart(5, '0')}x${g}`;
      await upstream.addFile({
        source: 'generated',
        id,
        chatId: `claude_chat_01Surge${String(c).padStart(5, '0')}`,
        filename: `surge-${c}-${g}.txt`,
        mimeType: 'text/plain',
        createdAt: now.toISOString(),
        content: Buffer.from(`surge ${c}/${g}\n`.repeat(64)),
      });
      out.push({ fileId: id, kind: 'surge', appearedMs: now.getTime(), duringSurge: false });
    }
  }
  return out;
}

/** `archivedAt` (epoch ms) of every arrival archived so far, from its record in the index. */
async function archiveTimes(
  doc: ReturnType<typeof createDocumentClient>,
  arrivals: readonly Arrival[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < arrivals.length; i += 100) {
    const keys = arrivals.slice(i, i + 100).map((a) => fileItemKey(a.fileId));
    let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = { [NAME]: { Keys: keys } };
    while (request && Object.keys(request).length > 0) {
      const res: BatchGetCommandOutput = await doc.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of res.Responses?.[NAME] ?? []) {
        const record = toRecord(item);
        if (record?.status === 'archived') out.set(record.fileId, Date.parse(record.archivedAt));
      }
      request = res.UnprocessedKeys as typeof request;
    }
  }
  return out;
}

/** The p-quantile by nearest rank (1-based ceil(p·n)); files never captured sort last as Infinity. */
function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
