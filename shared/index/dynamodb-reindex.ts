import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SEARCH_KEYS_VERSION, searchAttributesOf } from '../contracts/search-index.js';
import { FILE_ITEM_SK, KEY_PREFIXES, reindexCheckpointKey } from '../contracts/table-keys.js';
import { toRecord, withSearchAttributes } from './dynamodb-file-items.js';

/** Where `archiver reindex` keeps its place: one item, rewritten after every page. */
export const REINDEX_CHECKPOINT_KEY = reindexCheckpointKey(SEARCH_KEYS_VERSION);

export interface ReindexProgress {
  /** Items the scan has read so far (all kinds), file items among them, and those given search keys. */
  scanned: number;
  fileItems: number;
  updated: number;
  /** Written meanwhile by the current code (which writes the keys itself), or gone. */
  skipped: number;
  startedAt: string;
  completedAt: string | null;
  resumed: boolean;
}

/**
 * Writes the search keys (shared/contracts/search-index.ts) onto file items written before they
 * existed. An operator's one-off, so a Scan (the only way to visit every item), in pages of
 * `pageSize`, with the scan's position checkpointed in the table after each page: interrupted, the
 * same call resumes after the last finished page (`restart` starts over). Each item is updated with
 * a condition that it still has the status it was read with and no keys of this version, so a write by
 * ingest in between (which writes the keys itself) is never overwritten with stale ones.
 */
export async function reindexSearchKeys(
  doc: DynamoDBDocumentClient,
  table: string,
  opts: {
    restart?: boolean;
    pageSize?: number;
    signal?: AbortSignal;
    onPage?: (p: ReindexProgress) => void;
    now?: () => Date;
  },
): Promise<ReindexProgress> {
  const now = opts.now ?? (() => new Date());
  const saved = opts.restart
    ? undefined
    : (await doc.send(new GetCommand({ TableName: table, Key: REINDEX_CHECKPOINT_KEY, ConsistentRead: true }))).Item;
  if (saved && typeof saved['completedAt'] === 'string') return { ...progressOf(saved), resumed: true };
  const progress: ReindexProgress = saved
    ? { ...progressOf(saved), resumed: true }
    : {
        scanned: 0,
        fileItems: 0,
        updated: 0,
        skipped: 0,
        startedAt: now().toISOString(),
        completedAt: null,
        resumed: false,
      };
  let startKey = saved?.['lastKey'] as Record<string, unknown> | undefined;
  do {
    opts.signal?.throwIfAborted();
    const page = await doc.send(
      new ScanCommand({
        TableName: table,
        Limit: opts.pageSize ?? 100,
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      progress.scanned++;
      if (item['sk'] !== FILE_ITEM_SK || typeof item['pk'] !== 'string' || !item['pk'].startsWith(KEY_PREFIXES.file))
        continue;
      progress.fileItems++;
      if (item['searchV'] === SEARCH_KEYS_VERSION) continue;
      if ((await writeKeys(doc, table, item, now)) === 'updated') progress.updated++;
      else progress.skipped++;
    }
    startKey = page.LastEvaluatedKey;
    if (!startKey) progress.completedAt = now().toISOString();
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...REINDEX_CHECKPOINT_KEY, ...progress, ...(startKey ? { lastKey: startKey } : {}) },
      }),
    );
    opts.onPage?.(progress);
  } while (startKey);
  return progress;
}

async function writeKeys(
  doc: DynamoDBDocumentClient,
  table: string,
  item: Record<string, unknown>,
  now: () => Date,
): Promise<'updated' | 'skipped'> {
  const record = toRecord(item);
  if (!record || typeof item['status'] !== 'string') return 'skipped';
  // The time a finished file is listed under (sortAt), else when it was first seen.
  const fallback =
    (typeof item['sortAt'] === 'string' && item['sortAt']) ||
    (typeof item['firstSeenAt'] === 'string' && item['firstSeenAt']) ||
    now().toISOString();
  const expression = {
    sets: [] as string[],
    removes: [] as string[],
    names: { '#status': 'status' } as Record<string, string>,
    values: { ':status': item['status'], ':v': SEARCH_KEYS_VERSION } as Record<string, unknown>,
  };
  withSearchAttributes(searchAttributesOf(record, fallback), expression);
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: item['pk'], sk: item['sk'] },
        UpdateExpression:
          `SET ${expression.sets.join(', ')}` +
          `${expression.removes.length > 0 ? ` REMOVE ${expression.removes.join(', ')}` : ''}`,
        ConditionExpression:
          'attribute_exists(pk) AND #status = :status AND (attribute_not_exists(searchV) OR searchV < :v)',
        ExpressionAttributeNames: expression.names,
        ExpressionAttributeValues: expression.values,
      }),
    );
    return 'updated';
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return 'skipped';
    throw err;
  }
}

function progressOf(item: Record<string, unknown>): ReindexProgress {
  const n = (k: string) => (typeof item[k] === 'number' ? (item[k] as number) : 0);
  return {
    scanned: n('scanned'),
    fileItems: n('fileItems'),
    updated: n('updated'),
    skipped: n('skipped'),
    startedAt: typeof item['startedAt'] === 'string' ? item['startedAt'] : new Date(0).toISOString(),
    completedAt: typeof item['completedAt'] === 'string' ? item['completedAt'] : null,
    resumed: true,
  };
}
