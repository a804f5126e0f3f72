import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './dynamodb-put-if-absent.js';
import * as z from '../contracts/zod.js';
import type { ArchivedRecord } from '../contracts/file-records.js';
import type { HoldAction, HoldProgress, LegalHoldEntry, Matter } from '../contracts/holds.js';
import { FILE_ITEM_SK, fileItemKey, MATTER_PARTITION, matterItemKey } from '../contracts/table-keys.js';
import { InvalidCursorError } from '../platform/errors.js';
import type { HeldFiles, HoldScanPage, MatterStore } from '../holds/ports.js';
import { sortAtOf, toRecord, writeChatListings } from './dynamodb-file-items.js';

/**
 * Matters and the holds on file records, in the index table (layout: shared/contracts/table-keys.ts).
 * Single-item conditional writes only, as everywhere in the index, so it runs the same on dynalite.
 */
export class DynamoDbMatterStore implements MatterStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(matter: Matter): Promise<boolean> {
    return putIfAbsent(this.doc, this.table, { ...matterItemKey(matter.matterId), ...matter });
  }

  async get(matterId: string): Promise<Matter | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: matterItemKey(matterId), ConsistentRead: true }),
    );
    return toMatter(res.Item);
  }

  async list(): Promise<Matter[]> {
    const matters: Matter[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': MATTER_PARTITION },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of res.Items ?? []) {
        const m = toMatter(item);
        if (m) matters.push(m);
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return matters;
  }

  async release(matterId: string, by: string, at: string, progress: HoldProgress): Promise<Matter | undefined> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: matterItemKey(matterId),
          UpdateExpression: 'SET #status = :released, releasedBy = :by, releasedAt = :at, progress = :progress',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':released': 'released',
            ':active': 'active',
            ':by': by,
            ':at': at,
            ':progress': progress,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toMatter(res.Attributes);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async checkpoint(matterId: string, at: { action: HoldAction; page: number }, next: HoldProgress): Promise<boolean> {
    return this.conditionalProgress(matterId, at, 'SET progress = :next', { ':next': next });
  }

  async markSent(matterId: string, at: { action: HoldAction; page: number }): Promise<void> {
    await this.conditionalProgress(matterId, at, 'SET progress.sent = :true', { ':true': true });
  }

  private async conditionalProgress(
    matterId: string,
    at: { action: HoldAction; page: number },
    update: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: matterItemKey(matterId),
          UpdateExpression: update,
          ConditionExpression: 'progress.#action = :action AND progress.page = :page',
          ExpressionAttributeNames: { '#action': 'action' },
          ExpressionAttributeValues: { ...values, ':action': at.action, ':page': at.page },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

function toMatter(item: Record<string, unknown> | undefined): Matter | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, ...matter } = item;
  // Items under the matter keys are written only by this module, so their shape is the matter's.
  return matter as unknown as Matter;
}

/** The file records' holds, and the sweep's Scan (a window with no list and no `from` only). */
export class DynamoDbHeldFiles implements HeldFiles {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * A Scan page: DynamoDB reads `limit` items, then filters them, so a page may hold no record at
   * all and still have a next page (its LastEvaluatedKey). Every other scope is read through the
   * search indexes, a chat's listings or the file items (shared/holds/sweep-sources.ts).
   */
  async scanArchived(cursor: string | undefined, limit: number, holdingMatter?: string): Promise<HoldScanPage> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':file': FILE_ITEM_SK, ':archived': 'archived' };
    let filter = 'sk = :file AND #status = :archived';
    if (holdingMatter !== undefined) {
      names['#holds'] = 'legalHolds';
      names['#matter'] = holdingMatter;
      filter += ' AND attribute_exists(#holds.#matter)';
    }
    const res = await this.doc.send(
      new ScanCommand({
        TableName: this.table,
        Limit: limit,
        FilterExpression: filter,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ...(cursor === undefined ? {} : { ExclusiveStartKey: decodeScanCursor(cursor) }),
      }),
    );
    const records = (res.Items ?? [])
      .map((i) => toRecord(i))
      .filter((r): r is ArchivedRecord => r?.status === 'archived');
    return {
      scanned: res.ScannedCount ?? 0,
      records,
      nextCursor: res.LastEvaluatedKey ? encodeScanCursor(res.LastEvaluatedKey) : undefined,
    };
  }

  async addHold(
    fileId: string,
    entry: LegalHoldEntry,
  ): Promise<{ record: ArchivedRecord; added: boolean } | undefined> {
    // SET of a map entry needs the map, and one expression cannot create both: try the entry (where
    // the record has none for the matter), else the map with the entry; when neither applies, the
    // record is read: it holds the matter already, or another writer created the map in between.
    for (let attempt = 0; attempt < 3; attempt++) {
      const entryWrite = await this.updateArchived(
        fileId,
        'SET #holds.#matter = :entry',
        'attribute_exists(#holds) AND attribute_not_exists(#holds.#matter)',
        { '#holds': 'legalHolds', '#matter': entry.matterId },
        { ':entry': entry },
      );
      if (entryWrite !== 'condition_failed') return entryWrite && { record: entryWrite, added: true };
      const mapWrite = await this.updateArchived(
        fileId,
        'SET #holds = :map',
        'attribute_not_exists(#holds)',
        { '#holds': 'legalHolds' },
        { ':map': { [entry.matterId]: entry } },
      );
      if (mapWrite !== 'condition_failed') return mapWrite && { record: mapWrite, added: true };
      const now = await this.getArchived(fileId);
      if (now === undefined) return undefined;
      if (now.legalHolds?.[entry.matterId] !== undefined) return { record: now, added: false };
    }
    throw new Error(`could not record the hold on ${fileId}: its holds kept changing`);
  }

  async removeHold(fileId: string, matterId: string): Promise<ArchivedRecord | undefined> {
    const res = await this.updateArchived(
      fileId,
      'REMOVE #holds.#matter',
      'attribute_exists(#holds.#matter)',
      { '#holds': 'legalHolds', '#matter': matterId },
      {},
    );
    return res === 'condition_failed' ? undefined : res;
  }

  async getArchived(fileId: string): Promise<ArchivedRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: fileItemKey(fileId), ConsistentRead: true }),
    );
    const record = toRecord(res.Item);
    return record?.status === 'archived' ? record : undefined;
  }

  /** An update of an archived file item; its chat listings are rewritten from the result. */
  private async updateArchived(
    fileId: string,
    update: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<ArchivedRecord | undefined | 'condition_failed'> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: fileItemKey(fileId),
          UpdateExpression: update,
          ConditionExpression: `#status = :archived AND ${condition}`,
          ExpressionAttributeNames: { ...names, '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':archived': 'archived' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = toRecord(res.Attributes);
      if (record?.status !== 'archived') return undefined;
      await writeChatListings(this.doc, this.table, record, sortAtOf(res.Attributes, record));
      return record;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'condition_failed';
      throw err;
    }
  }
}

const ScanCursorSchema = z.strictObject({
  pk: z.string().check(z.minLength(1), z.maxLength(1024)),
  sk: z.string().check(z.minLength(1), z.maxLength(1024)),
});

function encodeScanCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ pk: key['pk'], sk: key['sk'] }), 'utf8').toString('base64url');
}

function decodeScanCursor(cursor: string): Record<string, string> {
  if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  try {
    return ScanCursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidCursorError();
  }
}
