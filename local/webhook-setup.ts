import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createWebhookRuntime } from '../lambdas/webhook/runtime.js';
import { WebhookConfigSchema, WorkerBudgetConfigSchema, loadConfig } from '../shared/contracts/lambda-environment.js';
import { WEBHOOK_REPLAY_TABLE_KEYS } from '../shared/contracts/table-keys.js';
import { WEBHOOK_ROUTE } from '../shared/contracts/webhook.js';
import { noCounters, type Log } from '../shared/platform/telemetry.js';
import { createWebhookSecrets, parseSecretDocument } from '../shared/webhook/signature.js';
import { startWebhookServer } from './webhook-server.js';

/** A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64, as senders expect. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The secret document the webhook function reads (the deployed secret holds the same JSON). */
export function webhookSecretDocument(current: string, previous?: string): string {
  return JSON.stringify({ current, ...(previous ? { previous } : {}) });
}

/**
 * Creates the webhook replay table (key schema of shared/contracts/table-keys.ts) unless it exists.
 * No TimeToLive is set: dynalite has no UpdateTimeToLive, and the code never relies on expiry.
 */
export async function ensureReplayTable(ddb: DynamoDBDocumentClient, name: string): Promise<void> {
  const key = WEBHOOK_REPLAY_TABLE_KEYS.partitionKey;
  try {
    await ddb.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) throw err;
  }
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: key.name, AttributeType: key.type }],
        KeySchema: [{ AttributeName: key.name, KeyType: 'HASH' }],
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface LocalWebhookOptions {
  env: NodeJS.ProcessEnv;
  doc: DynamoDBDocumentClient;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  queueUrl: string;
  /** The index table, where the shared upstream budget lives. */
  indexTable: string;
  replayTable: string;
  upstreamUrl: string;
  apiKey: string;
  log: Log;
}

export interface LocalWebhook {
  /** `POST` here: http://127.0.0.1:PORT/events */
  url: string;
  /** The current secret; `previousSecret` too while one is set (WEBHOOK_PREVIOUS_SECRET). */
  secret: string;
  previousSecret?: string;
  replayTable: string;
  close(): Promise<void>;
}

/**
 * The webhook endpoint of `npm start`: the deployed handler (createWebhookRuntime) behind the local
 * API Gateway stand-in, with a secret generated at each start unless WEBHOOK_SECRET is set
 * (WEBHOOK_PREVIOUS_SECRET adds a second one, to try a rotation). WEBHOOK_PORT picks the port (8788).
 */
export async function startLocalWebhook(opts: LocalWebhookOptions): Promise<LocalWebhook> {
  const { env } = opts;
  const secret = env['WEBHOOK_SECRET'] ?? generateWebhookSecret();
  const previousSecret = env['WEBHOOK_PREVIOUS_SECRET'];
  const document = webhookSecretDocument(secret, previousSecret);
  // A bad WEBHOOK_SECRET fails the start with a message naming it, not every request with a 503.
  parseSecretDocument(document);
  await ensureReplayTable(opts.doc, opts.replayTable);
  const handler = createWebhookRuntime(
    loadConfig(WebhookConfigSchema, {
      INGEST_QUEUE_URL: opts.queueUrl,
      WEBHOOK_REPLAY_TABLE: opts.replayTable,
      WEBHOOK_SECRETS: document,
      INDEX_TABLE: opts.indexTable,
      ANTHROPIC_BASE_URL: opts.upstreamUrl,
      ANTHROPIC_API_KEY: opts.apiKey,
      LOCAL_DYNAMODB_ENDPOINT: opts.dynamodbEndpoint,
      LOCAL_SQS_ENDPOINT: opts.sqsEndpoint,
      ...pickDefined(env, ['REPLAY_RETENTION_HOURS']),
    }),
    {
      secrets: createWebhookSecrets(() => Promise.resolve(document)),
      apiKey: opts.apiKey,
      log: opts.log,
      counters: noCounters,
      // As deployed: a chat fan-out draws from the budget the pollers and the worker share.
      budget: loadConfig(WorkerBudgetConfigSchema, {
        COMPLIANCE_REQUESTS_PER_MINUTE: '600',
        BUDGET_MAX_WAIT_MS: '5000',
        ...pickDefined(env, [
          'COMPLIANCE_REQUESTS_PER_MINUTE',
          'FILES_API_REQUESTS_PER_MINUTE',
          'BUDGET_WINDOW_MS',
          'POLLER_BUDGET_SHARE',
        ]),
      }),
    },
  );
  const port = Number(env['WEBHOOK_PORT'] ?? '8788');
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`WEBHOOK_PORT must be a port number, not "${env['WEBHOOK_PORT']}"`);
  const server = await startWebhookServer(handler, { port });
  return {
    url: `${server.url}${WEBHOOK_ROUTE.resource}`,
    secret,
    ...(previousSecret ? { previousSecret } : {}),
    replayTable: opts.replayTable,
    close: () => server.close(),
  };
}

function pickDefined(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}
