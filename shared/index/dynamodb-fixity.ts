import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArchivedRecord, FileRecord } from '../contracts/file-records.js';
import type { FixityEvent, FixitySummary } from '../contracts/fixity.js';
import { fileItemKey } from '../contracts/table-keys.js';
import { fixityKeyOf } from '../contracts/search-index.js';
import { appendEvent } from '../fixity/check-copy.js';
import type { FixityRecords } from '../fixity/check-copy.js';
import { sortAtOf, toRecord, writeChatListings } from './dynamodb-file-items.js';

/** Fixity events on the file item (and its chat listings, which are copies of it). */
export class DynamoDbFixityRecords implements FixityRecords {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(fileId: string): Promise<FileRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: fileItemKey(fileId), ConsistentRead: true }),
    );
    return toRecord(res.Item);
  }

  async record(fileId: string, event: FixityEvent): Promise<ArchivedRecord | undefined> {
    // Read, append, write conditionally on the events read: two checks at once keep both events.
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(fileId);
      if (current?.status !== 'archived') return undefined;
      const checks = current.fixity?.checks;
      const summary: FixitySummary = {
        status: event.outcome,
        lastCheckedAt: event.at,
        lastTier: event.tier,
        checks: (checks ?? 0) + 1,
      };
      const failedKey = fixityKeyOf(event.outcome);
      try {
        const res = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: fileItemKey(fileId),
            // The failed-fixity search key follows the outcome in the same write (search-index.ts).
            UpdateExpression:
              failedKey === null
                ? 'SET fixity = :summary, fixityEvents = :events REMOVE sFixity'
                : 'SET fixity = :summary, fixityEvents = :events, sFixity = :failed',
            // The check count is the version of the events: a check recorded meanwhile fails this one,
            // which reads again and appends after it.
            ConditionExpression:
              checks === undefined
                ? '#status = :archived AND attribute_not_exists(fixity)'
                : '#status = :archived AND fixity.checks = :checks',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':summary': summary,
              ':events': appendEvent(current.fixityEvents, event),
              ':archived': 'archived',
              ...(checks === undefined ? {} : { ':checks': checks }),
              ...(failedKey === null ? {} : { ':failed': failedKey }),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const record = toRecord(res.Attributes);
        if (record?.status !== 'archived') return undefined;
        await writeChatListings(this.doc, this.table, record, sortAtOf(res.Attributes, record));
        return record;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    throw new Error(`could not record the fixity check of ${fileId}: its events kept changing`);
  }
}
