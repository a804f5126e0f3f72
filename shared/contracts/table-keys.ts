/**
 * The index table's key schema, defined once: the CDK table construct and the repository both read it.
 *
 * Single-table design, no transactions, no secondary index:
 * - one file item   pk = FILE#<fileId>  sk = FILE                    (state, lease, evidence)
 * - one listing item per chat the file belongs to
 *                   pk = CHAT#<chatId>  sk = F#<createdAt>#<fileId>  (a copy of the record)
 * A chat's files are one Query on its partition, ordered by upstream created_at.
 */
export const INDEX_TABLE_KEYS = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
} as const;

export const FILE_ITEM_SK = 'FILE';

export function fileItemKey(fileId: string): { pk: string; sk: string } {
  return { pk: `FILE#${fileId}`, sk: FILE_ITEM_SK };
}

export function chatPartition(chatId: string): string {
  return `CHAT#${chatId}`;
}

/** Sort key of a chat listing item: created_at first so a Query returns the chat's files in order. */
export function chatListingSortKey(createdAt: string, fileId: string): string {
  return `F#${createdAt}#${fileId}`;
}

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
