/**
 * A backfill's checkpoint (`archiver backfill`): where the walk of chats is, for one set of options,
 * so that an interrupted backfill resumes where it stopped. Stored in the index table beside
 * discovery's items (BACKFILL_KEYS in table-keys.ts), where the key is a hash of the options.
 */
export interface BackfillQuery {
  /** Inclusive lower bound on the chats' `created_at` (ISO), or null for the start. */
  since: string | null;
  /** Exclusive upper bound (ISO), or null for now (fixed when the backfill first starts). */
  until: string | null;
  /** At most 10 user ids, sorted; empty = every user. */
  userIds: string[];
}

export interface BackfillCheckpoint {
  key: string;
  query: BackfillQuery;
  /** The chats listing's `last_id` after the last page whose every chat was handled; null = start. */
  cursor: string | null;
  /** Chats of the page after `cursor` already handled (skipped on resume without an upstream call). */
  doneInPage: string[];
  /** `created_at` of the first and the last chat handled, for the progress estimate. */
  firstChatCreatedAt: string | null;
  lastChatCreatedAt: string | null;
  chatsScanned: number;
  filesEnqueued: number;
  /**
   * Chats that could not be read (after the step's retries) and went to the chat poller's retry list,
   * which its runs work through. Absent on checkpoints written before per-chat isolation.
   */
  chatsFailed?: string[] | undefined;
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
}
