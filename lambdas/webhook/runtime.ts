import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WebhookConfig, WorkerBudgetConfig } from '../../shared/contracts/lambda-environment.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import { DynamoDbReplayGuard } from '../../shared/index/dynamodb-replay-guard.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { createDocumentClient, createSqsClient } from '../../shared/platform/aws-clients.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import type { ApiKeyProvider } from '../../shared/upstream/api-key.js';
import { createListingClient } from '../../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../../shared/upstream/upstream-client.js';
import { createChatFanOut } from '../../shared/webhook/chat-fan-out.js';
import type { WebhookSecrets } from '../../shared/webhook/ports.js';
import { createWebhookHandler, type WebhookRequestOptions } from '../../shared/webhook/webhook-http.js';
import { createSharedBudgetGate } from '../../shared/index/dynamodb-shared-budget-gate.js';

/** Messages per listing page when a chat is fanned out: few, large pages spend little of the budget. */
const MESSAGE_PAGE_SIZE = 500;

export type WebhookHandler = (
  event: APIGatewayProxyEvent,
  opts?: WebhookRequestOptions,
) => Promise<APIGatewayProxyResult>;

export interface WebhookClients {
  /** The replay table and the shared budget's items in the index table. */
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/** The webhook function's AWS clients, as configured (SDK defaults in AWS, the endpoint overrides locally). */
export function createWebhookClients(config: WebhookConfig): WebhookClients {
  return {
    doc: createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT }),
    sqs: createSqsClient({ endpoint: config.LOCAL_SQS_ENDPOINT }),
  };
}

/**
 * Builds the webhook handler and its clients from validated configuration, once per process; shared
 * by the Lambda and the local stack, so both run the same code. A caller that already holds clients
 * built by createWebhookClients (the test stack, which observes their calls) passes them.
 */
export function createWebhookRuntime(
  config: WebhookConfig,
  opts: {
    secrets: WebhookSecrets;
    apiKey: string | ApiKeyProvider;
    log: Log;
    counters: Counters;
    /** The shared upstream budget; without COMPLIANCE_REQUESTS_PER_MINUTE the fan-out is not gated. */
    budget?: WorkerBudgetConfig;
    now?: () => number;
    clients?: WebhookClients;
  },
): WebhookHandler {
  const { doc, sqs } = opts.clients ?? createWebhookClients(config);
  const rate = opts.budget?.COMPLIANCE_REQUESTS_PER_MINUTE;
  if (rate !== undefined && !config.INDEX_TABLE)
    throw new Error('invalid configuration: INDEX_TABLE: required with COMPLIANCE_REQUESTS_PER_MINUTE');
  // A fan-out is discovery work: it draws as a poller does, so it can never starve the workers.
  const gate =
    opts.budget && rate !== undefined && config.INDEX_TABLE
      ? createSharedBudgetGate(
          { ...opts.budget, COMPLIANCE_REQUESTS_PER_MINUTE: rate },
          doc,
          config.INDEX_TABLE,
          'poller',
          opts,
        )
      : undefined;
  // Fewer attempts than discovery's default: the caller is waiting, and can send the delivery again.
  const jobs = createSqsJobSender(sqs, config.INGEST_QUEUE_URL, { maxAttempts: 3, backoffMs: 100 });
  const upstream = createListingClient({
    baseUrl: config.ANTHROPIC_BASE_URL,
    apiKey: opts.apiKey,
    // Listings are small JSON answers: no reason to wait as long as for a file's body.
    dispatcher: createUpstreamAgent({ headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000 }),
    ...(gate ? { gate } : {}),
  });
  return createWebhookHandler({
    secrets: opts.secrets,
    replays: new DynamoDbReplayGuard(doc, config.WEBHOOK_REPLAY_TABLE, {
      retentionSeconds: config.REPLAY_RETENTION_HOURS * 3600,
      leaseMs: config.CLAIM_LEASE_SECONDS * 1000,
    }),
    jobs,
    chats: createChatFanOut({
      upstream,
      jobs,
      log: opts.log,
      messagePageSize: MESSAGE_PAGE_SIZE,
      // A chat not read to its end in the request is left for the chat poller (in the index table).
      requests: config.INDEX_TABLE ? new DynamoDbDiscoveryStore(doc, config.INDEX_TABLE) : undefined,
      ...(opts.now ? { now: opts.now } : {}),
    }),
    log: opts.log,
    counters: opts.counters,
    now: opts.now ?? Date.now,
  });
}
