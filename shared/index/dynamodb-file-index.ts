import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ArchivedRecord, FileRecord, UnavailableRecord } from '../contracts/file-records.js';
import { InvalidCursorError } from '../platform/errors.js';
import type { ChatPage, ClaimResult, FileIndex } from './file-index.js';
import { chatListingSortKey, chatPartition, fileItemKey, listingSortTime } from '../contracts/table-keys.js';

/** The attributes of the file item that are bookkeeping, not part of the record. */
const BOOKKEEPING = ['pk', 'sk', 'leaseOwner', 'leaseExpiresAtMs', 'sortAt'] as const;

/**
 * The file index over DynamoDB (table layout: shared/contracts/table-keys.ts). Every write is a
 * single-item conditional write, so it runs the same on DynamoDB and on emulators without
 * transactions. Two deliveries of one file are serialised by a lease on the file item: only the
 * holder uploads, and only the holder may mark the file archived.
 */
export class DynamoDbFileIndex implements FileIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(fileId: string, source: string, owner: string, nowMs: number, leaseMs: number): Promise<ClaimResult> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: fileItemKey(fileId),
          UpdateExpression:
            'SET #status = if_not_exists(#status, :pending), fileId = :fileId, #source = :source, leaseOwner = :owner, leaseExpiresAtMs = :expires, firstSeenAt = if_not_exists(firstSeenAt, :now) ADD attempts :one',
          ConditionExpression:
            'attribute_not_exists(pk) OR (#status <> :archived AND (attribute_not_exists(leaseExpiresAtMs) OR leaseExpiresAtMs < :nowMs))',
          ExpressionAttributeNames: { '#status': 'status', '#source': 'source' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':archived': 'archived',
            ':fileId': fileId,
            ':source': source,
            ':owner': owner,
            ':expires': nowMs + leaseMs,
            ':now': new Date(nowMs).toISOString(),
            ':nowMs': nowMs,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const attempts = typeof res.Attributes?.['attempts'] === 'number' ? res.Attributes['attempts'] : 1;
      return { kind: 'claimed', attempts };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const item = await this.getItem(fileId);
    if (item?.record.status === 'archived') return { kind: 'archived', record: item.record };
    return { kind: 'held', leaseExpiresAtMs: item?.leaseExpiresAtMs ?? nowMs };
  }

  async markArchived(record: ArchivedRecord, owner: string): Promise<ArchivedRecord> {
    return this.finish(record, owner, listingSortTime(record.createdAt, record.archivedAt)) as Promise<ArchivedRecord>;
  }

  async markUnavailable(record: UnavailableRecord, owner: string): Promise<UnavailableRecord> {
    return this.finish(record, owner, listingSortTime(record.createdAt, record.recordedAt)) as Promise<UnavailableRecord>;
  }

  async release(fileId: string, owner: string, lastError: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: fileItemKey(fileId),
          UpdateExpression: 'SET lastError = :err REMOVE leaseOwner, leaseExpiresAtMs',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner, ':err': lastError.slice(0, 500) },
        }),
      );
    } catch (err) {
      // The lease already passed to another delivery: nothing of ours to release.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * Adds chats to a finished file (one attached to another chat later) and writes its listing under
   * every chat it belongs to. Listing writes are idempotent, so a redelivery also repairs a listing
   * that a crash after the final update left unwritten.
   */
  async ensureListed(fileId: string, chatIds: string[]): Promise<FileRecord | undefined> {
    const item =
      chatIds.length > 0
        ? (
            await this.doc.send(
              new UpdateCommand({
                TableName: this.table,
                Key: fileItemKey(fileId),
                UpdateExpression: 'ADD chatIds :chats',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: { ':chats': new Set(chatIds) },
                ReturnValues: 'ALL_NEW',
              }),
            )
          ).Attributes
        : await this.getRawItem(fileId);
    const record = toRecord(item);
    if (record && record.status !== 'pending') await this.writeListings(record, sortAtOf(item, record));
    return record;
  }

  async get(fileId: string): Promise<FileRecord | undefined> {
    return (await this.getItem(fileId))?.record;
  }

  async listChat(chatId: string, limit: number, cursor: string | undefined): Promise<ChatPage> {
    const partition = chatPartition(chatId);
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        Limit: limit,
        ...(cursor === undefined ? {} : { ExclusiveStartKey: decodeCursor(cursor, partition) }),
      }),
    );
    const items = (res.Items ?? []).map((i) => toRecord(i)).filter((r): r is FileRecord => r !== undefined);
    const last = res.LastEvaluatedKey;
    return { items, nextCursor: last ? encodeCursor(last) : undefined };
  }

  private async finish(record: ArchivedRecord | UnavailableRecord, owner: string, sortAt: string): Promise<FileRecord> {
    const { chatIds, ...fields } = record;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':owner': owner, ':sortAt': sortAt };
    const sets = Object.entries(fields).map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      return `#f${i} = :v${i}`;
    });
    sets.push('sortAt = if_not_exists(sortAt, :sortAt)');
    let update = `SET ${sets.join(', ')} REMOVE leaseOwner, leaseExpiresAtMs, lastError`;
    if (chatIds.length > 0) {
      update += ' ADD chatIds :chats';
      values[':chats'] = new Set(chatIds);
    }
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: fileItemKey(record.fileId),
        UpdateExpression: update,
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const stored = toRecord(res.Attributes);
    if (!stored) throw new Error('the file item vanished during the update');
    await this.writeListings(stored, sortAtOf(res.Attributes, stored));
    return stored;
  }

  /** Idempotent: a listing item per chat, each a copy of the record. */
  private async writeListings(record: FileRecord, sortAt: string): Promise<void> {
    await Promise.all(
      record.chatIds.map((chatId) =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...record, pk: chatPartition(chatId), sk: chatListingSortKey(sortAt, record.fileId) },
          }),
        ),
      ),
    );
  }

  private async getRawItem(fileId: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: fileItemKey(fileId), ConsistentRead: true }));
    return res.Item;
  }

  private async getItem(fileId: string): Promise<{ record: FileRecord; leaseExpiresAtMs: number | undefined } | undefined> {
    const item = await this.getRawItem(fileId);
    const record = toRecord(item);
    if (!record) return undefined;
    const lease = item?.['leaseExpiresAtMs'];
    return { record, leaseExpiresAtMs: typeof lease === 'number' ? lease : undefined };
  }
}

/**
 * The listing time stored on the file item when it was first finished, used as it is: rewriting a
 * listing under the key it was first written with is what keeps the write idempotent.
 */
function sortAtOf(item: Record<string, unknown> | undefined, record: FileRecord): string {
  const v = item?.['sortAt'];
  if (typeof v === 'string') return v;
  return listingSortTime(record.createdAt, new Date().toISOString());
}

/** Turns a stored item into a record: bookkeeping removed, the chat set as a sorted list. */
function toRecord(item: Record<string, unknown> | undefined): FileRecord | undefined {
  if (!item) return undefined;
  const copy: Record<string, unknown> = { ...item };
  for (const k of BOOKKEEPING) delete copy[k];
  const chats = copy['chatIds'];
  copy['chatIds'] = chats instanceof Set ? [...chats].map(String).sort() : Array.isArray(chats) ? chats : [];
  // Items are written only by this module, so their shape is the record's.
  return copy as unknown as FileRecord;
}

const CursorSchema = z.strictObject({
  pk: z.string(),
  sk: z.string().regex(/^F#[^#]{1,64}#[A-Za-z0-9_-]{1,220}$/),
});

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ pk: key['pk'], sk: key['sk'] }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, partition: string): Record<string, string> {
  if (cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const parsed = CursorSchema.safeParse(json);
  // A cursor from another chat would page through that chat's partition.
  if (!parsed.success || parsed.data.pk !== partition) throw new InvalidCursorError();
  return parsed.data;
}
