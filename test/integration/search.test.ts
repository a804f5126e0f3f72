/**
 * The auditor's search (GET /search/files) on dynalite, through the lookup handler built as the Lambda
 * builds it: every supported filter combination finds exactly the files it should, in time order,
 * page by page with opaque cursors; every call the search makes is recorded and none is a Scan; the
 * read capacity DynamoDB reports for a page stays the same when the archive grows (it depends on the
 * page, not the archive); unsupported combinations and foreign cursors are 400s.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/aws/resources.js';
import { DynamoDbAccessTrail } from '../../shared/index/dynamodb-access-trail.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { DynamoDbFileSearch } from '../../shared/index/dynamodb-file-search.js';
import { DynamoDbFixityRecords } from '../../shared/index/dynamodb-fixity.js';
import type { FixityEvent } from '../../shared/contracts/fixity.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import { MemoryArchiveStore } from '../unit/fakes/memory-archive-store.js';
import { memoryMatterDeps, unusedFixity } from '../unit/fakes/memory-holds.js';
import { createDocumentClient } from '../../shared/platform/aws-clients.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { localAwsFromInject, uniqueName, type LocalAwsFixture } from '../support/local-aws.js';
import { recordCallsOf } from '../support/permissions/aws-call-recorder.js';
import { bodyOf, lookupEvent, md5Of, seedFile, sha256Of, type SeedFile } from '../support/search-fixture.js';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const ALICE = { id: 'user_01Alice', emailAddress: 'Alice@Example.com' };
const BOB = { id: 'user_01Bob', emailAddress: 'bob@example.com' };
const CHAT = 'claude_chat_01Search';
const PROJECT = 'claude_proj_01Search';

interface MiddlewareStack {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ): void;
}

let aws: LocalAwsFixture;
let table: string;
let index: DynamoDbFileIndex;
let searchClient: ReturnType<typeof createDocumentClient>;
/** Every command the search's client sent, with the read capacity and items DynamoDB reported. */
const sent: { command: string; capacity: number | undefined; scanned: number | undefined }[] = [];
let handler: (event: ReturnType<typeof lookupEvent>) => Promise<APIGatewayProxyResult>;

// Alice: 12 files, one per month of 2025 (the 15th, 09:00 UTC); Bob: 6 files in the same months.
const aliceFiles: SeedFile[] = Array.from({ length: 12 }, (_, i) => ({
  fileId: `claude_gen_file_01Alice${String(i).padStart(2, '0')}`,
  creator: ALICE,
  createdAt: `2025-${String(i + 1).padStart(2, '0')}-15T09:00:00.000Z`,
  chatIds: i < 4 ? [CHAT] : [],
  projectId: i % 3 === 0 ? PROJECT : null,
  filename: i % 2 === 0 ? `Contract-${i}.pdf` : `notes-${i}.txt`,
}));
const bobFiles: SeedFile[] = Array.from({ length: 6 }, (_, i) => ({
  fileId: `claude_file_01Bob${String(i).padStart(2, '0')}`,
  source: 'uploaded',
  creator: BOB,
  createdAt: `2025-${String(i * 2 + 1).padStart(2, '0')}-20T10:00:00.000Z`,
  status: i === 5 ? 'failed' : 'archived',
  filename: `contract-bob-${i}.docx`,
}));
const noCreator: SeedFile = {
  fileId: 'file_01NoCreator',
  source: 'files_api',
  creator: null,
  createdAt: '2025-03-01T00:00:00.000Z',
  content: 'shared bytes',
};

function idsOf(body: Record<string, unknown>): string[] {
  return (body['files'] as { fileId: string }[]).map((f) => f.fileId);
}

async function search(query: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await handler(lookupEvent('/search/files', query));
  return { status: res.statusCode, body: bodyOf(res) };
}

/** Every page of a search, following nextCursor; the read capacity of each page's queries. */
async function allPages(query: Record<string, string>): Promise<{ ids: string[]; pages: number[]; units: number[] }> {
  const ids: string[] = [];
  const pages: number[] = [];
  const units: number[] = [];
  let cursor: string | undefined;
  do {
    const before = sent.length;
    const { status, body } = await search({ ...query, ...(cursor ? { cursor } : {}) });
    expect(status, JSON.stringify(body)).toBe(200);
    ids.push(...idsOf(body));
    pages.push(idsOf(body).length);
    units.push(sent.slice(before).reduce((sum, c) => sum + (c.capacity ?? 0), 0));
    cursor = body['nextCursor'] as string | undefined;
  } while (cursor);
  return { ids, pages, units };
}

beforeAll(async () => {
  aws = localAwsFromInject();
  table = uniqueName('search');
  await ensureTable(aws.ddb, table);
  index = new DynamoDbFileIndex(aws.ddb, table);
  for (const f of [...aliceFiles, ...bobFiles, noCreator]) await seedFile(index, f);
  await recordFixity();
  await seedFile(index, {
    fileId: 'claude_gen_file_01Pending',
    createdAt: '2025-05-05T00:00:00.000Z',
    status: 'pending',
  });
  searchClient = createDocumentClient({ endpoint: aws.dynamodbEndpoint, region: aws.region });
  (searchClient.middlewareStack as unknown as MiddlewareStack).add(
    (next, context) => async (args) => {
      const out = (await next(args)) as {
        output: { ConsumedCapacity?: { CapacityUnits?: number }; ScannedCount?: number };
      };
      sent.push({
        command: context.commandName ?? '?',
        capacity: out.output.ConsumedCapacity?.CapacityUnits,
        scanned: out.output.ScannedCount,
      });
      return out;
    },
    { step: 'initialize', name: 'searchCallLog' },
  );
  // And the lookup role's permission checks (test/support/permission-setup.ts) over the same calls.
  recordCallsOf(searchClient, 'lookup', { tables: { [table]: 'indexTable' } });
  handler = createLookupHandler({
    index: new DynamoDbFileIndex(searchClient, table),
    discovery: { listLedger: async () => ({ runs: [], nextCursor: undefined }), getUpstreamDeletions: async () => [] },
    downloads: new MemoryArchiveStore(),
    search: new DynamoDbFileSearch(searchClient, table),
    trail: new DynamoDbAccessTrail(searchClient, table),
    presignTtlSeconds: 300,
    holds: memoryMatterDeps(),
    fixity: unusedFixity(),
    log: quiet,
    now: () => new Date('2026-01-10T00:00:00.000Z'),
  });
});

function check(outcome: FixityEvent['outcome'], at: string): FixityEvent {
  return {
    eventType: 'fixity check',
    at,
    tier: 'cheap',
    tool: 'S3 HeadObject ChecksumMode ENABLED',
    toolVersion: '1',
    outcome,
    detail: outcome === 'failed' ? 'CRC-32 differs from the record' : 'size, version and CRC-32 match',
    versionId: null,
  };
}

/**
 * Fixity outcomes as the fixity writer records them: Alice's March and October files and Bob's first
 * file fail; Bob's first then passes again (it leaves the failed index); Alice's May file only passes.
 */
async function recordFixity(): Promise<void> {
  const fixity = new DynamoDbFixityRecords(aws.ddb, table);
  for (const f of [aliceFiles[2], aliceFiles[9], bobFiles[0]]) {
    expect(await fixity.record(f?.fileId as string, check('failed', '2026-01-02T00:00:00.000Z'))).toBeDefined();
  }
  await fixity.record(bobFiles[0]?.fileId as string, check('passed', '2026-01-03T00:00:00.000Z'));
  await fixity.record(aliceFiles[4]?.fileId as string, check('passed', '2026-01-03T00:00:00.000Z'));
}

afterAll(() => {
  searchClient?.destroy();
  aws?.destroy();
});

describe('search on dynalite: the supported combinations', () => {
  it(
    'person + period (the common case): exactly that person’s files ' + 'in the period, newest first, page by page',
    async () => {
      const { ids, pages } = await allPages({ creator: ALICE.id, from: '2025-03-01', to: '2025-08-31', limit: '2' });
      expect(ids).toEqual(
        aliceFiles
          .slice(2, 8)
          .map((f) => f.fileId)
          .reverse(),
      );
      expect(pages).toEqual([2, 2, 2]);
    },
  );

  it('person by email, case-insensitively, oldest first', async () => {
    const { ids } = await allPages({ creator: 'ALICE@example.COM', order: 'oldest', limit: '5' });
    expect(ids).toEqual(aliceFiles.map((f) => f.fileId));
  });

  it.each([
    [
      'chat + period',
      { chat: CHAT, from: '2025-02-01' },
      aliceFiles
        .slice(1, 4)
        .map((f) => f.fileId)
        .reverse(),
    ],
    ['project', { project: PROJECT }, [9, 6, 3, 0].map((i) => aliceFiles[i]?.fileId)],
    ['status', { status: 'failed' }, [bobFiles[5]?.fileId]],
    ['status pending', { status: 'pending' }, ['claude_gen_file_01Pending']],
    [
      'source + period',
      { source: 'uploaded', from: '2025-04-01', to: '2025-07-31' },
      [bobFiles[3], bobFiles[2]].map((f) => f?.fileId),
    ],
    ['sha256 (any case)', { sha256: sha256Of('shared bytes').toUpperCase() }, [noCreator.fileId]],
    ['md5', { md5: md5Of('shared bytes') }, [noCreator.fileId]],
    ['fixity failed', { fixity: 'failed' }, [aliceFiles[9]?.fileId, aliceFiles[2]?.fileId]],
    ['fixity failed + period', { fixity: 'failed', from: '2025-09-01' }, [aliceFiles[9]?.fileId]],
    [
      'period alone, across month partitions',
      { from: '2025-02-20', to: '2025-03-16' },
      [aliceFiles[2]?.fileId, noCreator.fileId],
    ],
  ])('%s', async (_name, query, expected) => {
    const { ids } = await allPages({ ...query, limit: '2' });
    expect(ids).toEqual(expected);
  });

  it('filename prefix, case-insensitively, in filename order', async () => {
    const { ids } = await allPages({ filename: 'CONTRACT-', limit: '3' });
    const expected = [...aliceFiles, ...bobFiles]
      .filter((f) => f.filename?.toLowerCase().startsWith('contract-'))
      .sort((a, b) => (a.filename ?? '').toLowerCase().localeCompare((b.filename ?? '').toLowerCase()))
      .map((f) => f.fileId);
    expect(ids).toEqual(expected);
    expect(ids.length).toBe(12);
  });

  it('the period alone walks months newest first and stops at the first month', async () => {
    // Up to the clock (2026-01-10): the pending file sorts by when it was first seen (today), so it is not in.
    const { ids } = await allPages({ from: '2025-01-01', limit: '7' });
    expect(ids).toEqual(
      [...aliceFiles, ...bobFiles, noCreator]
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
        .map((f) => f.fileId),
    );
  });
});

describe('search on dynalite: cost and the calls made', () => {
  it('never scans, and reads capacity in proportion to the page, not to the archive', async () => {
    sent.length = 0;
    const first = await allPages({ creator: ALICE.id, from: '2025-01-01', to: '2025-12-31', limit: '4' });
    expect(sent.map((c) => c.command)).not.toContain('ScanCommand');
    expect(new Set(sent.map((c) => c.command))).toEqual(new Set(['QueryCommand', 'PutItemCommand']));
    // Each query read the items it returned plus one (whether another page follows), no filter expression.
    const queries = sent.filter((c) => c.command === 'QueryCommand');
    expect(queries.map((q) => q.scanned)).toEqual(first.pages.map((n, i) => (i < first.pages.length - 1 ? n + 1 : n)));
    expect(first.units.every((u) => u > 0)).toBe(true);

    // Grow the archive tenfold with other people's files in the same months: a page costs the same.
    for (let i = 0; i < 150; i++) {
      await seedFile(index, {
        fileId: `claude_gen_file_01Filler${i}`,
        creator: { id: `user_01Filler${i % 7}`, emailAddress: null },
        createdAt: `2025-${String((i % 12) + 1).padStart(2, '0')}-10T08:00:00.000Z`,
      });
    }
    sent.length = 0;
    const again = await allPages({ creator: ALICE.id, from: '2025-01-01', to: '2025-12-31', limit: '4' });
    expect(again.ids).toEqual(first.ids);
    expect(again.units).toEqual(first.units);
    expect(sent.map((c) => c.command)).not.toContain('ScanCommand');
    // The failed-fixity filter is one Query of its sparse index too.
    sent.length = 0;
    const failed = await allPages({ fixity: 'failed', order: 'oldest', limit: '1' });
    expect(failed.ids).toEqual([aliceFiles[2]?.fileId, aliceFiles[9]?.fileId]);
    expect(sent.filter((c) => c.command !== 'PutItemCommand').map((c) => c.command)).toEqual([
      'QueryCommand',
      'QueryCommand',
    ]);
    console.info(
      `search read capacity per page of 4 (creator+period): ${first.units.join(', ')} ` +
        `with 20 files; ${again.units.join(', ')} with 170`,
    );
  });
});

describe('search: refusals', () => {
  it.each([
    [
      { creator: ALICE.id, status: 'archived' },
      /creator and status cannot be combined\. Supported: one of creator, chat, project/,
    ],
    [{ filename: 'contract', from: '2025-01-01' }, /filename cannot be combined with from, to or order/],
    [{}, /give at least one filter/],
    [{ to: '2025-01-01' }, /a period alone needs from/],
    [{ creator: ALICE.id, from: '2025-05-01', to: '2025-04-01' }, /from must not be after to/],
    [{ sha256: 'xyz' }, /sha256 must be 64 hex digits/],
    [{ status: 'deleted' }, /status must be one of pending, archived, unavailable, failed/],
    [{ fixity: 'passed' }, /fixity must be failed/],
    [{ fixity: 'failed', creator: ALICE.id }, /creator and fixity cannot be combined/],
    [{ from: '2025-13-45' }, /from|must be a date/],
  ])('%j → 400', async (query, message) => {
    const { status, body } = await search(query as Record<string, string>);
    expect(status).toBe(400);
    expect((body['error'] as { message: string }).message).toMatch(message);
  });

  it('refuses a cursor issued for other filters, and a forged one', async () => {
    const { body } = await search({ creator: ALICE.id, limit: '1' });
    const cursor = body['nextCursor'] as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await search({ creator: BOB.id, limit: '1', cursor })).status).toBe(400);
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(cursor, 'base64url').toString()),
        k: { pk: 'FILE#x', sk: 'FILE', sCreator: BOB.id, searchAt: 'x' },
      }),
    ).toString('base64url');
    expect((await search({ creator: ALICE.id, limit: '1', cursor: forged })).status).toBe(400);
  });
});
