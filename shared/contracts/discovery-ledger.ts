/**
 * The discovery ledger: one record per poller run, the evidence that discovery covered a period
 * without a gap (upstream publishes no totals or checksums of its listings). Written by the pollers,
 * listed by the lookup API (`GET /discovery/{source}/runs`), newest first.
 */
import type { PollerSource } from './discovery-sources.js';

/** The sources come from the poller registry (discovery-sources.ts). */
export { POLLER_SOURCES, type PollerSource } from './discovery-sources.js';

/** How a run ended. */
export type RunEnding =
  /** Read to the end of the listing. */
  | 'completed'
  /** Stopped cleanly before its deadline; the next run continues from the checkpoint. */
  | 'deadline'
  /** Upstream refused the stored cursor (400): reported and alarmed, never reset. */
  | 'cursor_rejected'
  /** Upstream throttled the run or no budget came in time; the next run continues. */
  | 'throttled'
  /** Anything else; `error` says what. */
  | 'failed';

export interface LedgerRecord {
  source: PollerSource;
  runId: string;
  startedAt: string;
  endedAt: string;
  ending: RunEnding;
  /** The cursor the run started from and the one it checkpointed last (null = the listing's start). */
  cursorStart: string | null;
  cursorEnd: string | null;
  pages: number;
  /** Items read (chats, messages, activities or files, by source). */
  records: number;
  /** Items upstream sent that did not match the documented shape (counted, logged, not enqueued). */
  invalidRecords: number;
  jobsEnqueued: number;
  /** Activity poller: the window read, [windowStart, windowEnd). Others: the run's own span. */
  windowStart: string | null;
  windowEnd: string | null;
  /** `request-id` of the last page read. */
  lastRequestId: string | null;
  error: string | null;
  /**
   * Units (chats) this run could not read; each went to the retry list, and the run moved on. Capped
   * at MAX_LEDGER_UNIT_FAILURES entries; `unitFailureCount` is the full count. Absent on records
   * written before per-chat isolation.
   */
  unitFailures?: UnitFailure[] | undefined;
  unitFailureCount?: number | undefined;
  /** Chats whose message cursor upstream refused (400): each was read again from its first message. */
  unitsRestarted?: string[] | undefined;
  /** Entries on the source's retry list when the run ended (failures not yet resolved). */
  retriesPending?: number | undefined;
}

/** One unit (a chat) a run could not read: what failed, and upstream's `request-id` when it answered. */
export interface UnitFailure {
  id: string;
  error: string;
  requestId: string | null;
}

export const MAX_LEDGER_UNIT_FAILURES = 50;

/** What was deleted upstream: a file, a chat, a project or a project document. */
export type UpstreamDeletionKind = 'file' | 'chat' | 'project' | 'document';
/** How discovery learnt of a deletion: an activity, or a chat's or project's `deleted_at` (soft delete). */
export type UpstreamDeletionVia = 'activity' | 'chat_soft_delete' | 'project_soft_delete';

/** A deletion upstream of a file, chat, project or document, as lookups show it. Our archived copy stays. */
export interface UpstreamDeletionRecord {
  id: string;
  kind: UpstreamDeletionKind;
  /** When upstream deleted it (the activity's, the chat's or the project's `deleted_at` time), if known. */
  deletedAt: string | null;
  /** How discovery learnt of it: a claude_*_deleted activity, or a `deleted_at` (soft delete). */
  via: UpstreamDeletionVia;
  activityId: string | null;
  /** The activity's actor, as upstream sent it. */
  actor: Record<string, unknown> | null;
  recordedAt: string;
}
