import { ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { ensureQueues, ensureTable } from '../../local/aws/resources.js';
import type { UpstreamFile } from '../../local/upstream/catalogue.js';
import type { UpstreamServer } from '../../local/upstream/server.js';
import { parseJob } from '../../shared/contracts/job.js';
import type { IngestJob } from '../../shared/contracts/job.js';
import { DynamoDbDiscoveryStore } from '../../shared/discovery/dynamodb-discovery-store.js';
import { DynamoDbRateBudget } from '../../shared/discovery/dynamodb-rate-budget.js';
import { createBudgetGate, DEFAULT_SIZING } from '../../shared/discovery/rate-budget.js';
import { createSqsJobSender } from '../../shared/discovery/sqs-job-sender.js';
import type { JobSender, PollerDeps } from '../../shared/discovery/ports.js';
import type { RunOptions } from '../../shared/discovery/poller-run.js';
import { UpstreamDeletionIndex } from '../../shared/index/dynamodb-upstream-deletions.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import { createListingClient } from '../../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../../shared/upstream/upstream-client.js';
import type { LogEntry } from './ingest-stack.js';
import { localAwsFromInject, uniqueName } from './local-aws.js';
import type { LocalAwsFixture } from './local-aws.js';
import { startTestUpstream, TEST_UPSTREAM_API_KEY } from './upstream.js';

export interface DiscoveryStack {
  aws: LocalAwsFixture;
  table: string;
  queueUrl: string;
  upstream: UpstreamServer;
  addFiles(...files: UpstreamFile[]): Promise<void>;
  store: DynamoDbDiscoveryStore;
  deletions: UpstreamDeletionIndex;
  files: DynamoDbFileIndex;
  logs: LogEntry[];
  metrics: { name: string; value: number }[];
  /** Poller dependencies on the real servers; `jobs` may be swapped to inject failures. */
  deps(overrides?: Partial<PollerDeps>): PollerDeps;
  /** A run that may last `ms` from now. */
  runOptions(ms?: number): RunOptions;
  /** Receives and deletes every job in the queue. */
  drainJobs(): Promise<IngestJob[]>;
  metricTotal(name: string): number;
  close(): Promise<void>;
}

/** A fresh table, queue and listing upstream on the global setup's servers. */
export async function createDiscoveryStack(): Promise<DiscoveryStack> {
  const aws = localAwsFromInject();
  const name = uniqueName('discovery');
  await ensureTable(aws.ddb, name);
  const { queueUrl } = await ensureQueues(aws.sqs, { name, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
  const upstream = await startTestUpstream();
  const agent = createUpstreamAgent();
  const logs: LogEntry[] = [];
  const metrics: { name: string; value: number }[] = [];
  const entry = (level: LogEntry['level']) => (message: string, attributes: Record<string, unknown> = {}) => void logs.push({ level, message, attributes });
  const log: Log = { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
  const counters: Counters = { record: (metric, value) => void metrics.push({ name: metric, value }) };
  const budget = new DynamoDbRateBudget(aws.ddb, name, 'compliance', { ...DEFAULT_SIZING, requestsPerMinute: 60_000 });
  const gate = createBudgetGate({ budgets: { compliance: budget }, cls: 'poller', maxWaitMs: 5_000, log, counters });
  const upstreamClient = createListingClient({ baseUrl: upstream.url, apiKey: TEST_UPSTREAM_API_KEY, dispatcher: agent, gate });
  const store = new DynamoDbDiscoveryStore(aws.ddb, name);
  const jobs: JobSender = createSqsJobSender(aws.sqs, queueUrl);

  return {
    aws,
    table: name,
    queueUrl,
    upstream,
    async addFiles(...files) {
      for (const f of files) await upstream.addFile(f);
    },
    store,
    deletions: new UpstreamDeletionIndex(aws.ddb, name),
    files: new DynamoDbFileIndex(aws.ddb, name),
    logs,
    metrics,
    deps: (overrides = {}) => ({ upstream: upstreamClient, store, jobs, log, counters, now: Date.now, pageSize: 10, ...overrides }),
    runOptions: (ms = 60_000) => ({ deadlineMs: Date.now() + ms, stopMarginMs: 0, leaseMs: 120_000 }),
    async drainJobs() {
      const out: IngestJob[] = [];
      for (let empty = 0; empty < 2; ) {
        const res = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
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
        await aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      }
      return out;
    },
    metricTotal: (metric) => metrics.filter((m) => m.name === metric).reduce((s, m) => s + m.value, 0),
    async close() {
      await upstream.close();
      await agent.close();
      aws.destroy();
    },
  };
}
