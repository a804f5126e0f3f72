import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FileRecord } from '../contracts/file-records.js';
import { SEARCH_INDEXES } from '../contracts/search-index.js';
import { chatPartition, LISTING_SK_PREFIX } from '../contracts/table-keys.js';
import type { FileSearchIndex, IndexPage, IndexQuery } from '../lookup/search-files.js';
import { toRecord } from './dynamodb-file-items.js';

/**
 * The search port over the index table: one Query per call, on a search index
 * (shared/contracts/search-index.ts) or, for a chat, on the chat's listing partition
 * (pk = CHAT#<chatId>, sk = F#<listing time>#<fileId>). Never a Scan, never a FilterExpression: the
 * items read are the items returned, plus one to know whether another page follows. ReturnConsumedCapacity TOTAL
 * reports what the page cost.
 */
export class DynamoDbFileSearch implements FileSearchIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async query(q: IndexQuery): Promise<IndexPage> {
    // One item more than the page: when it comes back the page is full and more follow, and the cursor
    // is the page's last item's key; when it does not, this was the last page (DynamoDB's own
    // LastEvaluatedKey, given whenever Limit items were read, would cost the caller an empty last page).
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        ...(q.index === 'chat' ? {} : { IndexName: SEARCH_INDEXES[q.index].name }),
        ...keyCondition(q),
        ScanIndexForward: !q.newestFirst,
        Limit: q.limit + 1,
        ReturnConsumedCapacity: 'TOTAL',
        ...(q.startKey === undefined ? {} : { ExclusiveStartKey: q.startKey }),
      }),
    );
    const items = res.Items ?? [];
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    let lastKey: Record<string, string> | undefined;
    if (items.length > q.limit && last) lastKey = keyOf(q, last);
    // Fewer items than asked and a LastEvaluatedKey: DynamoDB stopped at 1 MB; go on from there.
    else if (res.LastEvaluatedKey) lastKey = res.LastEvaluatedKey as Record<string, string>;
    const records = page.map((item) => toRecord(item)).filter((r): r is FileRecord => r !== undefined);
    return { records, lastKey, readUnits: res.ConsumedCapacity?.CapacityUnits ?? 0 };
  }
}

/** The key DynamoDB would give as LastEvaluatedKey after `item`: the table's key and the index's. */
function keyOf(q: IndexQuery, item: Record<string, unknown>): Record<string, string> {
  const names =
    q.index === 'chat'
      ? ['pk', 'sk']
      : ['pk', 'sk', SEARCH_INDEXES[q.index].partitionKey, SEARCH_INDEXES[q.index].sortKey];
  return Object.fromEntries(names.map((n) => [n, String(item[n])]));
}

function keyCondition(q: IndexQuery): {
  KeyConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, string>;
} {
  if (q.index === 'chat') {
    // The listing's sort key carries the listing time; '~' sorts after every file id character.
    const [from, to] = 'between' in q.sort ? q.sort.between : ['', '~'];
    return {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: {
        ':pk': chatPartition(q.partition),
        ':from': `${LISTING_SK_PREFIX}${from}`,
        ':to': `${LISTING_SK_PREFIX}${to}#~`,
      },
    };
  }
  const index = SEARCH_INDEXES[q.index];
  const names = { '#pk': index.partitionKey, '#sk': index.sortKey };
  if ('prefix' in q.sort) {
    return {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':pk': q.partition, ':prefix': q.sort.prefix },
    };
  }
  return {
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':pk': q.partition, ':from': q.sort.between[0], ':to': q.sort.between[1] },
  };
}
