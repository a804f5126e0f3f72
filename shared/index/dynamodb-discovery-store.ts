import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../contracts/zod.js';
import { DISCOVERY_KEYS } from '../contracts/table-keys.js';
import { InvalidCursorError } from '../platform/errors.js';
import type { LedgerRecord, PollerSource } from '../contracts/discovery-ledger.js';
import type {
  ChatCheckpoint,
  ChatRequest,
  ChatRequestStore,
  DiscoveryStore,
  PollerCheckpoint,
  PollerLease,
  RetryEntry,
} from '../discovery/ports.js';

/** How long a seen activity id is remembered (the index table's TTL attribute, INDEX_TABLE_KEYS). */
const ACTIVITY_SEEN_DAYS = 30;

/**
 * Discovery's state in the index table: leases, checkpoints, per-chat checkpoints, seen activity ids
 * and the ledger. Single-item conditional writes only (no transactions), so it runs on dynalite.
 */
export class DynamoDbDiscoveryStore implements DiscoveryStore, ChatRequestStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquireLease(
    source: PollerSource,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<PollerLease | undefined> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: DISCOVERY_KEYS.lease(source),
          UpdateExpression: 'SET leaseOwner = :owner, leaseExpiresAtMs = :expires ADD generation :one',
          ConditionExpression: 'attribute_not_exists(leaseExpiresAtMs) OR leaseExpiresAtMs < :now',
          ExpressionAttributeValues: { ':owner': owner, ':expires': nowMs + leaseMs, ':now': nowMs, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const generation = res.Attributes?.['generation'];
      return { owner, generation: typeof generation === 'number' ? generation : 1 };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async releaseLease(source: PollerSource, lease: PollerLease): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: DISCOVERY_KEYS.lease(source),
          UpdateExpression: 'REMOVE leaseOwner, leaseExpiresAtMs',
          ConditionExpression: 'leaseOwner = :owner AND generation = :gen',
          ExpressionAttributeValues: { ':owner': lease.owner, ':gen': lease.generation },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * Ends whatever lease is held, unconditionally. Only for a process that knows no run can be alive
   * (the local stack at start, after a crash left its runs' leases behind).
   */
  async clearLease(source: PollerSource): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: DISCOVERY_KEYS.lease(source),
        UpdateExpression: 'REMOVE leaseOwner, leaseExpiresAtMs',
      }),
    );
  }

  /** When the poller's lease ends (ms since the epoch), or undefined when no run holds it; for `archiver status`. */
  async leaseExpiresAt(source: PollerSource): Promise<number | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.lease(source) }));
    const v = res.Item?.['leaseExpiresAtMs'];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  async getCheckpoint(source: PollerSource): Promise<PollerCheckpoint | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.checkpoint(source), ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    return CheckpointSchema.parse(res.Item);
  }

  async putCheckpoint(source: PollerSource, checkpoint: PollerCheckpoint, lease: PollerLease): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...DISCOVERY_KEYS.checkpoint(source), ...checkpoint, generation: lease.generation },
          // Fencing: a run whose lease expired and was taken over cannot move the cursor back.
          ConditionExpression: 'attribute_not_exists(generation) OR generation <= :gen',
          ExpressionAttributeValues: { ':gen': lease.generation },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async getChatCheckpoint(chatId: string): Promise<ChatCheckpoint | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.chatCheckpoint(chatId) }),
    );
    if (!res.Item) return undefined;
    return ChatCheckpointSchema.parse(res.Item);
  }

  async putChatCheckpoint(chatId: string, checkpoint: ChatCheckpoint): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...DISCOVERY_KEYS.chatCheckpoint(chatId), ...checkpoint } }),
    );
  }

  async hasSeenActivity(activityId: string): Promise<boolean> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.activitySeen(activityId), ConsistentRead: true }),
    );
    return res.Item !== undefined;
  }

  async markActivitiesSeen(activityIds: readonly string[], nowMs: number): Promise<void> {
    const seenAt = new Date(nowMs).toISOString();
    const expiresAt = Math.floor(nowMs / 1000) + ACTIVITY_SEEN_DAYS * 86_400;
    await Promise.all(
      activityIds.map((id) =>
        this.doc.send(
          new PutCommand({ TableName: this.table, Item: { ...DISCOVERY_KEYS.activitySeen(id), seenAt, expiresAt } }),
        ),
      ),
    );
  }

  async putLedger(record: LedgerRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: DISCOVERY_KEYS.ledgerPartition(record.source),
          sk: DISCOVERY_KEYS.ledgerSortKey(record.startedAt, record.runId),
          ...record,
        },
        // Evidence is written once: a run never replaces another run's record (nor its own).
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listRetries(source: PollerSource, limit: number): Promise<RetryEntry[]> {
    const entries: RetryEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': DISCOVERY_KEYS.retryPartition(source) },
          ConsistentRead: true,
          Limit: Math.min(1_000, limit - entries.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of res.Items ?? []) {
        const parsed = RetryEntrySchema.safeParse(item);
        if (parsed.success) entries.push(parsed.data);
      }
      start = res.LastEvaluatedKey;
    } while (start && entries.length < limit);
    return entries;
  }

  async putRetry(source: PollerSource, entry: RetryEntry): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...DISCOVERY_KEYS.retry(source, entry.unitId), ...entry } }),
    );
  }

  async deleteRetry(source: PollerSource, unitId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: DISCOVERY_KEYS.retry(source, unitId) }));
  }

  async putChatRequest(request: ChatRequest): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...DISCOVERY_KEYS.chatRequest(request.webhookId, request.chatId), ...request },
      }),
    );
  }

  async listChatRequests(limit: number): Promise<ChatRequest[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': DISCOVERY_KEYS.chatRequestPartition },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (res.Items ?? []).flatMap((item) => {
      const parsed = ChatRequestSchema.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    });
  }

  async deleteChatRequest(webhookId: string, chatId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: DISCOVERY_KEYS.chatRequest(webhookId, chatId) }),
    );
  }

  /** A page of a poller's ledger, newest run first. */
  async listLedger(
    source: PollerSource,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ runs: LedgerRecord[]; nextCursor: string | undefined }> {
    const partition = DISCOVERY_KEYS.ledgerPartition(source);
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor === undefined ? {} : { ExclusiveStartKey: { pk: partition, sk: decodeLedgerCursor(cursor) } }),
      }),
    );
    const runs = (res.Items ?? []).map((item) => {
      const { pk: _pk, sk: _sk, ...record } = item;
      return record as LedgerRecord; // written only by putLedger above, from a LedgerRecord
    });
    const last = res.LastEvaluatedKey?.['sk'];
    return { runs, nextCursor: typeof last === 'string' ? Buffer.from(last, 'utf8').toString('base64url') : undefined };
  }
}

function decodeLedgerCursor(cursor: string): string {
  if (cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^RUN#[0-9T:.Z-]{1,40}#[A-Za-z0-9-]{1,80}$/.test(sk)) throw new InvalidCursorError();
  return sk;
}

const nullableString = z.optional(z.nullable(z.string()));
const CheckpointSchema = z.object({
  cursor: z.nullable(z.string()),
  windowEnd: nullableString,
  lastCompletedAt: nullableString,
  rejectedCursor: nullableString,
  changedSince: nullableString,
  fullWalkStartedAt: nullableString,
  lastFullWalkAt: nullableString,
});
const RetryEntrySchema = z.object({
  unitId: z.string(),
  updatedAt: z.nullable(z.string()),
  attempts: z.number(),
  nextAttemptAtMs: z.number(),
  firstFailedAt: z.string(),
  lastError: z.string(),
  lastRequestId: z.nullable(z.string()),
  lastRunId: z.string(),
});
const ChatRequestSchema = z.object({
  webhookId: z.string(),
  chatId: z.string(),
  reason: z.optional(z.string()),
  after: z.nullable(z.string()),
  jobs: z.number(),
  requestedAt: z.string(),
  attempts: z.number(),
  nextAttemptAtMs: z.number(),
  lastError: z.nullable(z.string()),
  lastRequestId: z.nullable(z.string()),
});
const ChatCheckpointSchema = z.object({ lastMessageId: z.nullable(z.string()), updatedAt: z.nullable(z.string()) });
