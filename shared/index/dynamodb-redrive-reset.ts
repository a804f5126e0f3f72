import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STATUS_FIELDS } from '../contracts/file-records.js';
import { fileItemKey } from '../contracts/table-keys.js';
import { sortAtOf, toRecord, writeChatListings } from './dynamodb-file-items.js';

/**
 * What happened to a file's record when its dead letter was sent back:
 * - `reset`: it was failed (dead-lettered, or given up on) or pending; it is pending afresh now;
 * - `final`: it is archived or unavailable already, and stays so (the redelivered job is a duplicate);
 * - `absent`: the index never saw it (a malformed or never-claimed job); the redelivery creates it;
 * - `leased`: a delivery holds it right now; left alone.
 */
export type RedriveReset = 'reset' | 'final' | 'absent' | 'leased';

/**
 * Resets a file's record before its dead letter goes back to the ingest queue, so that the record
 * shows a fresh start rather than the attempts that exhausted the queue's receive count: a `failed`
 * or `pending` record with no live lease becomes pending with attempts 0 and none of the failure
 * fields (one conditional write), and a failed file's chat listings show it pending again. Never
 * touches a final record (archived, unavailable), never takes a live lease from a delivery.
 */
export class DynamoDbRedriveReset {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  reset(fileId: string, nowMs: number): Promise<RedriveReset> {
    return resetForRedrive(this.doc, this.table, fileId, nowMs);
  }
}

async function resetForRedrive(
  doc: DynamoDBDocumentClient,
  table: string,
  fileId: string,
  nowMs: number,
): Promise<RedriveReset> {
  const names: Record<string, string> = { '#status': 'status' };
  for (const [i, f] of STATUS_FIELDS.entries()) names[`#r${i}`] = f;
  let before: Record<string, unknown> | undefined;
  try {
    const res = await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: fileItemKey(fileId),
        // sStatus: the status index follows the status (shared/contracts/search-index.ts).
        UpdateExpression:
          `SET #status = :pending, sStatus = :pending, attempts = :zero ` +
          `REMOVE leaseOwner, leaseExpiresAtMs, sSha256, sMd5, ${STATUS_FIELDS.map((_, i) => `#r${i}`).join(', ')}`,
        ConditionExpression:
          'attribute_exists(pk) AND (#status = :pending OR #status = :failed) ' +
          'AND (attribute_not_exists(leaseExpiresAtMs) OR leaseExpiresAtMs ' +
          '< :now)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':zero': 0, ':pending': 'pending', ':failed': 'failed', ':now': nowMs },
        ReturnValues: 'ALL_OLD',
      }),
    );
    before = res.Attributes;
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const res = await doc.send(new GetCommand({ TableName: table, Key: fileItemKey(fileId), ConsistentRead: true }));
    if (!res.Item) return 'absent';
    return res.Item['status'] === 'pending' || res.Item['status'] === 'failed' ? 'leased' : 'final';
  }
  // A failed file is listed under its chats: the listing must stop showing the failure. The item
  // as written is the old one without the failure fields; the listing goes under its first key.
  if (before?.['status'] === 'failed') {
    const after: Record<string, unknown> = { ...before, status: 'pending', attempts: 0 };
    for (const f of STATUS_FIELDS) delete after[f];
    const record = toRecord(after);
    if (record) await writeChatListings(doc, table, record, sortAtOf(before, record));
  }
  return 'reset';
}
