import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import type { DiscoveryReads } from '../../shared/lookup/lookup-http.js';
import type { LedgerRecord } from '../../shared/contracts/discovery-ledger.js';
import { InvalidCursorError } from '../../shared/platform/errors.js';
import { MemoryArchiveStore } from './fakes/memory-archive-store.js';
import { MemoryFileIndex } from './fakes/memory-file-index.js';
import { memoryMatterDeps, unusedFixity } from './fakes/memory-holds.js';
import { recordingTelemetry } from './fakes/recording-telemetry.js';
import { MemoryAccessTrail, RecordingSearchIndex } from './fakes/memory-access-trail.js';

const FILE = 'claude_gen_file_01Http';
const CHAT = 'claude_chat_01Http';
const LEDGER_RUN: LedgerRecord = {
  source: 'chats',
  runId: 'run-1',
  startedAt: '2026-01-01T00:00:00Z',
  endedAt: '2026-01-01T00:00:05Z',
  ending: 'completed',
  cursorStart: null,
  cursorEnd: 'claude_chat_01z',
  pages: 2,
  records: 10,
  invalidRecords: 0,
  jobsEnqueued: 7,
  windowStart: null,
  windowEnd: null,
  lastRequestId: 'req_1',
  error: null,
};

function event(
  httpMethod: string,
  resource: string,
  pathParameters: Record<string, string> | null,
  query: Record<string, string> | null = null,
) {
  return {
    httpMethod,
    resource,
    path: resource,
    pathParameters,
    queryStringParameters: query,
    requestContext: { requestId: 'r-1', identity: { userArn: 'arn:aws:iam::123456789012:user/auditor' } },
  } as unknown as APIGatewayProxyEvent;
}

async function lookup(opts: { corsOrigin?: string; nowIso?: string } = {}) {
  const index = new MemoryFileIndex();
  await index.claim(FILE, 'generated', 'seed', 0, 1_000);
  const record: ArchivedRecord = {
    status: 'archived',
    fileId: FILE,
    source: 'generated',
    chatIds: [CHAT],
    filename: 'a.txt',
    mimeType: 'text/plain',
    sizeBytes: 1,
    createdAt: '2026-01-01T00:00:00Z',
    upstreamRequestId: null,
    md5: '0'.repeat(32),
    sha256: '0'.repeat(64),
    bucket: 'b',
    key: `archive/generated/${FILE}`,
    versionId: 'v1',
    contentType: 'text/plain',
    contentDisposition: 'attachment; filename="a.txt"',
    archivedAt: '2026-01-01T00:00:00Z',
  };
  await index.markArchived(record, 'seed');
  const telemetry = recordingTelemetry();
  const holds = memoryMatterDeps();
  const deletion = {
    id: CHAT,
    kind: 'chat' as const,
    deletedAt: '2026-02-01T00:00:00Z',
    via: 'activity' as const,
    activityId: 'activity_01x',
    actor: null,
    recordedAt: '2026-02-01T00:01:00Z',
  };
  const trail = new MemoryAccessTrail();
  const search = new RecordingSearchIndex();
  const discovery: DiscoveryReads = {
    listLedger: async (source, _limit, cursor) => {
      if (cursor !== undefined) throw new InvalidCursorError();
      return { runs: [{ ...LEDGER_RUN, source }], nextCursor: undefined };
    },
    getUpstreamDeletions: async (ids) => (ids.includes(CHAT) ? [deletion] : []),
  };
  return {
    handler: createLookupHandler({
      index,
      discovery,
      downloads: new MemoryArchiveStore(),
      search,
      trail,
      presignTtlSeconds: 300,
      holds,
      fixity: unusedFixity(),
      ...(opts.corsOrigin === undefined ? {} : { corsOrigin: opts.corsOrigin }),
      log: telemetry.log,
      now: () => new Date(opts.nowIso ?? '2026-03-01T12:00:00.000Z'),
    }),
    index,
    deletion,
    holds,
    trail,
    search,
    ...telemetry,
  };
}

describe('lookup over HTTP', () => {
  it('dispatches each route of the contract to its use case', async () => {
    const { handler } = await lookup();
    const list = await handler(event('GET', '/chats/{chatId}/files', { chatId: CHAT }, { limit: '1' }));
    expect(JSON.parse(list.body)).toMatchObject({ chatId: CHAT, files: [{ fileId: FILE }] });
    expect((await handler(event('GET', '/files/{fileId}', { fileId: FILE }))).statusCode).toBe(200);
    const content = await handler(event('GET', '/files/{fileId}/content', { fileId: FILE }));
    expect(content).toMatchObject({
      statusCode: 302,
      headers: { Location: expect.stringContaining('versionId=v1&ttl=300') },
    });
    const runs = await handler(event('GET', '/discovery/{source}/runs', { source: 'activities' }));
    expect(JSON.parse(runs.body)).toEqual({
      source: 'activities',
      runs: [{ ...LEDGER_RUN, source: 'activities' }],
      gaps: expect.any(Array),
    });
  });

  it('reports no gap among runs that end on their own terms within 30 minutes of each other and of now', async () => {
    const { handler } = await lookup({ nowIso: '2026-01-01T00:10:00Z' });
    const runs = await handler(event('GET', '/discovery/{source}/runs', { source: 'chats' }));
    expect(JSON.parse(runs.body).gaps).toEqual([]);
  });

  it(
    'reports the gaps among the runs it lists: no run that ended ' + 'on its own terms for longer than 30 minutes',
    async () => {
      const { handler } = await lookup({ nowIso: '2026-01-01T02:00:00Z' });
      const runs = await handler(event('GET', '/discovery/{source}/runs', { source: 'chats' }));
      expect(JSON.parse(runs.body).gaps).toEqual([
        expect.objectContaining({ source: 'chats', kind: 'stale', afterRunId: 'run-1', from: LEDGER_RUN.endedAt }),
      ]);
    },
  );

  it(
    'answers the download route with the presigned URL as JSON when ' + 'asked with redirect=false (a browser)',
    async () => {
      const { handler } = await lookup();
      const res = await handler(event('GET', '/files/{fileId}/content', { fileId: FILE }, { redirect: 'false' }));
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual({
        url: expect.stringContaining('versionId=v1&ttl=300'),
        expiresInSeconds: 300,
      });
      // Without it, or with redirect=true, the redirect stays (curl -L, the CLI, the smoke test).
      for (const query of [null, { redirect: 'true' }])
        expect((await handler(event('GET', '/files/{fileId}/content', { fileId: FILE }, query))).statusCode).toBe(302);
      expect(
        (await handler(event('GET', '/files/{fileId}/content', { fileId: FILE }, { redirect: 'no' }))).statusCode,
      ).toBe(400);
    },
  );

  it(
    "names the console's origin in every answer when one is configured, " + 'errors included, and no origin otherwise',
    async () => {
      const { handler } = await lookup({ corsOrigin: 'https://d111.cloudfront.net' });
      for (const e of [
        event('GET', '/files/{fileId}', { fileId: FILE }),
        event('GET', '/files/{fileId}', { fileId: 'claude_gen_file_nope' }),
      ]) {
        expect((await handler(e)).headers).toMatchObject({
          'Access-Control-Allow-Origin': 'https://d111.cloudfront.net',
          Vary: 'Origin',
        });
      }
      const plain = await (await lookup()).handler(event('GET', '/files/{fileId}', { fileId: FILE }));
      expect(plain.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    },
  );

  it('shows a deletion upstream on the chat listing and on the records of its files', async () => {
    const { handler, deletion } = await lookup();
    const list = await handler(event('GET', '/chats/{chatId}/files', { chatId: CHAT }));
    expect(JSON.parse(list.body)).toMatchObject({ chatDeletion: deletion, files: [{ fileId: FILE }] });
    const record = await handler(event('GET', '/files/{fileId}', { fileId: FILE }));
    expect(JSON.parse(record.body)).toMatchObject({ fileId: FILE, status: 'archived', upstreamDeletions: [deletion] });
  });

  it.each([
    ['an unknown route', event('GET', '/admin', null), 404, 'not_found'],
    ['another method', event('DELETE', '/files/{fileId}', { fileId: FILE }), 405, 'method_not_allowed'],
    ['an unknown file', event('GET', '/files/{fileId}', { fileId: 'claude_gen_file_nope' }), 404, 'not_found'],
    ['a malformed id, named', event('GET', '/files/{fileId}', { fileId: '../etc' }), 400, 'invalid_request'],
    [
      'a forged cursor',
      event('GET', '/chats/{chatId}/files', { chatId: CHAT }, { cursor: 'eyJ4IjoxfQ' }),
      400,
      'invalid_request',
    ],
    ['an unknown poller', event('GET', '/discovery/{source}/runs', { source: 'everything' }), 400, 'invalid_request'],
    [
      'a forged ledger cursor',
      event('GET', '/discovery/{source}/runs', { source: 'chats' }, { cursor: 'abc' }),
      400,
      'invalid_request',
    ],
  ])('answers %s with a JSON error', async (_name, request, status, type) => {
    const { handler } = await lookup();
    const res = await handler(request);
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ error: { type, message: expect.any(String) } });
  });

  it('validates the path before the query, naming the parameter', async () => {
    const { handler } = await lookup();
    const res = await handler(event('GET', '/chats/{chatId}/files', { chatId: 'nope' }, { limit: '0' }));
    expect(JSON.parse(res.body)).toEqual({
      error: { type: 'invalid_request', message: 'chatId must be a claude_chat_… id' },
    });
  });

  it('hides an internal failure behind a generic 500 and logs it with the access trail', async () => {
    const { handler, index, logs } = await lookup();
    index.get = () => Promise.reject(new Error('ResourceNotFoundException: table gone'));
    const res = await handler(event('GET', '/files/{fileId}', { fileId: FILE }));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('table gone');
    expect(logs.map((l) => [l.message, l.attributes['status'] ?? null])).toEqual([
      ['lookup failed', null],
      ['lookup', 500],
    ]);
    expect(logs[1]?.attributes).toMatchObject({
      caller: 'arn:aws:iam::123456789012:user/auditor',
      resource: '/files/{fileId}',
    });
  });

  it('answers 503, not the result, when the access trail cannot be written (no untrailed access)', async () => {
    const { handler, trail, logs } = await lookup();
    trail.failWrites = true;
    const res = await handler(event('GET', '/files/{fileId}/content', { fileId: FILE }));
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Location']).toBeUndefined();
    expect(JSON.parse(res.body)).toMatchObject({ error: { type: 'trail_unavailable' } });
    expect(logs.map((l) => l.message)).toEqual(['access trail write failed']);
  });

  it('trails every request with the route, its scope, the outcome, and the files a listing showed', async () => {
    const { handler, trail } = await lookup();
    await handler(event('GET', '/chats/{chatId}/files', { chatId: CHAT }, { limit: '5', cursor: 'c'.repeat(40) }));
    await handler(event('GET', '/files/{fileId}', { fileId: 'claude_gen_file_nope' }));
    expect(trail.events).toEqual([
      expect.objectContaining({
        action: 'GET /chats/{chatId}/files',
        principal: 'arn:aws:iam::123456789012:user/auditor',
        scope: { chatId: CHAT, limit: '5' },
        status: 400,
        errorType: 'invalid_request',
        at: '2026-03-01T12:00:00.000Z',
      }),
      expect.objectContaining({ action: 'GET /files/{fileId}', fileId: 'claude_gen_file_nope', status: 404 }),
    ]);
    trail.events.length = 0;
    await handler(event('GET', '/chats/{chatId}/files', { chatId: CHAT }));
    expect(trail.events[0]).toMatchObject({ status: 200, resultFileIds: [FILE] });
  });
});
