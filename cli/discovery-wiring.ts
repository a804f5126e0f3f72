/**
 * Builds the discovery pieces the CLI runs itself (backfill, a chat's fan-out) the way the poller
 * Lambdas build theirs (lambdas/discovery/runtime.ts): the listing client behind the shared budget
 * gate as a `poller`, discovery's store, the SQS job sender and the deletion index, all on the
 * stack's own table and queue.
 */
import type { Agent } from 'undici';
import { createSharedBudgetGate, trackServerClock } from '../shared/index/dynamodb-shared-budget-gate.js';
import type { BackfillDeps } from '../shared/discovery/backfill.js';
import { DynamoDbBackfillStore } from '../shared/index/dynamodb-backfill-store.js';
import { DynamoDbDiscoveryStore } from '../shared/index/dynamodb-discovery-store.js';
import { createSqsJobSender } from '../shared/platform/sqs-job-sender.js';
import { DynamoDbUpstreamDeletions } from '../shared/index/dynamodb-upstream-deletions.js';
import { noCounters } from '../shared/platform/telemetry.js';
import type { Log } from '../shared/platform/telemetry.js';
import { createListingClient } from '../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../shared/upstream/upstream-client.js';
import { createStackClients } from './aws-access.js';
import type { CliBudgetConfig } from './budget-config.js';
import type { CliIo } from './io.js';
import type { StackTarget } from './stack-target.js';
import { sleepFor } from '../shared/platform/abortable-sleep.js';

export interface DiscoveryWiring {
  deps: BackfillDeps;
  close(): Promise<void>;
}

/** Chats per listing page and messages per messages page, as the pollers use by default. */
const PAGE_SIZE = 100;
const MESSAGE_PAGE_SIZE = 1000;

export async function wireDiscovery(
  target: StackTarget,
  budget: CliBudgetConfig,
  io: CliIo,
  log: Log,
): Promise<DiscoveryWiring> {
  const [resources, upstreamAccess] = await Promise.all([target.resources(), target.upstream()]);
  const apiKey = await upstreamAccess.apiKey();
  const clients = createStackClients(resources);
  const agent: Agent = createUpstreamAgent();
  // A reader of the deployment's budget: its stored sizing, on the table's clock (not this machine's).
  const gate = createSharedBudgetGate(budget, clients.doc, resources.table, 'poller', {
    log,
    counters: noCounters,
    role: 'reader',
    now: trackServerClock(clients.doc),
  });
  const upstream = createListingClient({ baseUrl: upstreamAccess.baseUrl, apiKey, dispatcher: agent, gate });
  const deps: BackfillDeps = {
    upstream,
    store: new DynamoDbDiscoveryStore(clients.doc, resources.table),
    jobs: createSqsJobSender(clients.sqs, resources.queueUrl),
    deletions: new DynamoDbUpstreamDeletions(clients.doc, resources.table),
    backfills: new DynamoDbBackfillStore(clients.doc, resources.table),
    log,
    counters: noCounters,
    now: io.now,
    pageSize: PAGE_SIZE,
    messagePageSize: MESSAGE_PAGE_SIZE,
    sleep: sleepFor,
  };
  return {
    deps,
    async close() {
      clients.destroy();
      await agent.close();
    },
  };
}

/** The discovery code's log, for a terminal: warnings and errors as one line each on stderr. */
export function createCliLog(io: CliIo): Log {
  const line =
    (level: string) =>
    (message: string, attributes: Record<string, unknown> = {}) => {
      const detail = Object.entries(attributes)
        .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      io.err(`archiver: ${level}: ${message}${detail ? ` (${detail})` : ''}`);
    };
  return { debug: () => undefined, info: () => undefined, warn: line('warning'), error: line('error') };
}
