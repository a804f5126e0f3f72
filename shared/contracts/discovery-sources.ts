/**
 * The poller registry: every discovery source (a poller) and what the rest of the project needs to
 * know about it. The infrastructure (infra/constructs/discovery-pollers.ts: a function, a schedule,
 * grants and alarms per entry), the local stack's schedule (local/start.ts), the CLI (ledger, status,
 * lookup client), the lookup API's `{source}` and the tests all iterate this one table, so adding a
 * poller is one entry here plus its use case and its Lambda entry file. No SDK: everything that
 * imports the contracts may import it.
 */
import { DISCOVERY_KEYS, fileItemKey, KEY_PREFIXES } from './table-keys.js';

/** Which shared request budget a poller draws from (shared/discovery/rate-budget.ts). */
export type BudgetPool = 'compliance' | 'files_api';

export interface DiscoverySource {
  /** The CDK construct id of its function (also the prefix of its alarms' names, e.g. `ChatPollerStalled`). */
  readonly constructId: string;
  /** Its Lambda entry file, relative to the project root. */
  readonly lambdaEntry: string;
  /** Powertools' `service` dimension of its metrics. */
  readonly serviceName: string;
  /** The function's description. */
  readonly description: string;
  /**
   * Minutes between scheduled invocations by default; a deployment may override it with the
   * context key `scheduleConfigKey` (infra/deployment-config.ts), when the source has one.
   */
  readonly scheduleMinutes: number;
  readonly scheduleConfigKey?:
    | 'chatPollerMinutes'
    | 'activityPollerMinutes'
    | 'filesApiPollerMinutes'
    | 'projectsPollerMinutes';
  /**
   * Seconds between polls within one invocation, or null for one pass per invocation. An invocation
   * that polls repeatedly keeps polling for `scheduleMinutes` less REPEAT_MARGIN_SECONDS, so the
   * schedule's next invocation finds the lease free and takes over: a file is found within about
   * `pollEverySeconds` of its appearance instead of within a schedule period.
   */
  readonly pollEverySeconds: number | null;
  /** Upstream requests a poll costs when nothing changed upstream (one listing page). */
  readonly idleRequestsPerPoll: number;
  readonly budgetPool: BudgetPool;
  /** The index table's items it reads or writes, by partition-key prefix (the grants' scope). */
  readonly tableKeyPrefixes: {
    /**
     * Single-item GetItem, PutItem and UpdateItem on partitions shared with other callers (the budget
     * of its pool, deletions) or of many partitions (one per chat, per activity). Its own lease,
     * checkpoint and ledger are not here: they are exact partitions (ownPartitions).
     */
    readonly items: readonly string[];
    /** BatchGetItem, restricted to these leading keys with dynamodb:LeadingKeys. */
    readonly batchGet: readonly string[];
    /** Work lists it reads whole and takes entries off: Query, PutItem and DeleteItem (exact partitions). */
    readonly lists: readonly string[];
  };
}

/**
 * The shared items every poller touches by prefix: the request budget (one item pair per pool, shared
 * with the webhook and the other pollers of the pool). What its use case keeps is named per source below.
 */
const POLLER_ITEMS = [KEY_PREFIXES.budget] as const;

/**
 * The partitions that are a poller's alone, by exact partition key: `state` holds its lease and
 * checkpoint (GetItem, conditional PutItem and UpdateItem), `ledger` its run records, which are
 * evidence written once (a conditional PutItem, shared/index/dynamodb-discovery-store.ts putLedger)
 * and never updated or deleted. Its grants name these values exactly, so no poller can take another's
 * lease, move its checkpoint or write into its ledger (infra/constructs/discovery-pollers.ts).
 */
export function ownPartitions(source: PollerSource): { readonly state: string; readonly ledger: string } {
  return { state: DISCOVERY_KEYS.lease(source).pk, ledger: DISCOVERY_KEYS.ledgerPartition(source) };
}

/** Kept back from an invocation's polling so that the next scheduled invocation finds the lease free. */
export const REPEAT_MARGIN_SECONDS = 5;

export const DISCOVERY_SOURCES = {
  chats: {
    constructId: 'ChatPoller',
    lambdaEntry: 'lambdas/chat-poller/handler.ts',
    serviceName: 'archiver-chat-poller',
    description: 'Discovery: walks chats by updated_at and enqueues one job per generated and uploaded file',
    scheduleMinutes: 1,
    scheduleConfigKey: 'chatPollerMinutes',
    // An idle poll is one chats page after the cursor (changed chats only): 4 a minute.
    pollEverySeconds: 15,
    idleRequestsPerPoll: 1,
    budgetPool: 'compliance',
    tableKeyPrefixes: {
      items: [...POLLER_ITEMS, KEY_PREFIXES.chatCheckpoint, KEY_PREFIXES.deletion],
      batchGet: [],
      // Its retry list and the webhook's unfinished chat requests (shared/contracts/discovery-ledger.ts).
      lists: [DISCOVERY_KEYS.retryPartition('chats'), DISCOVERY_KEYS.chatRequestPartition],
    },
  },
  activities: {
    constructId: 'ActivityPoller',
    lambdaEntry: 'lambdas/activity-poller/handler.ts',
    serviceName: 'archiver-activity-poller',
    description: 'Discovery: reads the activity feed, enqueues uploads and records deletions on the index',
    scheduleMinutes: 1,
    scheduleConfigKey: 'activityPollerMinutes',
    // Its window trails now by the feed's visibility lag anyway, so polling more often gains little: 2 a minute.
    pollEverySeconds: 30,
    idleRequestsPerPoll: 1,
    budgetPool: 'compliance',
    tableKeyPrefixes: {
      items: [...POLLER_ITEMS, KEY_PREFIXES.activity, KEY_PREFIXES.deletion],
      batchGet: [],
      lists: [],
    },
  },
  files_api: {
    constructId: 'FilesApiPoller',
    lambdaEntry: 'lambdas/files-api-poller/handler.ts',
    serviceName: 'archiver-files-api-poller',
    description: 'Discovery: lists the Files API and enqueues files not yet archived',
    scheduleMinutes: 15,
    scheduleConfigKey: 'filesApiPollerMinutes',
    // Each run walks the whole listing (it has no change order): one pass per invocation.
    pollEverySeconds: null,
    idleRequestsPerPoll: 1,
    budgetPool: 'files_api',
    tableKeyPrefixes: { items: [...POLLER_ITEMS], batchGet: [fileItemKey('').pk], lists: [] },
  },
  projects: {
    constructId: 'ProjectsPoller',
    lambdaEntry: 'lambdas/projects-poller/handler.ts',
    serviceName: 'archiver-projects-poller',
    description:
      'Discovery: polls changed projects and walks all projects, ' +
      'enqueuing attachments not yet archived with their project',
    scheduleMinutes: 1,
    scheduleConfigKey: 'projectsPollerMinutes',
    // Every 20 s a change poll: the projects updated since the last poll (`updated_at.gte`), one page
    // when idle: 3 a minute. Every PROJECTS_FULL_WALK_MINUTES (15) one poll also walks every project and
    // its attachments, the safety net for an attachment that did not bump its project's `updated_at`;
    // that walk costs one projects page plus one attachments page per project, not counted here.
    pollEverySeconds: 20,
    idleRequestsPerPoll: 1,
    budgetPool: 'compliance',
    // Deletions of projects deleted in the app; "already final with a project?" of attachments in batches.
    tableKeyPrefixes: { items: [...POLLER_ITEMS, KEY_PREFIXES.deletion], batchGet: [KEY_PREFIXES.file], lists: [] },
  },
} as const satisfies Record<string, DiscoverySource>;

export type PollerSource = keyof typeof DISCOVERY_SOURCES;

/** Every source, in registry order. */
export const POLLER_SOURCES = Object.keys(DISCOVERY_SOURCES) as [PollerSource, ...PollerSource[]];

export function discoverySource(source: PollerSource): DiscoverySource {
  return DISCOVERY_SOURCES[source];
}

/**
 * How long an invocation of `source` keeps polling (ms), or 0 for one pass. The schedule's period
 * less REPEAT_MARGIN_SECONDS, capped by the function's timeout less its stop margin.
 */
export function repeatWindowMs(scheduleMinutes: number, pollEverySeconds: number | null): number {
  if (pollEverySeconds === null) return 0;
  return Math.max(0, scheduleMinutes * 60 - REPEAT_MARGIN_SECONDS) * 1000;
}

/**
 * Upstream requests a minute the pollers of a budget pool spend when nothing changes upstream: the
 * repeating ones poll every `pollEverySeconds`, the others once per scheduled invocation.
 */
export function idleRequestsPerMinute(pool: BudgetPool, sources: readonly PollerSource[] = POLLER_SOURCES): number {
  let total = 0;
  for (const source of sources) {
    const s: DiscoverySource = DISCOVERY_SOURCES[source];
    if (s.budgetPool !== pool) continue;
    const pollsPerMinute = s.pollEverySeconds === null ? 1 / s.scheduleMinutes : 60 / s.pollEverySeconds;
    total += pollsPerMinute * s.idleRequestsPerPoll;
  }
  return total;
}

/** Idle polling may spend at most this share of a pool's budget (issue 14: 2% of 600 a minute = 12). */
export const IDLE_POLLING_MAX_SHARE = 0.02;
