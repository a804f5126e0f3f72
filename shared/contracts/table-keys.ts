import { canonicalTimestamp } from './timestamps.js';

/**
 * The index table's key schema and every key prefix in it, defined once, here: the CDK constructs
 * (and their IAM LeadingKeys conditions), the adapters of shared/index/ and the tests all read them.
 *
 * Single-table design, no transactions, no secondary index:
 * - one file item   pk = FILE#<fileId>  sk = FILE                    (state, lease, evidence)
 * - one listing item per chat the file belongs to
 *                   pk = CHAT#<chatId>  sk = F#<sortAt>#<fileId>     (a copy of the record)
 * - discovery (DISCOVERY_KEYS): POLLER#<source> LEASE|CHECKPOINT, CHATCP#<chatId> CHECKPOINT,
 *   ACTIVITY#<id> SEEN, LEDGER#<source> RUN#<startedAt>#<runId>, BUDGET#<name> WINDOW|STATE,
 *   DELETION#<id> UPSTREAM
 * - backfills (BACKFILL_KEYS): BACKFILL#<options hash> CHECKPOINT
 * A chat's files are one Query on its partition, ordered by upstream created_at (listingSortTime).
 */
/**
 * The partition-key prefix of each kind of item, for the key functions below and for whatever must
 * name a kind by its prefix (the pollers' IAM LeadingKeys scopes in discovery-sources.ts).
 */
export const KEY_PREFIXES = {
  file: 'FILE#',
  chat: 'CHAT#',
  poller: 'POLLER#',
  chatCheckpoint: 'CHATCP#',
  activity: 'ACTIVITY#',
  ledger: 'LEDGER#',
  budget: 'BUDGET#',
  deletion: 'DELETION#',
  backfill: 'BACKFILL#',
  /** The access trail: one partition per day (`TRAIL#<yyyy-mm-dd>`), shared/contracts/search-index.ts. */
  trail: 'TRAIL#',
  retry: 'RETRY#',
  chatRequest: 'CHATREQ#',
  /** eDiscovery export jobs (shared/contracts/exports.ts). */
  export: 'EXPORT#',
} as const;

/** The sort-key prefix of a chat listing item (`F#<sortAt>#<fileId>`). */
export const LISTING_SK_PREFIX = 'F#';

/** The scheduled fixity audit's checkpoint partition (one item: shared/index/dynamodb-fixity-audit.ts). */
export const FIXITY_AUDIT_PARTITION = 'FIXITY';

/** `archiver reindex`'s checkpoint, one per version of the search keys. */
export function reindexCheckpointKey(searchKeysVersion: number): { pk: string; sk: string } {
  return { pk: 'REINDEX', sk: `SEARCH#v${searchKeysVersion}` };
}

export const INDEX_TABLE_KEYS = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  /**
   * Unix seconds after which DynamoDB may delete an item. Only items that are working memory carry
   * it (the activity poller's seen activity ids); evidence (file items, chat listings, the ledger,
   * deletions) never does. The code never relies on the deletion (it may come days late, and never
   * on dynalite): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
   */
  timeToLiveAttribute: 'expiresAt',
} as const;

export const FILE_ITEM_SK = 'FILE';

export function fileItemKey(fileId: string): { pk: string; sk: string } {
  return { pk: `${KEY_PREFIXES.file}${fileId}`, sk: FILE_ITEM_SK };
}

export function chatPartition(chatId: string): string {
  return `${KEY_PREFIXES.chat}${chatId}`;
}

/**
 * The time a file sorts by in its chats' listings, in canonical form (timestamps.ts): upstream's
 * `created_at` when it is an RFC 3339 timestamp, else `recordedAt`, the time the archive first
 * recorded the file (its `archivedAt` or `recordedAt`). Chosen once, when the file item is first
 * finished, and kept (the file item's `sortAt`), so every later listing write lands on the same key.
 */
export function listingSortTime(createdAt: string | null, recordedAt: string): string {
  return canonicalTimestamp(createdAt) ?? canonicalTimestamp(recordedAt) ?? new Date().toISOString();
}

/**
 * Sort key of a chat listing item: the listing time first so a Query returns the chat's files in
 * order. `sortAt` comes from listingSortTime; the 24 characters of the canonical form keep the key
 * within the listing cursor's bounds (shared/index/dynamodb-file-index.ts).
 */
export function chatListingSortKey(sortAt: string, fileId: string): string {
  return `${LISTING_SK_PREFIX}${sortAt}#${fileId}`;
}

/**
 * Keys of discovery's items in the index table (why the index table: docs/discovery.md, "Where the
 * state lives"). A poller is named by its source (discovery-sources.ts), typed `string` here so that
 * this module imports nothing of the registry, which imports it.
 */
export const DISCOVERY_KEYS = {
  lease: (source: string) => ({ pk: `${KEY_PREFIXES.poller}${source}`, sk: 'LEASE' }),
  checkpoint: (source: string) => ({ pk: `${KEY_PREFIXES.poller}${source}`, sk: 'CHECKPOINT' }),
  chatCheckpoint: (chatId: string) => ({ pk: `${KEY_PREFIXES.chatCheckpoint}${chatId}`, sk: 'CHECKPOINT' }),
  activitySeen: (activityId: string) => ({ pk: `${KEY_PREFIXES.activity}${activityId}`, sk: 'SEEN' }),
  ledgerPartition: (source: string) => `${KEY_PREFIXES.ledger}${source}`,
  /** Sorts runs by start time; the run id makes it unique. */
  ledgerSortKey: (startedAt: string, runId: string) => `RUN#${startedAt}#${runId}`,
  budgetWindow: (name: string) => ({ pk: `${KEY_PREFIXES.budget}${name}`, sk: 'WINDOW' }),
  budgetState: (name: string) => ({ pk: `${KEY_PREFIXES.budget}${name}`, sk: 'STATE' }),
  upstreamDeletion: (id: string) => ({ pk: `${KEY_PREFIXES.deletion}${id}`, sk: 'UPSTREAM' }),
  /** The retry list of a source: one item per unit (chat) a run could not read, until a run reads it. */
  retryPartition: (source: string) => `${KEY_PREFIXES.retry}${source}`,
  retry: (source: string, unitId: string) => ({ pk: `${KEY_PREFIXES.retry}${source}`, sk: `UNIT#${unitId}` }),
  /** Whole-chat reads asked for (webhook) and not finished yet: the chat poller finishes them. */
  chatRequestPartition: `${KEY_PREFIXES.chatRequest}chats`,
  chatRequest: (webhookId: string, chatId: string) => ({
    pk: `${KEY_PREFIXES.chatRequest}chats`,
    sk: `REQ#${webhookId}#${chatId}`,
  }),
} as const;

/** The checkpoint of one backfill (`archiver backfill`), by the hash of its options (backfill-checkpoint.ts). */
export const BACKFILL_KEYS = {
  checkpoint: (key: string) => ({ pk: `${KEY_PREFIXES.backfill}${key}`, sk: 'CHECKPOINT' }),
} as const;

/**
 * The webhook replay table: one item per webhook-id seen, keyed by the id itself. `expiresAt` (Unix
 * seconds) is the table's TTL attribute, so DynamoDB deletes ids some time after their window ends;
 * the code compares it with the clock rather than relying on the deletion (which may come days
 * late, and never comes on dynalite).
 */
export const WEBHOOK_REPLAY_TABLE_KEYS = {
  partitionKey: { name: 'webhookId', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
} as const;

/**
 * Legal-hold matters: one partition, one item per matter, so listing them (the lookup API, and the
 * ingest path once per invocation) is one Query and the ingest role's Query grant can be held to
 * this partition alone (dynamodb:LeadingKeys).
 */
export const MATTER_PARTITION = 'MATTER';

export function matterItemKey(matterId: string): { pk: string; sk: string } {
  return { pk: MATTER_PARTITION, sk: `MATTER#${matterId}` };
}
