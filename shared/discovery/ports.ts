/**
 * What the discovery use cases need from the outside world. The use cases (chat-poller.ts,
 * activity-poller.ts, files-api-poller.ts, poller-run.ts) import these shapes only, never an AWS
 * SDK (test/unit/layout-boundaries.test.ts checks it); the adapters live with their technology, as
 * ingest's do (shared/index/dynamodb-discovery-store.ts, dynamodb-rate-budget.ts,
 * dynamodb-backfill-store.ts, dynamodb-file-index.ts; shared/platform/sqs-job-sender.ts). The pollers
 * are tested over those real adapters against local servers (test/support/discovery-stack.ts wires
 * them to dynalite and fauxqs for test/integration/discovery-*.test.ts), with a test wrapping one
 * adapter where it needs a fault (a store that crashes mid-run); the use cases' own rules (per-chat
 * isolation, the retry list, stops, resumable chat requests) are unit-tested on the in-memory fakes
 * of test/support/memory-discovery.ts.
 */
import type {
  LedgerRecord,
  PollerSource,
  UpstreamDeletionKind,
  UpstreamDeletionVia,
} from '../contracts/discovery-ledger.js';
import type { Log, Counters } from '../platform/telemetry.js';
import type { ListingClient } from '../upstream/listing-client.js';

export type { PollerSource };

/** Where a poller is in its listing. `cursor` is upstream's opaque `last_id`; null = from the start. */
export interface PollerCheckpoint {
  cursor: string | null;
  /** Activity poller: the upper bound of the last window read. */
  windowEnd?: string | null | undefined;
  /** When the last run that finished without an error ended (ISO). */
  lastCompletedAt?: string | null | undefined;
  /** Set while upstream refuses the cursor (400); cleared by an operator, never by the poller. */
  rejectedCursor?: string | null | undefined;
  /** Projects poller: the next change poll reads projects updated since this time (ISO), less an overlap. */
  changedSince?: string | null | undefined;
  /** Projects poller: when the full walk in progress (`cursor` set) or last finished began (ISO). */
  fullWalkStartedAt?: string | null | undefined;
  /** Projects poller: when the last full walk that finished began (ISO); the next is due a period after it. */
  lastFullWalkAt?: string | null | undefined;
}

/** A chat's own checkpoint: the last message read and the `updated_at` it had then. */
export interface ChatCheckpoint {
  lastMessageId: string | null;
  updatedAt: string | null;
}

/** A lease held by one run; `generation` fences writes of a run that lost its lease. */
export interface PollerLease {
  owner: string;
  generation: number;
}

/**
 * A unit (a chat) a run could not read, on its source's retry list until a later run reads it.
 * Later runs take the due entries first, and a failure again pushes `nextAttemptAtMs` back
 * (shared/platform/backoff.ts).
 */
export interface RetryEntry {
  unitId: string;
  /** The chat's `updated_at` when it was listed (a retry reads it as of then, or later). */
  updatedAt: string | null;
  attempts: number;
  nextAttemptAtMs: number;
  firstFailedAt: string;
  lastError: string;
  lastRequestId: string | null;
  lastRunId: string;
}

export interface DiscoveryStore {
  /** Takes the poller's lease unless a live one is held by another run. */
  acquireLease(source: PollerSource, owner: string, nowMs: number, leaseMs: number): Promise<PollerLease | undefined>;
  releaseLease(source: PollerSource, lease: PollerLease): Promise<void>;
  getCheckpoint(source: PollerSource): Promise<PollerCheckpoint | undefined>;
  /** Writes the checkpoint unless a later lease generation has written one since (returns false then). */
  putCheckpoint(source: PollerSource, checkpoint: PollerCheckpoint, lease: PollerLease): Promise<boolean>;
  getChatCheckpoint(chatId: string): Promise<ChatCheckpoint | undefined>;
  putChatCheckpoint(chatId: string, checkpoint: ChatCheckpoint): Promise<void>;
  /** Whether an activity id was handled by an earlier page or run (the feed delivers at least once). */
  hasSeenActivity(activityId: string): Promise<boolean>;
  /** Remembers activity ids once their jobs were accepted and their deletions recorded. */
  markActivitiesSeen(activityIds: readonly string[], nowMs: number): Promise<void>;
  /** Writes the run's ledger record; never overwrites one (a run id is written once). */
  putLedger(record: LedgerRecord): Promise<void>;
  /** The source's retry list (at most `limit` entries, in unit id order). */
  listRetries(source: PollerSource, limit: number): Promise<RetryEntry[]>;
  putRetry(source: PollerSource, entry: RetryEntry): Promise<void>;
  /** Takes a unit off the retry list once a run has read it. */
  deleteRetry(source: PollerSource, unitId: string): Promise<void>;
}

/**
 * A whole chat someone asked for (the webhook) whose reading did not finish in their request: it
 * continues from `after` (the last message read), checkpointed per page, in the chat poller's runs.
 */
export interface ChatRequest {
  webhookId: string;
  chatId: string;
  reason?: string | undefined;
  /** The last message whose files were enqueued; null = from the first message. */
  after: string | null;
  jobs: number;
  requestedAt: string;
  attempts: number;
  nextAttemptAtMs: number;
  lastError: string | null;
  lastRequestId: string | null;
}

export interface ChatRequestStore {
  putChatRequest(request: ChatRequest): Promise<void>;
  /** At most `limit` open requests, oldest webhook id first (sort key order). */
  listChatRequests(limit: number): Promise<ChatRequest[]>;
  deleteChatRequest(webhookId: string, chatId: string): Promise<void>;
}

/** Sends ingest job bodies; resolves only once the queue accepted every one of them. */
export interface JobSender {
  /** `delaySeconds` (0-900) keeps the jobs invisible for a while (SQS DelaySeconds). */
  send(bodies: readonly string[], signal: AbortSignal, opts?: { delaySeconds?: number }): Promise<void>;
}

/** A deletion upstream, recorded on the index so that lookups show it. */
export interface UpstreamDeletion {
  /** A file, chat, project or project document id. */
  id: string;
  kind: UpstreamDeletionKind;
  deletedAt: string | null;
  /**
   * `activity` for claude_*_deleted activities; `chat_soft_delete` / `project_soft_delete` for a
   * chat's or a project's `deleted_at` (deleted in the app, still readable).
   */
  via: UpstreamDeletionVia;
  activityId?: string | undefined;
  actor?: Record<string, unknown> | undefined;
}

export interface DeletionRecorder {
  recordUpstreamDeletion(deletion: UpstreamDeletion, nowMs: number): Promise<void>;
}

/** Which files already have a final record (archived, unavailable or failed): the Files API poller skips them. */
export interface ArchivedFiles {
  /**
   * The ids among `fileIds` (one listing page) that have a final record, asked in as few calls as the
   * store allows. With `withProject`, only those whose record also names a project: a file archived
   * before (or through a chat outside any project) is enqueued again, so its record gains the project.
   */
  finalAmong(
    fileIds: readonly string[],
    signal: AbortSignal,
    opts?: { withProject?: boolean },
  ): Promise<ReadonlySet<string>>;
}

/** What every poller run is given. */
export interface PollerDeps {
  upstream: ListingClient;
  store: DiscoveryStore;
  jobs: JobSender;
  log: Log;
  counters: Counters;
  now: () => number;
  /** Page size of listings. */
  pageSize: number;
}
