import type { Context } from 'aws-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Dispatcher } from 'undici';
import type { DiscoveryConfig } from '../../shared/contracts/lambda-environment.js';
import type { PollerSource } from '../../shared/contracts/discovery-ledger.js';
import { METRIC } from '../../shared/contracts/metric-names.js';
import { runActivityPoller } from '../../shared/discovery/activity-poller.js';
import { runChatPoller } from '../../shared/discovery/chat-poller.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { runFilesApiPoller } from '../../shared/discovery/files-api-poller.js';
import { runProjectsPoller } from '../../shared/discovery/projects-poller.js';
import type { RunOutcome } from '../../shared/discovery/poller-run.js';
import { repeatPolls } from '../../shared/discovery/repeat-polls.js';
import type { PollerDeps } from '../../shared/discovery/ports.js';
import { createSharedBudgetGate } from '../../shared/index/dynamodb-shared-budget-gate.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import { DynamoDbArchivedFiles } from '../../shared/index/dynamodb-archived-files.js';
import { DynamoDbUpstreamDeletions } from '../../shared/index/dynamodb-upstream-deletions.js';
import { createDocumentClient, createSqsClient } from '../../shared/platform/aws-clients.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import type { ApiKeyProvider } from '../../shared/upstream/api-key.js';
import { createListingClient } from '../../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../../shared/upstream/upstream-client.js';

/** Moved to shared/index/dynamodb-shared-budget-gate.ts (the pollers, the worker, the webhook and the CLI build it). */
export { createSharedBudgetGate } from '../../shared/index/dynamodb-shared-budget-gate.js';

export interface PollerClients {
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/** The AWS clients a poller uses: the index table (store, budget, deletions, file records) and the ingest queue. */
export function createPollerClients(config: DiscoveryConfig): PollerClients {
  return {
    doc: createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT }),
    sqs: createSqsClient({ endpoint: config.LOCAL_SQS_ENDPOINT }),
  };
}

/**
 * Builds a poller's handler from validated configuration, once per process. With POLL_EVERY_SECONDS
 * and POLL_WINDOW_SECONDS set (as deployed, from the poller registry) an invocation polls repeatedly
 * (shared/discovery/repeat-polls.ts) and returns its last poll's outcome; without them, one pass. The three poller
 * Lambdas and the local stack come through here, so they run the same code. A caller that already
 * holds clients built by createPollerClients (the test stack, which observes their calls) passes them.
 */
export function createPollerRuntime(
  source: PollerSource,
  config: DiscoveryConfig,
  opts: {
    apiKey: string | ApiKeyProvider;
    log: Log;
    counters: Counters;
    dispatcher?: Dispatcher;
    now?: () => number;
    clients?: PollerClients;
    /** Called after each poll (an invocation may poll several times: POLL_EVERY_SECONDS). */
    onRun?: (outcome: RunOutcome) => void;
  },
): (context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<RunOutcome> {
  const { doc, sqs } = opts.clients ?? createPollerClients(config);
  const gate = createSharedBudgetGate(config, doc, config.INDEX_TABLE, 'poller', opts);
  const upstream = createListingClient({
    baseUrl: config.ANTHROPIC_BASE_URL,
    apiKey: opts.apiKey,
    dispatcher: opts.dispatcher ?? createUpstreamAgent(),
    gate,
    onResponse: ({ latencyMs }) => opts.counters.record(METRIC.upstreamLatency, latencyMs, 'Milliseconds'),
  });
  const now = opts.now ?? Date.now;
  const store = new DynamoDbDiscoveryStore(doc, config.INDEX_TABLE);
  const deps: PollerDeps = {
    upstream,
    store,
    jobs: createSqsJobSender(sqs, config.INGEST_QUEUE_URL),
    log: opts.log,
    counters: opts.counters,
    now,
    pageSize: config.PAGE_SIZE,
  };
  const deletions = new DynamoDbUpstreamDeletions(doc, config.INDEX_TABLE);
  const runOnce = (context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<RunOutcome> => {
    const runOptions = {
      deadlineMs: now() + context.getRemainingTimeInMillis(),
      stopMarginMs: config.POLLER_STOP_MARGIN_SECONDS * 1000,
      leaseMs: config.POLLER_LEASE_SECONDS * 1000,
    };
    switch (source) {
      case 'chats':
        return runChatPoller(
          { ...deps, deletions, messagePageSize: config.MESSAGE_PAGE_SIZE, stampAppearance: true, requests: store },
          runOptions,
        );
      case 'activities':
        return runActivityPoller(
          {
            ...deps,
            deletions,
            visibilityLagMs: config.ACTIVITY_VISIBILITY_LAG_SECONDS * 1000,
            startAt: config.ACTIVITY_START_AT ?? null,
            uploadJobDelaySeconds: config.ACTIVITY_UPLOAD_JOB_DELAY_SECONDS,
          },
          runOptions,
        );
      case 'files_api':
        return runFilesApiPoller({ ...deps, archived: new DynamoDbArchivedFiles(doc, config.INDEX_TABLE) }, runOptions);
      case 'projects':
        return runProjectsPoller(
          {
            ...deps,
            deletions,
            archived: new DynamoDbArchivedFiles(doc, config.INDEX_TABLE),
            fullWalkEveryMs: config.PROJECTS_FULL_WALK_MINUTES * 60_000,
            // Polling repeatedly, a long walk goes on in slices of a poll interval between change polls.
            fullWalkSliceMs: config.POLL_EVERY_SECONDS > 0 ? config.POLL_EVERY_SECONDS * 1000 : undefined,
          },
          runOptions,
        );
    }
  };
  if (config.POLL_EVERY_SECONDS === 0 || config.POLL_WINDOW_SECONDS === 0) {
    return async (context) => {
      const outcome = await runOnce(context);
      opts.onRun?.(outcome);
      return outcome;
    };
  }
  const repeat = {
    everyMs: config.POLL_EVERY_SECONDS * 1000,
    windowMs: config.POLL_WINDOW_SECONDS * 1000,
    now,
    ...(opts.onRun ? { onRun: opts.onRun } : {}),
  };
  return async (context) => (await repeatPolls(runOnce, context, repeat)).last;
}
