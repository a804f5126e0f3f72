import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FILE_ITEM_SK } from '../contracts/table-keys.js';

/** How many files the index holds in each state; unavailable and failed by reason, failing by error name. */
export interface FileCounts {
  archived: number;
  unavailable: Record<string, number>;
  /**
   * Files the archiver gave up on (`failed`), by reason (`dead_lettered`, `not_retryable`, `too_large`): each needs an
   * operator.
   */
  failed: Record<string, number>;
  /** Pending files whose last delivery failed, by the failure's name (the text before ":" in `lastError`). */
  failing: Record<string, number>;
  /** Pending files with no failure recorded: queued or being archived. */
  pending: number;
}

/**
 * Counts the file items (`sk = FILE`) by state with a parallel Scan that projects only the state
 * fields. The index has no per-state counter, so this reads the whole table: about one read unit per
 * 4 KB of items, eventually consistent. Meant for an operator's occasional `archiver status`.
 */
export class DynamoDbFileCounts {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  count(opts: { segments?: number; signal?: AbortSignal } = {}): Promise<FileCounts> {
    return countFileItems(this.doc, this.table, opts);
  }
}

async function countFileItems(
  doc: DynamoDBDocumentClient,
  table: string,
  opts: { segments?: number; signal?: AbortSignal },
): Promise<FileCounts> {
  const segments = opts.segments ?? 4;
  const counts: FileCounts = { archived: 0, unavailable: {}, failed: {}, failing: {}, pending: 0 };
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, unknown> | undefined;
      do {
        const res = await doc.send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: segments,
            FilterExpression: 'sk = :file',
            ProjectionExpression: '#status, reason, lastError',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':file': FILE_ITEM_SK },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
          opts.signal ? { abortSignal: opts.signal } : {},
        );
        for (const item of res.Items ?? []) add(counts, item);
        start = res.LastEvaluatedKey;
      } while (start);
    }),
  );
  return counts;
}

function add(counts: FileCounts, item: Record<string, unknown>): void {
  const status = item['status'];
  if (status === 'archived') counts.archived += 1;
  else if (status === 'unavailable' || status === 'failed') {
    const byReason = status === 'unavailable' ? counts.unavailable : counts.failed;
    const reason = typeof item['reason'] === 'string' ? item['reason'] : 'unknown';
    byReason[reason] = (byReason[reason] ?? 0) + 1;
  } else {
    const lastError = item['lastError'];
    if (typeof lastError === 'string' && lastError !== '') {
      const name = lastError.split(':')[0]?.trim() || 'unknown';
      counts.failing[name] = (counts.failing[name] ?? 0) + 1;
    } else counts.pending += 1;
  }
}
