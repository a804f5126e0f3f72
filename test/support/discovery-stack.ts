import { ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createPollerClients, createPollerRuntime, type PollerClients } from '../../lambdas/discovery/runtime.js';
import { ensureQueues, ensureTable } from '../../local/aws/resources.js';
import type { UpstreamFile } from '../../local/upstream/catalogue.js';
import type { UpstreamServer } from '../../local/upstream/server.js';
import type { PollerSource } from '../../shared/contracts/discovery-ledger.js';
import { type DiscoveryConfig, DiscoveryConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { parseJob } from '../../shared/contracts/job.js';
import type { IngestJob } from '../../shared/contracts/job.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { DynamoDbRateBudget } from '../../shared/index/dynamodb-rate-budget.js';
import { createBudgetGate, DEFAULT_SIZING } from '../../shared/discovery/rate-budget.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import type { JobSender, PollerDeps } from '../../shared/discovery/ports.js';
import type { RunOptions } from '../../shared/discovery/poller-run.js';
import { DynamoDbUpstreamDeletions } from '../../shared/index/dynamodb-upstream-deletions.js';
import { DynamoDbArchivedFiles } from '../../shared/index/dynamodb-archived-files.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import { createListingClient } from '../../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../../shared/upstream/upstream-client.js';
import type { LogEntry } from './ingest-stack.js';
import { localAwsFromInject, uniqueName } from './local-aws.js';
import type { LocalAwsFixture } from './local-aws.js';
import { recordCallsOf, type ResourceBindings } from './permissions/aws-call-recorder.js';
import { pollerPrincipal } from './permissions/deployed-permissions.js';
import { startTestUpstream, TEST_UPSTREAM_API_KEY } from './upstream.js';

/** What a poller's code works with, on clients whose calls are recorded as that poller's role. */
export interface PollerSide {
  deps: PollerDeps;
  store: DynamoDbDiscoveryStore;
  deletions: DynamoDbUpstreamDeletions;
  files: DynamoDbFileIndex;
  /** The Files API poller's batched "already final?" reads, as its Lambda wires them. */
  archived: DynamoDbArchivedFiles;
  clients: PollerClients;
}

export interface DiscoveryStack {
  aws: LocalAwsFixture;
  table: string;
  queueUrl: string;
  upstream: UpstreamServer;
  /** Which deployed resource this stack's table and queues stand for (permission checks). */
  bindings: ResourceBindings;
  addFiles(...files: UpstreamFile[]): Promise<void>;
  /** The test's own view of the table (arranging and asserting; not a poller's calls). */
  store: DynamoDbDiscoveryStore;
  deletions: DynamoDbUpstreamDeletions;
  files: DynamoDbFileIndex;
  logs: LogEntry[];
  metrics: { name: string; value: number }[];
  /** The `source` poller's side: its calls are checked against its deployed role. */
  poller(source: PollerSource): PollerSide;
  /**
   * Poller dependencies on the real servers, as the `source` poller's role; `jobs` may be swapped to inject failures.
   */
  deps(source: PollerSource, overrides?: Partial<PollerDeps>): PollerDeps;
  /** The `source` poller built as its Lambda builds it (createPollerRuntime), on the poller's recorded clients. */
  /** The poller as its Lambda builds it; `overrides` change its configuration (e.g. repeat polling). */
  runtime(source: PollerSource, overrides?: Partial<DiscoveryConfig>): ReturnType<typeof createPollerRuntime>;
  /** A run that may last `ms` from now. */
  runOptions(ms?: number): RunOptions;
  /** Receives and deletes every job in the queue. */
  drainJobs(): Promise<IngestJob[]>;
  metricTotal(name: string): number;
  close(): Promise<void>;
}

/**
 * A fresh table, queue and listing upstream on the global setup's servers. The pollers' code runs on
 * clients of its own per poller, whose calls are recorded as that poller's role (checked against the
 * deployed permissions after each test); the test's own reads and writes use the fixture's clients.
 */
export async function createDiscoveryStack(): Promise<DiscoveryStack> {
  const aws = localAwsFromInject();
  const name = uniqueName('discovery');
  await ensureTable(aws.ddb, name);
  const { queueUrl } = await ensureQueues(aws.sqs, { name, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
  const bindings: ResourceBindings = {
    tables: { [name]: 'indexTable' },
    queues: { [name]: 'ingestQueue', [`${name}-dlq`]: 'deadLetterQueue' },
  };
  const upstream = await startTestUpstream();
  const agent = createUpstreamAgent();
  const logs: LogEntry[] = [];
  const metrics: { name: string; value: number }[] = [];
  const entry =
    (level: LogEntry['level']) =>
    (message: string, attributes: Record<string, unknown> = {}) =>
      void logs.push({ level, message, attributes });
  const log: Log = { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
  const counters: Counters = { record: (metric, value) => void metrics.push({ name: metric, value }) };
  const config = loadConfig(DiscoveryConfigSchema, {
    INDEX_TABLE: name,
    INGEST_QUEUE_URL: queueUrl,
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY,
    COMPLIANCE_REQUESTS_PER_MINUTE: '60000',
    PAGE_SIZE: '10',
    ACTIVITY_UPLOAD_JOB_DELAY_SECONDS: '0',
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
  });
  const sides = new Map<PollerSource, PollerSide>();
  function poller(source: PollerSource): PollerSide {
    let side = sides.get(source);
    if (!side) {
      const clients = createPollerClients(config);
      for (const client of Object.values(clients)) recordCallsOf(client, pollerPrincipal(source), bindings);
      const budget = new DynamoDbRateBudget(clients.doc, name, 'compliance', {
        ...DEFAULT_SIZING,
        requestsPerMinute: 60_000,
      });
      const gate = createBudgetGate({
        budgets: { compliance: budget },
        cls: 'poller',
        maxWaitMs: 5_000,
        log,
        counters,
      });
      const upstreamClient = createListingClient({
        baseUrl: upstream.url,
        apiKey: TEST_UPSTREAM_API_KEY,
        dispatcher: agent,
        gate,
      });
      const store = new DynamoDbDiscoveryStore(clients.doc, name);
      const jobs: JobSender = createSqsJobSender(clients.sqs, queueUrl);
      side = {
        deps: { upstream: upstreamClient, store, jobs, log, counters, now: Date.now, pageSize: 10 },
        store,
        deletions: new DynamoDbUpstreamDeletions(clients.doc, name),
        files: new DynamoDbFileIndex(clients.doc, name),
        archived: new DynamoDbArchivedFiles(clients.doc, name),
        clients,
      };
      sides.set(source, side);
    }
    return side;
  }

  return {
    aws,
    table: name,
    queueUrl,
    upstream,
    bindings,
    async addFiles(...files) {
      for (const f of files) await upstream.addFile(f);
    },
    store: new DynamoDbDiscoveryStore(aws.ddb, name),
    deletions: new DynamoDbUpstreamDeletions(aws.ddb, name),
    files: new DynamoDbFileIndex(aws.ddb, name),
    logs,
    metrics,
    poller,
    deps: (source, overrides = {}) => ({ ...poller(source).deps, ...overrides }),
    runtime: (source, overrides = {}) =>
      createPollerRuntime(
        source,
        { ...config, ...overrides },
        {
          apiKey: TEST_UPSTREAM_API_KEY,
          log,
          counters,
          dispatcher: agent,
          clients: poller(source).clients,
        },
      ),
    runOptions: (ms = 60_000) => ({ deadlineMs: Date.now() + ms, stopMarginMs: 0, leaseMs: 120_000 }),
    async drainJobs() {
      const out: IngestJob[] = [];
      for (let empty = 0; empty < 2; ) {
        const res = await aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        const messages = res.Messages ?? [];
        if (messages.length === 0) {
          empty += 1;
          continue;
        }
        for (const m of messages) {
          const parsed = parseJob(m.Body ?? '');
          if (!parsed.ok) throw new Error(`the queue holds an invalid job: ${parsed.reason}`);
          out.push(parsed.job);
        }
        await aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        );
      }
      return out;
    },
    metricTotal: (metric) => metrics.filter((m) => m.name === metric).reduce((s, m) => s + m.value, 0),
    async close() {
      for (const side of sides.values()) for (const client of Object.values(side.clients)) client.destroy();
      await upstream.close();
      await agent.close();
      aws.destroy();
    },
  };
}
