import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FileRecord } from '../contracts/file-records.js';
import { chatListingSortKey, chatPartition, listingSortTime } from '../contracts/table-keys.js';
import { SEARCH_ATTRIBUTES, type SearchAttributeUpdate } from '../contracts/search-index.js';

/**
 * The file item and its chat listings as stored (layout: shared/contracts/table-keys.ts), shared by
 * the writers of the index: the file index (dynamodb-file-index.ts) and the redrive reset.
 */

/**
 * The attributes of the file item that are bookkeeping, not part of the record: its key, lease and
 * listing time, and the search keys (shared/contracts/search-index.ts), which must not be copied onto
 * the chat listings (a copy carrying them would be found twice by every search).
 */
const BOOKKEEPING = ['pk', 'sk', 'leaseOwner', 'leaseExpiresAtMs', 'sortAt', ...SEARCH_ATTRIBUTES] as const;

/**
 * Adds a search attribute update to an UpdateExpression under construction: `#sa<i>` names and `:sa<i>`
 * values, so they cannot collide with the caller's placeholders.
 */
export function withSearchAttributes(
  update: SearchAttributeUpdate,
  expression: { sets: string[]; removes: string[]; names: Record<string, string>; values: Record<string, unknown> },
): void {
  let i = 0;
  for (const [name, value] of Object.entries(update.set)) {
    expression.names[`#sa${i}`] = name;
    expression.values[`:sa${i}`] = value;
    expression.sets.push(`#sa${i} = :sa${i}`);
    i++;
  }
  for (const name of update.remove) {
    expression.names[`#sa${i}`] = name;
    expression.removes.push(`#sa${i}`);
    i++;
  }
}

/** Turns a stored item into a record: bookkeeping removed, the chat set as a sorted list. */
export function toRecord(item: Record<string, unknown> | undefined): FileRecord | undefined {
  if (!item) return undefined;
  const copy: Record<string, unknown> = { ...item };
  for (const k of BOOKKEEPING) delete copy[k];
  const chats = copy['chatIds'];
  copy['chatIds'] = chats instanceof Set ? [...chats].map(String).sort() : Array.isArray(chats) ? chats : [];
  // Message ids are a string set on the item (added to as the file is seen in more messages).
  const messages = copy['messageIds'];
  if (messages instanceof Set) copy['messageIds'] = [...messages].map(String).sort();
  // Items are written only by the index's own modules, so their shape is the record's.
  return copy as unknown as FileRecord;
}

/**
 * The listing time stored on the file item when it was first finished, used as it is: rewriting a
 * listing under the key it was first written with is what keeps the write idempotent.
 */
export function sortAtOf(item: Record<string, unknown> | undefined, record: FileRecord): string {
  const v = item?.['sortAt'];
  if (typeof v === 'string') return v;
  return listingSortTime(record.createdAt, new Date().toISOString());
}

/** Idempotent: a listing item per chat, each a copy of the record. */
export async function writeChatListings(
  doc: DynamoDBDocumentClient,
  table: string,
  record: FileRecord,
  sortAt: string,
): Promise<void> {
  await Promise.all(
    record.chatIds.map((chatId) =>
      doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...record, pk: chatPartition(chatId), sk: chatListingSortKey(sortAt, record.fileId) },
        }),
      ),
    ),
  );
}
