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
import type { CandidateRead, CandidateReads } from '../export/candidate-reads.js';
import { DynamoDbFileSearch } from './dynamodb-file-search.js';
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

/** A search time sorts between these (the bounds the hold sweep gives an open window). */
const WHOLE_PARTITION: [string, string] = ['0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
/** Items per Query of a search index partition. */
const INDEX_PAGE_ITEMS = 1000;

/**
 * The files a selection may take, from the index (the plan: shared/export/candidate-reads.ts): the
 * file items of named files (GetItem), a chat's listings (a Query of its partition, then each file's
 * item: the listing is a copy), a search index partition (a Query of the index, which projects every
 * attribute of the file item, so its items are the records: search-index.ts), or every file item (a
 * Scan filtered to `sk = FILE`). `itemsRead` counts the items these reads returned (a Scan: every item it
 * read), for the tests.
 */
export class DynamoDbScopeReader implements ScopeReader {
  itemsRead = 0;
  private readonly search: DynamoDbFileSearch;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.search = new DynamoDbFileSearch(doc, table);
  }

  async *candidates(plan: CandidateReads): AsyncIterable<FileRecord> {
    for (const read of plan.reads) {
      switch (read.kind) {
        case 'fileIds':
          for (const fileId of read.ids) {
            const record = await this.get(fileId);
            if (record) this.itemsRead++;
            if (record) yield record;
          }
          break;
        case 'chat':
          yield* this.chatFiles(read.chatId);
          break;
        case 'index':
          yield* this.indexFiles(read);
          break;
        case 'scan':
          yield* this.everyFile();
          break;
      }
    }
  }

  /**
   * One partition of a search index, in sort key order, through the search port's adapter (the same
   * Query the search and the hold sweep send). A Query of a global secondary index is eventually
   * consistent, as the Scan it replaces is by default ("Read consistency", DynamoDB Developer Guide:
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html);
   * the export starts after the files it takes were written.
   */
  private async *indexFiles(read: Extract<CandidateRead, { kind: 'index' }>): AsyncIterable<FileRecord> {
    let startKey: Record<string, string> | undefined;
    do {
      const page = await this.search.query({
        index: read.index,
        partition: read.partition,
        sort: { between: read.between ? [read.between[0], read.between[1]] : WHOLE_PARTITION },
        newestFirst: false,
        limit: INDEX_PAGE_ITEMS,
        startKey,
      });
      this.itemsRead += page.records.length;
      yield* page.records;
      startKey = page.lastKey;
    } while (startKey);
  }

  private async *everyFile(): AsyncIterable<FileRecord> {
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
      // A Scan reads every item of the table; the filter only trims what it returns.
      this.itemsRead += res.ScannedCount ?? 0;
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
      this.itemsRead += res.Items?.length ?? 0;
      // The listing is a copy; the file item is the record of truth.
      for (const item of res.Items ?? []) {
        const record = await this.get(String(item['fileId']));
        if (record) this.itemsRead++;
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
/** The newest runs read per source, before the filter by the file's creation time. */
const LEDGER_PAGE = 50;

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
  const pages = await Promise.all(POLLER_SOURCES.map((source) => readLedgerPage(doc, table, source, upToOf(record))));
  return pages.flatMap((page) => runsOfPage(page, record));
}

/** The sort key bound of a file's runs: every run that started at or before it was archived. */
function upToOf(record: ArchivedRecord): string {
  return DISCOVERY_KEYS.ledgerSortKey(record.archivedAt, '~');
}

/** One source's newest ledger items with a sort key ≤ `upTo`, newest first. */
async function readLedgerPage(
  doc: DynamoDBDocumentClient,
  table: string,
  source: string,
  upTo: string,
): Promise<Record<string, unknown>[]> {
  const res = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND sk <= :upTo',
      ExpressionAttributeValues: { ':pk': DISCOVERY_KEYS.ledgerPartition(source), ':upTo': upTo },
      ScanIndexForward: false,
      Limit: LEDGER_PAGE,
    }),
  );
  return res.Items ?? [];
}

function runsOfPage(items: readonly Record<string, unknown>[], record: ArchivedRecord): LedgerRecord[] {
  const created = record.createdAt ? Date.parse(record.createdAt) : Number.NaN;
  return items
    .map((item) => {
      const { pk: _pk, sk: _sk, ...run } = item;
      return run as unknown as LedgerRecord;
    })
    .filter((run) => Number.isNaN(created) || Date.parse(run.endedAt) >= created)
    .slice(0, RUNS_PER_SOURCE);
}

interface LedgerPage {
  upTo: string;
  readAtMs: number;
  items: Promise<Record<string, unknown>[]>;
  /** Once read: the newest item's sort key (undefined when the page is empty). */
  newest?: string | undefined;
  settled: boolean;
}

/**
 * discoveryRunsFor for an export, which asks it for every file: the same answers, with far fewer
 * Queries. A page read for bound T (the newest runs with sort key ≤ T, newest first, newest key N)
 * is also the page for any bound U with N ≤ U ≤ T: no ledger item lies between U and T, because N is
 * the newest at or below T. Files archived between the same two poller runs therefore share one
 * Query per source. Pages are kept `ttlMs` (a run written since then is read on the next Query), at
 * most `maxPages` per source; a bound asked for while a page for a bound above it is in flight waits
 * for that page and reads its own only if the page does not cover it. Sort keys are ASCII
 * (`RUN#<ISO time>#<run id>`), so JavaScript's string order is DynamoDB's byte order.
 */
export class DynamoDbDiscoveryRuns {
  private readonly pages = new Map<string, LedgerPage[]>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly ttlMs = 60_000,
    private readonly maxPages = 32,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The CustodySources `discoveryRuns` function. */
  readonly runsFor = async (record: ArchivedRecord): Promise<LedgerRecord[]> => {
    const upTo = upToOf(record);
    const pages = await Promise.all(POLLER_SOURCES.map((source) => this.page(source, upTo)));
    return pages.flatMap((page) => runsOfPage(page, record));
  };

  private page(source: string, upTo: string): Promise<Record<string, unknown>[]> {
    const now = this.nowMs();
    const fresh = (this.pages.get(source) ?? []).filter((p) => now - p.readAtMs < this.ttlMs);
    this.pages.set(source, fresh);
    const covers = (p: LedgerPage) => upTo <= p.upTo && (p.newest === undefined || p.newest <= upTo);
    const hit = fresh.find((p) => p.upTo === upTo || (p.settled && covers(p)));
    if (hit) return hit.items;
    // A page in flight for a bound at or above this one may cover it: wait for it rather than read the same.
    const pending = fresh.filter((p) => !p.settled && upTo <= p.upTo).sort((a, b) => (a.upTo < b.upTo ? -1 : 1))[0];
    if (pending) {
      return pending.items.then(
        (items) => (covers(pending) ? items : this.read(source, upTo, now)),
        () => this.read(source, upTo, now),
      );
    }
    return this.read(source, upTo, now);
  }

  private read(source: string, upTo: string, now: number): Promise<Record<string, unknown>[]> {
    const page: LedgerPage = {
      upTo,
      readAtMs: now,
      items: readLedgerPage(this.doc, this.table, source, upTo),
      settled: false,
    };
    page.items.then(
      (items) => {
        page.newest = items[0] === undefined ? undefined : String(items[0]['sk']);
        page.settled = true;
      },
      // A failed read is not kept: the next file asks again.
      () =>
        this.pages.set(
          source,
          (this.pages.get(source) ?? []).filter((p) => p !== page),
        ),
    );
    this.pages.set(source, [...(this.pages.get(source) ?? []), page].slice(-this.maxPages));
    return page.items;
  }
}
