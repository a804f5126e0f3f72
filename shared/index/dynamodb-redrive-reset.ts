import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fileItemKey } from '../contracts/table-keys.js';

/**
 * What happened to a file's record when its dead letter was sent back:
 * - `reset`: it was pending; its attempts and last error are cleared, as for a file never tried;
 * - `final`: it is archived or unavailable already, and stays so (the redelivered job is a duplicate);
 * - `absent`: the index never saw it (a malformed or never-claimed job); the redelivery creates it;
 * - `leased`: a delivery holds it right now; left alone.
 */
export type RedriveReset = 'reset' | 'final' | 'absent' | 'leased';

/**
 * Resets a pending file's record before its dead letter goes back to the ingest queue, so the record
 * shows a fresh start rather than the attempts that exhausted the queue's receive count. A single
 * conditional write: never touches a final record, never takes a live lease from a delivery.
 */
export async function resetForRedrive(doc: DynamoDBDocumentClient, table: string, fileId: string, nowMs: number): Promise<RedriveReset> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: fileItemKey(fileId),
        UpdateExpression: 'SET attempts = :zero REMOVE lastError, leaseOwner, leaseExpiresAtMs',
        ConditionExpression: 'attribute_exists(pk) AND #status = :pending AND (attribute_not_exists(leaseExpiresAtMs) OR leaseExpiresAtMs < :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':zero': 0, ':pending': 'pending', ':now': nowMs },
      }),
    );
    return 'reset';
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
  const res = await doc.send(new GetCommand({ TableName: table, Key: fileItemKey(fileId), ConsistentRead: true }));
  if (!res.Item) return 'absent';
  return res.Item['status'] === 'pending' ? 'leased' : 'final';
}
