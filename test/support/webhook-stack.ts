import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { ensureQueues, ensureTable } from '../../local/aws/resources.js';
import { ensureReplayTable, webhookSecretDocument } from '../../local/webhook-setup.js';
import { startWebhookServer } from '../../local/webhook-server.js';
import type { WebhookServerOptions } from '../../local/webhook-server.js';
import { createWebhookClients, createWebhookRuntime } from '../../lambdas/webhook/runtime.js';
import {
  WebhookConfigSchema,
  WorkerBudgetConfigSchema,
  loadConfig,
} from '../../shared/contracts/lambda-environment.js';
import { parseJob } from '../../shared/contracts/job.js';
import type { IngestJob } from '../../shared/contracts/job.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createWebhookSecrets } from '../../shared/webhook/signature.js';
import type { LogEntry } from './ingest-stack.js';
import { localAwsFromInject, uniqueName, type LocalAwsFixture } from './local-aws.js';
import { recordCallsOf, type ResourceBindings } from './permissions/aws-call-recorder.js';
import { startSqsFaultProxy, type SqsFaultProxy } from './sqs-fault-proxy.js';
import type { UpstreamServer } from '../../local/upstream/server.js';
import { startTestUpstream, TEST_UPSTREAM_API_KEY } from './upstream.js';
import { testWebhookSecret, type SignedDelivery } from './webhook-signing.js';

export interface WebhookAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown> | undefined;
  text: string;
}

export interface WebhookStack {
  aws: LocalAwsFixture;
  url: string;
  queueUrl: string;
  replayTable: string;
  /** The index table holding the shared upstream budget's items. */
  indexTable: string;
  /** Which deployed resource this stack's tables and queue stand for (permission checks). */
  bindings: ResourceBindings;
  upstream: UpstreamServer;
  sqsProxy: SqsFaultProxy;
  /** The secret document the function reads; replace it to rotate. */
  secret: { current: string; previous?: string };
  logs: LogEntry[];
  post(delivery: SignedDelivery | { headers: Record<string, string>; body: Buffer }): Promise<WebhookAnswer>;
  /** Receives and deletes every job in the queue (several long polls until it is empty). */
  drainJobs(): Promise<IngestJob[]>;
  close(): Promise<void>;
}

/**
 * A fresh queue, replay table and index table (the shared budget) on the global setup's servers (dynalite, fauxqs), the
 * test upstream
 * (whose listings serve the chat fan-out), and the webhook handler built as the Lambda builds it
 * (createWebhookRuntime),
 * served by the local HTTP adapter. SQS calls go through a fault proxy that can refuse entries. The
 * handler's clients are recorded as the webhook role's, and checked against the deployed permissions
 * after each test (test/support/permission-setup.ts). The signing secrets are read through a function
 * here (as `npm start` does), so the Lambda's Secrets Manager read is not among the recorded calls.
 */
export async function createWebhookStack(
  opts: { server?: WebhookServerOptions; budget?: Record<string, string> } = {},
): Promise<WebhookStack> {
  const aws = localAwsFromInject();
  const name = uniqueName('webhook');
  const indexTable = `${name}-index`;
  const { queueUrl } = await ensureQueues(aws.sqs, { name, maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
  await ensureReplayTable(aws.ddb, name);
  await ensureTable(aws.ddb, indexTable);
  const upstream = await startTestUpstream();
  const sqsProxy = await startSqsFaultProxy(aws.sqsEndpoint);
  const logs: LogEntry[] = [];
  const entry =
    (level: LogEntry['level']) =>
    (message: string, attributes: Record<string, unknown> = {}) =>
      void logs.push({ level, message, attributes });
  const log: Log = { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
  const secret: WebhookStack['secret'] = { current: testWebhookSecret() };
  const config = loadConfig(WebhookConfigSchema, {
    INGEST_QUEUE_URL: queueUrl,
    WEBHOOK_REPLAY_TABLE: name,
    WEBHOOK_SECRETS: webhookSecretDocument(secret.current),
    INDEX_TABLE: indexTable,
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY,
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: sqsProxy.url,
  });
  const queueName = new URL(queueUrl).pathname.split('/').pop() ?? queueUrl;
  const bindings: ResourceBindings = {
    tables: { [name]: 'webhookReplayTable', [indexTable]: 'indexTable' },
    queues: { [queueName]: 'ingestQueue' },
  };
  const clients = createWebhookClients(config);
  for (const client of Object.values(clients)) recordCallsOf(client, 'webhook', bindings);
  const handler = createWebhookRuntime(config, {
    clients,
    // Read on every request, as the Lambda reads through its one-minute cache.
    secrets: createWebhookSecrets(async () => webhookSecretDocument(secret.current, secret.previous)),
    apiKey: TEST_UPSTREAM_API_KEY,
    log,
    counters: { record() {} },
    // As deployed: a chat fan-out draws its listing requests from the shared budget, as a poller.
    budget: loadConfig(WorkerBudgetConfigSchema, {
      COMPLIANCE_REQUESTS_PER_MINUTE: '60000',
      BUDGET_MAX_WAIT_MS: '5000',
      ...opts.budget,
    }),
  });
  const http = await startWebhookServer(handler, { rateLimit: 10_000, burstLimit: 10_000, ...opts.server });

  return {
    aws,
    url: http.url,
    queueUrl,
    replayTable: name,
    indexTable,
    bindings,
    upstream,
    sqsProxy,
    secret,
    logs,
    async post(delivery) {
      const res = await request(`${http.url}/events`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      const text = await res.body.text();
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, headers: res.headers, json, text };
    },
    async drainJobs() {
      const jobs: IngestJob[] = [];
      for (;;) {
        const { Messages = [] } = await aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return jobs;
        for (const m of Messages) {
          const parsed = parseJob(m.Body ?? '');
          if (!parsed.ok) throw new Error(`the queue holds a job the worker would refuse: ${parsed.reason}`);
          jobs.push(parsed.job);
        }
        await aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        );
      }
    },
    async close() {
      await http.close();
      for (const client of Object.values(clients)) client.destroy();
      await sqsProxy.close();
      await upstream.close();
      aws.destroy();
    },
  };
}
