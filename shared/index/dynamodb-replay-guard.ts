import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../contracts/zod.js';
import { WEBHOOK_REPLAY_TABLE_KEYS } from '../contracts/table-keys.js';
import type { ReplayClaim, ReplayGuard, StoredOutcome } from '../webhook/ports.js';

export interface ReplayGuardOptions {
  /** How long a processed id is remembered: a redelivery inside it is a duplicate. */
  retentionSeconds: number;
  /** How long a claim protects a delivery in progress; longer than the function's timeout. */
  leaseMs: number;
}

const KEY = WEBHOOK_REPLAY_TABLE_KEYS.partitionKey.name;
const TTL = WEBHOOK_REPLAY_TABLE_KEYS.timeToLiveAttribute;

const StoredItemSchema = z.object({
  state: z.enum(['pending', 'done', 'released']),
  token: z.string(),
  leaseUntilMs: z.number(),
  [TTL]: z.number(),
  bodySha256: z.optional(z.string()),
  outcome: z.optional(
    z.object({
      fileIds: z.array(z.string()),
      chats: z.array(z.object({ chatId: z.string(), jobs: z.number(), queued: z.optional(z.boolean()) })),
      chatsNotFound: z.array(z.string()),
      reason: z.optional(z.string()),
    }),
  ),
});

/**
 * Webhook ids in DynamoDB, with PutItem and GetItem only (the function's grant). Each id is one item
 * whose `state` moves pending → done (or pending → released after a failure). A claim is a conditional
 * put that succeeds when the id is new, its window has ended, or a failed or abandoned delivery left
 * it (released, or a pending lease in the past). Expiry is decided from the stored `expiresAt`, so the
 * same code is right whether the TTL deleted the item, will delete it later, or never does.
 */
export class DynamoDbReplayGuard implements ReplayGuard {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly opts: ReplayGuardOptions,
  ) {}

  async claim(webhookId: string, nowMs: number, bodySha256?: string): Promise<ReplayClaim> {
    // A second round only when the item changed between the failed put and the read.
    for (let round = 0; round < 3; round++) {
      const token = randomUUID();
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              [KEY]: webhookId,
              state: 'pending',
              token,
              leaseUntilMs: nowMs + this.opts.leaseMs,
              firstSeenAt: new Date(nowMs).toISOString(),
              [TTL]: this.expiresAt(nowMs),
              ...(bodySha256 === undefined ? {} : { bodySha256 }),
            },
            ConditionExpression:
              `attribute_not_exists(#key) OR #ttl < :nowSec OR (#state <> :done ` + `AND leaseUntilMs < :nowMs)`,
            ExpressionAttributeNames: { '#key': KEY, '#ttl': TTL, '#state': 'state' },
            ExpressionAttributeValues: { ':nowSec': Math.floor(nowMs / 1000), ':done': 'done', ':nowMs': nowMs },
          }),
        );
        return { kind: 'claimed', token };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
      const res = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { [KEY]: webhookId }, ConsistentRead: true }),
      );
      const item = StoredItemSchema.safeParse(res.Item);
      if (!item.success) continue;
      const { state, leaseUntilMs, outcome } = item.data;
      if (item.data[TTL] < Math.floor(nowMs / 1000)) continue;
      const live = state === 'done' || (state === 'pending' && leaseUntilMs >= nowMs);
      // Records written before bodies were hashed have none: they match any body.
      const stored = item.data.bodySha256;
      if (live && bodySha256 !== undefined && stored !== undefined && stored !== bodySha256) {
        return { kind: 'body_mismatch' };
      }
      if (state === 'done' && outcome) {
        const { reason, ...rest } = outcome;
        return { kind: 'duplicate', outcome: { ...rest, ...(reason === undefined ? {} : { reason }) } };
      }
      if (state === 'pending' && leaseUntilMs >= nowMs) {
        return { kind: 'in_progress', retryAfterSeconds: Math.max(1, Math.ceil((leaseUntilMs - nowMs) / 1000)) };
      }
    }
    throw new Error(`the replay record of webhook id could not be claimed or read consistently`);
  }

  async complete(
    webhookId: string,
    token: string,
    outcome: StoredOutcome,
    nowMs: number,
    bodySha256?: string,
  ): Promise<void> {
    await this.putOwned(
      webhookId,
      token,
      {
        state: 'done',
        leaseUntilMs: 0,
        outcome,
        [TTL]: this.expiresAt(nowMs),
        ...(bodySha256 === undefined ? {} : { bodySha256 }),
      },
      nowMs,
    );
  }

  async release(webhookId: string, token: string, nowMs: number): Promise<void> {
    await this.putOwned(webhookId, token, { state: 'released', leaseUntilMs: 0, [TTL]: this.expiresAt(nowMs) }, nowMs);
  }

  /** Overwrites the item only while this delivery's claim is the one stored (a fencing token). */
  private async putOwned(
    webhookId: string,
    token: string,
    fields: Record<string, unknown>,
    nowMs: number,
  ): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { [KEY]: webhookId, token, updatedAt: new Date(nowMs).toISOString(), ...fields },
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (err) {
      // Our lease ended and another delivery claimed the id: its outcome is the one to keep.
      if (err instanceof ConditionalCheckFailedException) return;
      throw err;
    }
  }

  private expiresAt(nowMs: number): number {
    return Math.floor(nowMs / 1000) + this.opts.retentionSeconds;
  }
}
