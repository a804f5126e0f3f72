/**
 * What the discovery use cases need from the outside world. The use cases (chat-poller.ts,
 * activity-poller.ts, files-api-poller.ts, poller-run.ts) import these shapes only, never an AWS
 * SDK (test/unit/layout-boundaries.test.ts checks it); the adapters live with their technology, as
 * ingest's do (shared/index/dynamodb-discovery-store.ts, dynamodb-rate-budget.ts,
 * dynamodb-backfill-store.ts, dynamodb-file-index.ts; shared/platform/sqs-job-sender.ts). The pollers
 * are tested over those real adapters against local servers (test/support/discovery-stack.ts wires
 * them to dynalite and fauxqs for test/integration/discovery-*.test.ts), with a test wrapping one
 * adapter where it needs a fault (a store that crashes mid-run); no in-memory implementation of these
 * ports exists yet.
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
  putLedger(record: LedgerRecord): Promise<void>;
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
