/**
 * `archiver reindex`'s work on dynalite (shared/index/dynamodb-reindex.ts): file items written before
 * the search keys existed get them; an interrupted run resumes from its checkpoint instead of starting
 * over; items the current code wrote are not rewritten.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/aws/resources.js';
import { fileItemKey, reindexCheckpointKey } from '../../shared/contracts/table-keys.js';
import { SEARCH_KEYS_VERSION } from '../../shared/contracts/search-index.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { reindexSearchKeys } from '../../shared/index/dynamodb-reindex.js';
import { localAwsFromInject, uniqueName, type LocalAwsFixture } from '../support/local-aws.js';
import { seedFile } from '../support/search-fixture.js';

let aws: LocalAwsFixture;
let table: string;

/** A file item as the index wrote it before search existed: no search keys. */
function oldItem(i: number): Record<string, unknown> {
  const fileId = `claude_gen_file_01Old${String(i).padStart(2, '0')}`;
  return {
    ...fileItemKey(fileId),
    fileId,
    source: 'generated',
    status: 'archived',
    chatIds: [],
    filename: `Old-${i}.txt`,
    createdAt: `2024-0${(i % 9) + 1}-01T00:00:00.000Z`,
    creator: { id: 'user_01Old', emailAddress: 'Old@Example.com' },
    md5: '0'.repeat(32),
    sha256: String(i % 10).repeat(64),
    sortAt: `2024-0${(i % 9) + 1}-01T00:00:00.000Z`,
    // Fixity checks recorded before the failed-fixity index existed: file 3's last check failed.
    ...(i === 3 || i === 4
      ? {
          fixity: {
            status: i === 3 ? 'failed' : 'passed',
            lastCheckedAt: '2024-12-01T00:00:00.000Z',
            lastTier: 'cheap',
            checks: 1,
          },
        }
      : {}),
  };
}

beforeAll(async () => {
  aws = localAwsFromInject();
  table = uniqueName('reindex');
  await ensureTable(aws.ddb, table);
  for (let i = 0; i < 10; i++) await aws.ddb.send(new PutCommand({ TableName: table, Item: oldItem(i) }));
});

afterAll(() => aws?.destroy());

describe('reindex', () => {
  it('resumes from its checkpoint after an interruption, and gives every old file item its keys once', async () => {
    const controller = new AbortController();
    let pages = 0;
    await expect(
      reindexSearchKeys(aws.ddb, table, {
        pageSize: 3,
        signal: controller.signal,
        onPage: () => {
          pages++;
          if (pages === 2) controller.abort();
        },
      }),
    ).rejects.toThrow();
    const checkpoint = (
      await aws.ddb.send(new GetCommand({ TableName: table, Key: reindexCheckpointKey(SEARCH_KEYS_VERSION) }))
    ).Item;
    // Two pages of 3 read (the checkpoint item itself may be among them), each file item read given keys.
    expect(checkpoint).toMatchObject({ scanned: 6, completedAt: null });
    expect(checkpoint?.['updated']).toBe(checkpoint?.['fileItems']);
    expect(checkpoint?.['updated']).toBeGreaterThanOrEqual(5);
    expect(checkpoint?.['lastKey']).toBeDefined();

    const resumed = await reindexSearchKeys(aws.ddb, table, { pageSize: 3 });
    // It went on after the sixth item read: the ones already done were not read again (10 updates in all).
    expect(resumed).toMatchObject({ resumed: true, fileItems: 10, updated: 10, skipped: 0 });
    expect(resumed.scanned).toBeGreaterThanOrEqual(10);
    expect(resumed.completedAt).not.toBeNull();

    const item = (await aws.ddb.send(new GetCommand({ TableName: table, Key: fileItemKey('claude_gen_file_01Old03') })))
      .Item;
    expect(item).toMatchObject({
      sCreator: 'user_01Old',
      sEmail: 'old@example.com',
      sStatus: 'archived',
      sSource: 'generated',
      sSha256: '3'.repeat(64),
      searchAt: '2024-04-01T00:00:00.000Z',
      sMonth: '2024-04',
      sName: 'old-3.txt',
      sNameShard: 'o',
      sFixity: 'failed',
      searchV: SEARCH_KEYS_VERSION,
    });
    // A file whose last check passed is not in the failed-fixity index.
    const passed = (
      await aws.ddb.send(new GetCommand({ TableName: table, Key: fileItemKey('claude_gen_file_01Old04') }))
    ).Item;
    expect(passed).toMatchObject({ fixity: { status: 'passed' }, searchV: SEARCH_KEYS_VERSION });
    expect(passed?.['sFixity']).toBeUndefined();
  });

  it('does not rewrite file items the current code wrote (they carry this version of the keys)', async () => {
    await seedFile(new DynamoDbFileIndex(aws.ddb, table), {
      fileId: 'claude_gen_file_01Current',
      creator: { id: 'user_01New', emailAddress: null },
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    const result = await reindexSearchKeys(aws.ddb, table, { restart: true, pageSize: 50 });
    // 11 file items, none of which needs keys any more: the 10 reindexed above and the current one.
    expect(result).toMatchObject({ resumed: false, fileItems: 11, updated: 0, skipped: 0 });
    const item = (
      await aws.ddb.send(new GetCommand({ TableName: table, Key: fileItemKey('claude_gen_file_01Current') }))
    ).Item;
    expect(item).toMatchObject({ sCreator: 'user_01New', searchV: SEARCH_KEYS_VERSION });
  });
});
