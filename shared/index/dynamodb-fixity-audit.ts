import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArchivedRecord } from '../contracts/file-records.js';
import { FILE_ITEM_SK, FIXITY_AUDIT_PARTITION, KEY_PREFIXES } from '../contracts/table-keys.js';
import type { AuditCheckpoint, AuditPort } from '../fixity/scheduled-audit.js';
import { toRecord } from './dynamodb-file-items.js';

/** The scheduled audit's checkpoint item (one, overwritten after each page). */
export const FIXITY_AUDIT_KEY = { pk: FIXITY_AUDIT_PARTITION, sk: 'AUDIT' } as const;

/**
 * The scheduled audit's reads: one Scan page per step, filtered to archived file items. A Scan's
 * Limit caps the items read, not the items returned, so a page may hold none and the pass goes on by
 * LastEvaluatedKey ("Scan", DynamoDB API Reference:
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html).
 */
export class DynamoDbFixityAudit implements AuditPort {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly pageSize = 500,
  ) {}

  async page(startKey: Record<string, unknown> | undefined) {
    const res = await this.doc.send(
      new ScanCommand({
        TableName: this.table,
        Limit: this.pageSize,
        ExclusiveStartKey: startKey,
        FilterExpression: 'begins_with(pk, :file) AND sk = :sk AND #status = :archived',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':file': KEY_PREFIXES.file, ':sk': FILE_ITEM_SK, ':archived': 'archived' },
      }),
    );
    const records = (res.Items ?? [])
      .map((item) => toRecord(item))
      .filter((r): r is ArchivedRecord => r?.status === 'archived');
    return { records, nextKey: res.LastEvaluatedKey };
  }

  async loadCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: FIXITY_AUDIT_KEY, ConsistentRead: true }),
    );
    const item = res.Item;
    if (!item || typeof item['day'] !== 'number') return undefined;
    return {
      day: item['day'],
      done: item['done'] === true,
      startKey: (item['startKey'] as Record<string, unknown> | undefined) ?? undefined,
    };
  }

  async saveCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...FIXITY_AUDIT_KEY,
          day: checkpoint.day,
          done: checkpoint.done,
          ...(checkpoint.startKey ? { startKey: checkpoint.startKey } : {}),
        },
      }),
    );
  }
}
