import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../contracts/zod.js';
import { STATUS_FIELDS } from '../contracts/file-records.js';
import type {
  ArchivedRecord,
  FailedRecord,
  FileRecord,
  RecordProvenance,
  UnavailableRecord,
} from '../contracts/file-records.js';
import { InvalidCursorError } from '../platform/errors.js';
import type { ChatPage, ClaimResult, FileIndex, FailureNote } from './file-index.js';
import { chatPartition, fileItemKey, listingSortTime } from '../contracts/table-keys.js';
import { sortAtOf, toRecord, withSearchAttributes, writeChatListings } from './dynamodb-file-items.js';
import { searchAttributesOf } from '../contracts/search-index.js';

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
            // The search keys a claim knows (shared/contracts/search-index.ts): the status it leaves
            // (the stored one, else pending), the source, and a first search time; a finished record
            // rewrites them all.
            'SET #status = if_not_exists(#status, :pending), fileId = :fileId, ' +
            '#source = :source, leaseOwner = :owner, leaseExpiresAtMs = :expires, ' +
            'firstSeenAt = if_not_exists(firstSeenAt, :now), sStatus = if_not_exists(#status, ' +
            ':pending), sSource = :source, searchAt = if_not_exists(searchAt, ' +
            ':now), sMonth = if_not_exists(sMonth, :month) ADD attempts :one',
          ConditionExpression:
            'attribute_not_exists(pk) OR (#status <> :archived AND (attribute_not_exists(leaseExpiresAtMs) ' +
            'OR leaseExpiresAtMs < :nowMs))',
          ExpressionAttributeNames: { '#status': 'status', '#source': 'source' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':archived': 'archived',
            ':fileId': fileId,
            ':source': source,
            ':owner': owner,
            ':expires': nowMs + leaseMs,
            ':now': new Date(nowMs).toISOString(),
            ':month': new Date(nowMs).toISOString().slice(0, 7),
            ':nowMs': nowMs,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const attempts = typeof res.Attributes?.['attempts'] === 'number' ? res.Attributes['attempts'] : 1;
      if (res.Attributes?.['status'] === 'failed') await this.reopenFailed(fileId, owner, res.Attributes);
      return { kind: 'claimed', attempts };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const item = await this.getItem(fileId);
    if (item?.record.status === 'archived') return { kind: 'archived', record: item.record };
    return { kind: 'held', leaseExpiresAtMs: item?.leaseExpiresAtMs ?? nowMs };
  }

  async markArchived(record: ArchivedRecord, owner: string): Promise<ArchivedRecord> {
    return this.finish(record, listingSortTime(record.createdAt, record.archivedAt), {
      condition: 'leaseOwner = :owner',
      values: { ':owner': owner },
    }) as Promise<ArchivedRecord>;
  }

  async markUnavailable(record: UnavailableRecord, owner: string): Promise<UnavailableRecord> {
    return this.finish(record, listingSortTime(record.createdAt, record.recordedAt), {
      condition: 'leaseOwner = :owner',
      values: { ':owner': owner },
    }) as Promise<UnavailableRecord>;
  }

  async markFailed(record: FailedRecord, owner: string): Promise<FailedRecord> {
    return this.finish(record, listingSortTime(record.createdAt, record.failedAt), {
      condition: 'leaseOwner = :owner',
      values: { ':owner': owner },
    }) as Promise<FailedRecord>;
  }

  async markDeadLettered(record: FailedRecord, nowMs: number): Promise<FailedRecord | undefined> {
    try {
      return (await this.finish(record, listingSortTime(record.createdAt, record.failedAt), {
        // Only a file nobody is working on and nothing better is known about: not archived, not
        // recorded unavailable, and no live lease (a duplicate delivery may hold one).
        condition:
          'attribute_not_exists(pk) OR (#status = :pending AND (attribute_not_exists(leaseExpiresAtMs) ' +
          'OR leaseExpiresAtMs < :nowMs))',
        values: { ':pending': 'pending', ':nowMs': nowMs },
        names: { '#status': 'status' },
      })) as FailedRecord;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async release(fileId: string, owner: string, failure: FailureNote): Promise<void> {
    const values: Record<string, unknown> = { ':owner': owner, ':err': failure.error.slice(0, 500) };
    let update = 'SET lastError = :err';
    if (failure.upstreamRequestId) {
      update += ', lastUpstreamRequestId = :rid';
      values[':rid'] = failure.upstreamRequestId.slice(0, 200);
    }
    update += ' REMOVE leaseOwner, leaseExpiresAtMs';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: fileItemKey(fileId),
          UpdateExpression: update,
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: values,
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
  async ensureListed(
    fileId: string,
    chatIds: string[],
    provenance: RecordProvenance = {},
  ): Promise<FileRecord | undefined> {
    const { messageIds, ...fields } = provenance;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v], i) => {
        names[`#p${i}`] = k;
        values[`:p${i}`] = v;
        return `#p${i} = :p${i}`;
      });
    const adds: string[] = [];
    if (chatIds.length > 0) {
      adds.push('chatIds :chats');
      values[':chats'] = new Set(chatIds);
    }
    if (messageIds && messageIds.length > 0) {
      adds.push('messageIds :mids');
      values[':mids'] = new Set(messageIds);
    }
    let item: Record<string, unknown> | undefined;
    if (sets.length > 0 || adds.length > 0) {
      const update = [sets.length > 0 ? `SET ${sets.join(', ')}` : '', adds.length > 0 ? `ADD ${adds.join(', ')}` : '']
        .filter(Boolean)
        .join(' ');
      item = (
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: fileItemKey(fileId),
            UpdateExpression: update,
            ConditionExpression: 'attribute_exists(pk)',
            ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        )
      ).Attributes;
    } else {
      item = await this.getRawItem(fileId);
    }
    const record = toRecord(item);
    if (record && record.status !== 'pending') {
      // Provenance gained: the search keys follow it (the auditor's search by creator or project).
      if (sets.length > 0) await this.refreshSearchAttributes(record, sortAtOf(item, record));
      await writeChatListings(this.doc, this.table, record, sortAtOf(item, record));
    }
    return record;
  }

  /** Rewrites a finished file's search attributes from its record (after its provenance changed). */
  private async refreshSearchAttributes(record: FileRecord, sortAt: string): Promise<void> {
    const expression = {
      sets: [] as string[],
      removes: [] as string[],
      names: {} as Record<string, string>,
      values: {} as Record<string, unknown>,
    };
    withSearchAttributes(searchAttributesOf(record, sortAt), expression);
    if (expression.sets.length === 0 && expression.removes.length === 0) return;
    const update = [
      expression.sets.length > 0 ? `SET ${expression.sets.join(', ')}` : '',
      expression.removes.length > 0 ? `REMOVE ${expression.removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: fileItemKey(record.fileId),
        UpdateExpression: update,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: expression.names,
        ...(Object.keys(expression.values).length > 0 ? { ExpressionAttributeValues: expression.values } : {}),
      }),
    );
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

  /**
   * Writes a record over the file item under `when` (a condition), ends any lease and lists the file
   * under each chat. Every status field the record does not set is removed (STATUS_FIELDS), so the
   * item never keeps evidence of an earlier status; the listings are whole copies of the item.
   */
  private async finish(
    record: ArchivedRecord | UnavailableRecord | FailedRecord,
    sortAt: string,
    when: { condition: string; values: Record<string, unknown>; names?: Record<string, string> },
  ): Promise<FileRecord> {
    // Message ids are a set on the item, added to (a file seen in more messages keeps every one).
    const { chatIds, messageIds, ...fields } = record;
    const names: Record<string, string> = { ...when.names };
    const values: Record<string, unknown> = { ...when.values, ':sortAt': sortAt };
    const written = Object.entries(fields).filter(([, v]) => v !== undefined);
    const sets = written.map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      return `#f${i} = :v${i}`;
    });
    sets.push('sortAt = if_not_exists(sortAt, :sortAt)');
    const stale = STATUS_FIELDS.filter((f) => !written.some(([k]) => k === f)).map((f, i) => {
      names[`#r${i}`] = f;
      return `#r${i}`;
    });
    const removes = ['leaseOwner', 'leaseExpiresAtMs', ...stale];
    // The search keys, in the same write (GSIs follow the item: one conditional update, no transaction).
    withSearchAttributes(searchAttributesOf(record, sortAt), { sets, removes, names, values });
    let update = `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`;
    const adds: string[] = [];
    if (chatIds.length > 0) {
      adds.push('chatIds :chats');
      values[':chats'] = new Set(chatIds);
    }
    if (messageIds && messageIds.length > 0) {
      adds.push('messageIds :mids');
      values[':mids'] = new Set(messageIds);
    }
    if (adds.length > 0) update += ` ADD ${adds.join(', ')}`;
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: fileItemKey(record.fileId),
        UpdateExpression: update,
        ConditionExpression: when.condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const stored = toRecord(res.Attributes);
    if (!stored) throw new Error('the file item vanished during the update');
    await writeChatListings(this.doc, this.table, stored, sortAtOf(res.Attributes, stored));
    return stored;
  }

  /**
   * A claim on a file recorded `failed` (a new job, or a redrive of its dead letter) makes it pending
   * again: the failure fields go, and its chat listings show the pending record instead of the failure.
   */
  private async reopenFailed(fileId: string, owner: string, claimed: Record<string, unknown>): Promise<void> {
    const stale = STATUS_FIELDS.filter((f) => f in claimed);
    const names: Record<string, string> = { '#status': 'status' };
    for (const [i, f] of stale.entries()) names[`#r${i}`] = f;
    const res = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: fileItemKey(fileId),
        UpdateExpression:
          `SET #status = :pending, sStatus = :pending REMOVE sSha256, ` +
          `sMd5${stale.map((_, i) => `, #r${i}`).join('')}`,
        ConditionExpression: 'leaseOwner = :owner AND #status = :failed',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':owner': owner, ':pending': 'pending', ':failed': 'failed' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const reopened = toRecord(res.Attributes);
    if (reopened) await writeChatListings(this.doc, this.table, reopened, sortAtOf(res.Attributes, reopened));
  }

  private async getRawItem(fileId: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: fileItemKey(fileId), ConsistentRead: true }),
    );
    return res.Item;
  }

  private async getItem(
    fileId: string,
  ): Promise<{ record: FileRecord; leaseExpiresAtMs: number | undefined } | undefined> {
    const item = await this.getRawItem(fileId);
    const record = toRecord(item);
    if (!record) return undefined;
    const lease = item?.['leaseExpiresAtMs'];
    return { record, leaseExpiresAtMs: typeof lease === 'number' ? lease : undefined };
  }
}

const CursorSchema = z.strictObject({
  pk: z.string(),
  sk: z.string().check(z.regex(/^F#[^#]{1,64}#[A-Za-z0-9_-]{1,220}$/)),
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
