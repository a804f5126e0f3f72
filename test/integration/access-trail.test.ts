/**
 * The access trail on dynalite: every route of the lookup contract (including ones added later: the
 * test walks LOOKUP_ROUTES) leaves one event per request, whatever its outcome, written by the HTTP
 * dispatch; GET /audit reads them back by principal, by file and by period, newest first, page by
 * page; an event is never overwritten (the write is conditional on the key being new).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/aws/resources.js';
import { LOOKUP_ROUTES } from '../../shared/contracts/lookup-routes.js';
import { DynamoDbAccessTrail } from '../../shared/index/dynamodb-access-trail.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { DynamoDbFileSearch } from '../../shared/index/dynamodb-file-search.js';
import type { TrailEvent } from '../../shared/lookup/access-trail.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import { createDocumentClient } from '../../shared/platform/aws-clients.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { localAwsFromInject, uniqueName, type LocalAwsFixture } from '../support/local-aws.js';
import { recordCallsOf } from '../support/permissions/aws-call-recorder.js';
import { bodyOf, lookupEvent, seedFile } from '../support/search-fixture.js';
import { MemoryArchiveStore } from '../unit/fakes/memory-archive-store.js';
import { memoryMatterDeps, unusedFixity } from '../unit/fakes/memory-holds.js';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const ALICE = 'arn:aws:sts::111122223333:assumed-role/Auditor/alice';
const BOB = 'arn:aws:sts::111122223333:assumed-role/Auditor/bob';
const FILE = 'claude_gen_file_01Trail';

let aws: LocalAwsFixture;
let table: string;
let client: ReturnType<typeof createDocumentClient>;
let clock = new Date('2026-02-01T10:00:00.000Z');
let handler: (event: ReturnType<typeof lookupEvent>) => Promise<APIGatewayProxyResult>;

/** A valid value for each path parameter the routes use. */
const PATH_VALUES: Record<string, string> = { chatId: 'claude_chat_01Trail', fileId: FILE, source: 'chats' };

async function audit(query: Record<string, string>, principal = ALICE) {
  const res = await handler(lookupEvent('/audit', query, null, principal));
  return { status: res.statusCode, body: bodyOf(res) };
}

beforeAll(async () => {
  aws = localAwsFromInject();
  table = uniqueName('trail');
  await ensureTable(aws.ddb, table);
  await seedFile(new DynamoDbFileIndex(aws.ddb, table), { fileId: FILE, createdAt: '2025-01-01T00:00:00.000Z' });
  client = createDocumentClient({ endpoint: aws.dynamodbEndpoint, region: aws.region });
  recordCallsOf(client, 'lookup', { tables: { [table]: 'indexTable' } });
  handler = createLookupHandler({
    index: new DynamoDbFileIndex(client, table),
    discovery: { listLedger: async () => ({ runs: [], nextCursor: undefined }), getUpstreamDeletions: async () => [] },
    downloads: new MemoryArchiveStore(),
    search: new DynamoDbFileSearch(client, table),
    trail: new DynamoDbAccessTrail(client, table),
    presignTtlSeconds: 300,
    holds: memoryMatterDeps(),
    fixity: unusedFixity(),
    log: quiet,
    now: () => clock,
  });
});

afterAll(() => {
  client?.destroy();
  aws?.destroy();
});

describe('the access trail on dynalite', () => {
  it('records one event for every route of the contract, with who, what, the outcome, where from', async () => {
    clock = new Date('2026-02-01T10:00:00.000Z');
    const answered: Record<string, number> = {};
    for (const [i, route] of LOOKUP_ROUTES.entries()) {
      clock = new Date(Date.parse('2026-02-01T10:00:00.000Z') + i * 1000);
      const params = Object.fromEntries(
        [...route.resource.matchAll(/\{(\w+)\}/g)].map((m) => [m[1] ?? '', PATH_VALUES[m[1] ?? ''] ?? 'x']),
      );
      const query = route.resource === '/search/files' ? { creator: 'user_01Trail' } : {};
      const event = { ...lookupEvent(route.resource, query, Object.keys(params).length ? params : null, BOB) };
      const res = await handler({ ...event, httpMethod: route.method });
      answered[`${route.method} ${route.resource}`] = res.statusCode;
    }
    clock = new Date('2026-02-01T11:00:00.000Z');
    const { status, body } = await audit({ principal: BOB, limit: '200' });
    expect(status).toBe(200);
    const events = body['events'] as TrailEvent[];
    const recorded = Object.fromEntries(events.map((e) => [e.action, e.status]));
    expect(recorded).toEqual(answered);
    for (const e of events) {
      expect(e).toMatchObject({ principal: BOB, sourceIp: '203.0.113.7', userAgent: 'search-test/1.0' });
      expect(e.requestId).toMatch(/^req-/);
    }
    const fileEvents = events.filter((e) => e.fileId === FILE).map((e) => e.action);
    expect(fileEvents.sort()).toEqual([
      'GET /files/{fileId}',
      'GET /files/{fileId}/content',
      'POST /files/{fileId}/verify',
    ]);
    const search = events.find((e) => e.action === 'GET /search/files');
    expect(search?.scope).toEqual({ creator: 'user_01Trail' });
  });

  it('records refusals and requests that match no route', async () => {
    clock = new Date('2026-02-02T09:00:00.000Z');
    await handler(lookupEvent('/files/{fileId}', {}, { fileId: 'not-an-id' }, BOB));
    clock = new Date('2026-02-02T09:00:01.000Z');
    await handler({ ...lookupEvent('/admin', {}, null, BOB), resource: '/admin', path: '/admin' });
    const { body } = await audit({ from: '2026-02-02', to: '2026-02-02' }, ALICE);
    const events = body['events'] as TrailEvent[];
    expect(events.map((e) => [e.action, e.status, e.errorType])).toEqual([
      ['GET /admin', 404, 'not_found'],
      ['GET /files/{fileId}', 400, 'invalid_request'],
    ]);
  });

  it('reads by file and by period, newest first, page by page with a cursor bound to the filters', async () => {
    for (let i = 0; i < 4; i++) {
      clock = new Date(Date.parse('2026-02-03T08:00:00.000Z') + i * 86_400_000);
      await handler(lookupEvent('/files/{fileId}', {}, { fileId: FILE }, ALICE));
    }
    clock = new Date('2026-02-10T00:00:00.000Z');
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await audit({
        fileId: FILE,
        from: '2026-02-03',
        limit: '2',
        ...(cursor ? { cursor } : {}),
      });
      expect(status).toBe(200);
      pages.push((body['events'] as TrailEvent[]).map((e) => e.at.slice(0, 10)));
      cursor = body['nextCursor'] as string | undefined;
      if (cursor) expect((await audit({ fileId: FILE, from: '2026-02-04', cursor })).status).toBe(400);
    } while (cursor);
    expect(pages.flat()).toEqual(['2026-02-06', '2026-02-05', '2026-02-04', '2026-02-03']);
    // No empty last page: a cursor is given only when another event follows.
    expect(pages.map((p) => p.length)).toEqual([2, 2]);

    // By period alone: day partitions, newest first; the audit reads themselves are trailed too.
    const { body } = await audit({ from: '2026-02-05', to: '2026-02-06' });
    expect((body['events'] as TrailEvent[]).map((e) => e.at.slice(0, 10))).toEqual(['2026-02-06', '2026-02-05']);
  });

  it('pages on without `to` while the clock moves: the first page fixes the window its cursor carries', async () => {
    // Without `to` the window ends "now"; a console or CLI asking for the next page a moment later must
    // get that page, not a 400 because "now" moved (the cursor was bound to the first request's end).
    for (let i = 0; i < 3; i++) {
      clock = new Date(Date.parse('2026-04-01T08:00:00.000Z') + i * 60_000);
      await handler(lookupEvent('/files/{fileId}', {}, { fileId: FILE }, BOB));
    }
    for (const query of [{ principal: BOB }, {}] as Record<string, string>[]) {
      clock = new Date('2026-04-01T09:00:00.000Z');
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const { status, body } = await audit({ ...query, limit: '1', ...(cursor ? { cursor } : {}) }, BOB);
        expect(status, `page ${seen.length + 1} of ${JSON.stringify(query)}: ${JSON.stringify(body)}`).toBe(200);
        for (const e of body['events'] as TrailEvent[]) seen.push(`${e.at} ${e.action}`);
        cursor = body['nextCursor'] as string | undefined;
        clock = new Date(clock.getTime() + 1_000);
      } while (cursor && seen.length < 50);
      // Nothing recorded after the first page's end shows up later (the window stays fixed).
      expect(
        seen.every((s) => s < '2026-04-01T09:00:00.001Z'),
        seen.join('\n'),
      ).toBe(true);
      expect(seen.filter((s) => s.includes('GET /files/{fileId}')).length).toBeGreaterThanOrEqual(3);
    }
  });

  it('never replaces an event: the write is conditional on a new key', async () => {
    const trail = new DynamoDbAccessTrail(client, table);
    const event: TrailEvent = {
      at: '2026-03-01T00:00:00.000Z',
      eventId: 'fixed-id',
      principal: ALICE,
      action: 'GET /audit',
      scope: {},
      status: 200,
      sourceIp: null,
      userAgent: null,
      requestId: null,
    };
    await trail.record(event);
    await expect(trail.record({ ...event, status: 500 })).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const page = await trail.list({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-01T23:59:59.999Z',
      principal: ALICE,
      fileId: undefined,
      limit: 10,
      cursor: undefined,
    });
    expect(page.events.map((e) => e.status)).toEqual([200]);
  });
});
