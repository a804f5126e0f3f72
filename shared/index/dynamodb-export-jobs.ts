import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { putIfAbsent } from './dynamodb-put-if-absent.js';
import { POLLER_SOURCES } from '../contracts/discovery-ledger.js';
import type { LedgerRecord } from '../contracts/discovery-ledger.js';
import { EXPORT_KEYS } from '../contracts/exports.js';
import type { ExportJob } from '../contracts/exports.js';
import type { ArchivedRecord, FileRecord } from '../contracts/file-records.js';
import { chatPartition, DISCOVERY_KEYS, FILE_ITEM_SK, fileItemKey, KEY_PREFIXES } from '../contracts/table-keys.js';
import type { ExportJobStore, ScopeReader } from '../export/ports.js';
import type { CandidateReads } from '../export/scope.js';
import { toRecord } from './dynamodb-file-items.js';

/** Export jobs in the index table, one item each (`EXPORT#<id>`, `JOB`); only single-item writes. */
export class DynamoDbExportJobs implements ExportJobStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(job: ExportJob): Promise<boolean> {
    return putIfAbsent(this.doc, this.table, { ...EXPORT_KEYS.job(job.exportId), ...job });
  }

  async get(exportId: string): Promise<ExportJob | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: EXPORT_KEYS.job(exportId), ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const { pk: _pk, sk: _sk, leaseOwner: _owner, leaseUntilMs: _until, ...job } = res.Item;
    return job as ExportJob; // written only by create/update, from an ExportJob
  }

  async claim(exportId: string, owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: EXPORT_KEYS.job(exportId),
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntilMs = :until',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(leaseUntilMs) OR leaseUntilMs < :now)',
          ExpressionAttributeValues: { ':owner': owner, ':until': untilMs, ':now': nowMs },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async release(exportId: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: EXPORT_KEYS.job(exportId),
          UpdateExpression: 'REMOVE leaseOwner, leaseUntilMs',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async update(exportId: string, patch: Partial<ExportJob> & { updatedAt: string }): Promise<void> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      return `#f${i} = :v${i}`;
    });
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: EXPORT_KEYS.job(exportId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}

/**
 * The files a selection may take, from the index: a selection bounded by the files or chats it names
 * reads just those (GetItem per file id, a Query per chat); any other reads every file item (a Scan
 * filtered to `sk = FILE`), which an export, a rare and long job, can afford.
 */
export class DynamoDbScopeReader implements ScopeReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async *candidates(reads: CandidateReads): AsyncIterable<FileRecord> {
    if (reads !== 'every file') {
      for (const fileId of reads.fileIds) {
        const record = await this.get(fileId);
        if (record) yield record;
      }
      for (const chatId of reads.chats) yield* this.chatFiles(chatId);
      return;
    }
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'sk = :file AND begins_with(pk, :prefix)',
          ExpressionAttributeValues: { ':file': FILE_ITEM_SK, ':prefix': KEY_PREFIXES.file },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of res.Items ?? []) {
        const record = toRecord(item);
        if (record) yield record;
      }
      start = res.LastEvaluatedKey;
    } while (start);
  }

  private async *chatFiles(chatId: string): AsyncIterable<FileRecord> {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': chatPartition(chatId) },
          ProjectionExpression: 'fileId',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      // The listing is a copy; the file item is the record of truth.
      for (const item of res.Items ?? []) {
        const record = await this.get(String(item['fileId']));
        if (record) yield record;
      }
      start = res.LastEvaluatedKey;
    } while (start);
  }

  async get(fileId: string): Promise<FileRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: fileItemKey(fileId), ConsistentRead: true }),
    );
    return toRecord(res.Item);
  }
}

/** How many ledger runs per poller source a custody report names. */
const RUNS_PER_SOURCE = 5;

/**
 * The discovery runs that may have found a file: for each poller source, the newest runs that
 * started before the file was archived and ended after it was created upstream (they were listing
 * while the file existed and before its copy was made), at most five per source.
 */
export async function discoveryRunsFor(
  doc: DynamoDBDocumentClient,
  table: string,
  record: ArchivedRecord,
): Promise<LedgerRecord[]> {
  const runs = await Promise.all(
    POLLER_SOURCES.map(async (source) => {
      const res = await doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND sk <= :upTo',
          ExpressionAttributeValues: {
            ':pk': DISCOVERY_KEYS.ledgerPartition(source),
            ':upTo': DISCOVERY_KEYS.ledgerSortKey(record.archivedAt, '~'),
          },
          ScanIndexForward: false,
          Limit: 50,
        }),
      );
      const created = record.createdAt ? Date.parse(record.createdAt) : Number.NaN;
      return (res.Items ?? [])
        .map((item) => {
          const { pk: _pk, sk: _sk, ...run } = item;
          return run as LedgerRecord;
        })
        .filter((run) => Number.isNaN(created) || Date.parse(run.endedAt) >= created)
        .slice(0, RUNS_PER_SOURCE);
    }),
  );
  return runs.flat();
}
