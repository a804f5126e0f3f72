import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../contracts/zod.js';
import { BACKFILL_KEYS } from '../contracts/table-keys.js';
import type { BackfillCheckpoint } from '../contracts/backfill-checkpoint.js';
import type { BackfillStore } from '../discovery/backfill.js';

const CheckpointSchema = z.object({
  key: z.string(),
  query: z.object({ since: z.nullable(z.string()), until: z.nullable(z.string()), userIds: z.array(z.string()) }),
  cursor: z.nullable(z.string()),
  doneInPage: z.array(z.string()),
  firstChatCreatedAt: z.nullable(z.string()),
  lastChatCreatedAt: z.nullable(z.string()),
  chatsScanned: z.number(),
  filesEnqueued: z.number(),
  chatsFailed: z.optional(z.array(z.string())),
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.nullable(z.string()),
});

/**
 * Backfill checkpoints in the index table, one item per set of options, doubling as a lease
 * (`owner`, `leaseExpiresAtMs`): single-item conditional writes only, so it runs on dynalite too.
 */
export class DynamoDbBackfillStore implements BackfillStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquire(key: string, owner: string, nowMs: number, leaseMs: number): ReturnType<BackfillStore['acquire']> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: BACKFILL_KEYS.checkpoint(key),
          UpdateExpression: 'SET #owner = :owner, leaseExpiresAtMs = :expires',
          ConditionExpression: 'attribute_not_exists(leaseExpiresAtMs) OR leaseExpiresAtMs < :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner, ':expires': nowMs + leaseMs, ':now': nowMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const parsed = CheckpointSchema.safeParse(res.Attributes?.['checkpoint']);
      return { kind: 'acquired', checkpoint: parsed.success ? parsed.data : undefined };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const held = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: BACKFILL_KEYS.checkpoint(key), ConsistentRead: true }),
    );
    const expires = held.Item?.['leaseExpiresAtMs'];
    return { kind: 'held', leaseExpiresAtMs: typeof expires === 'number' ? expires : nowMs };
  }

  async save(checkpoint: BackfillCheckpoint, owner: string, nowMs: number, leaseMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...BACKFILL_KEYS.checkpoint(checkpoint.key), owner, leaseExpiresAtMs: nowMs + leaseMs, checkpoint },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async release(key: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: BACKFILL_KEYS.checkpoint(key),
          UpdateExpression: 'REMOVE leaseExpiresAtMs',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}
