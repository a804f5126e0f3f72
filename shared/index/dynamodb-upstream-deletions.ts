import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DISCOVERY_KEYS } from '../contracts/table-keys.js';
import type {
  UpstreamDeletionKind,
  UpstreamDeletionRecord,
  UpstreamDeletionVia,
} from '../contracts/discovery-ledger.js';
import { batchGetItems } from './dynamodb-batch-get.js';

export type { UpstreamDeletionRecord };

/**
 * Deletions upstream, one item per deleted file or chat in the index table (`DELETION#<id>`), kept
 * beside the file items rather than inside them: a deletion may be seen before the file is archived
 * (or for a chat with many files), and the file item's writes stay the ingest path's alone.
 */
export class DynamoDbUpstreamDeletions {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Records a deletion; the first report of each kind (activity, soft delete) is kept, repeats are no-ops. */
  async recordUpstreamDeletion(
    deletion: {
      id: string;
      kind: UpstreamDeletionKind;
      deletedAt: string | null;
      via: UpstreamDeletionVia;
      activityId?: string | undefined;
      actor?: Record<string, unknown> | undefined;
    },
    nowMs: number,
  ): Promise<void> {
    // A hard delete (activity) outranks a soft delete seen earlier: it overwrites `via`.
    const overwrite = deletion.via === 'activity';
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: DISCOVERY_KEYS.upstreamDeletion(deletion.id),
        UpdateExpression: overwrite
          ? 'SET id = :id, kind = :kind, deletedAt = :deletedAt, via = :via, ' +
            'activityId = :activityId, actor = :actor, recordedAt = if_not_exists(recordedAt, ' +
            ':now)'
          : 'SET id = :id, kind = :kind, deletedAt = if_not_exists(deletedAt, ' +
            ':deletedAt), via = if_not_exists(via, :via), activityId = if_not_exists(activityId, ' +
            ':activityId), actor = if_not_exists(actor, :actor), recordedAt ' +
            '= if_not_exists(recordedAt, :now)',
        ExpressionAttributeValues: {
          ':id': deletion.id,
          ':kind': deletion.kind,
          ':deletedAt': deletion.deletedAt,
          ':via': deletion.via,
          ':activityId': deletion.activityId ?? null,
          ':actor': deletion.actor ?? null,
          ':now': new Date(nowMs).toISOString(),
        },
      }),
    );
  }

  /** The recorded deletions among `ids` (files and chats), in the order of `ids`. */
  async getUpstreamDeletions(ids: readonly string[]): Promise<UpstreamDeletionRecord[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    // Keys DynamoDB leaves unprocessed are asked for again: a lookup must not drop a deletion it holds.
    const items = await batchGetItems(
      this.doc,
      this.table,
      unique.map((id) => DISCOVERY_KEYS.upstreamDeletion(id)),
      { consistentRead: true },
    );
    const found = new Map<string, UpstreamDeletionRecord>();
    for (const item of items) {
      const { pk: _pk, sk: _sk, ...record } = item;
      // written only by recordUpstreamDeletion
      found.set(String(record['id']), record as unknown as UpstreamDeletionRecord);
    }
    return unique.flatMap((id) => found.get(id) ?? []);
  }
}
