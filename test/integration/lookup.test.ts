import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import { DynamoDbAccessTrail } from '../../shared/index/dynamodb-access-trail.js';
import { DynamoDbFileSearch } from '../../shared/index/dynamodb-file-search.js';
import { LOCAL_CALLER_HEADER, startLookupServer } from '../../local/lookup-server.js';
import { DynamoDbMatterStore } from '../../shared/index/dynamodb-holds.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { S3DownloadSigner } from '../../shared/archive/s3-download-links.js';
import { createS3UrlSigner } from '../../shared/archive/s3-url-signer.js';
import { serializeJob } from '../../shared/contracts/job.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createIngestStack } from '../support/ingest-stack.js';
import { createRecordedLookup } from '../support/recorded-lookup.js';
import type { IngestStack, LogEntry } from '../support/ingest-stack.js';
import { generatedFileFactory, uploadedFileFactory } from '../support/upstream.js';

const CHAT = 'claude_chat_01LookupChat';
const OTHER_CHAT = 'claude_chat_01OtherChat';
const AUDITOR = 'arn:aws:iam::123456789012:user/auditor-alice';

let stack: IngestStack;
let server: { url: string; close(): Promise<void> };
const logs: LogEntry[] = [];
const captureLog: Log = {
  debug: (message, attributes = {}) => logs.push({ level: 'debug', message, attributes }),
  info: (message, attributes = {}) => logs.push({ level: 'info', message, attributes }),
  warn: (message, attributes = {}) => logs.push({ level: 'warn', message, attributes }),
  error: (message, attributes = {}) => logs.push({ level: 'error', message, attributes }),
};
const files = [
  generatedFileFactory({
    chatId: CHAT,
    createdAt: '2025-06-01T10:00:00Z',
    filename: 'first.txt',
    content: Buffer.from('first'),
  }),
  generatedFileFactory({
    chatId: CHAT,
    createdAt: '2025-06-01T12:00:00Z',
    filename: 'third.csv',
    mimeType: 'text/csv',
    content: Buffer.from('a,b\n'),
  }),
  generatedFileFactory({
    chatId: CHAT,
    createdAt: '2025-06-01T11:00:00Z',
    filename: 'Résumé.txt',
    content: Buffer.from('second'),
  }),
];
const gone = uploadedFileFactory({ chatIds: [CHAT], createdAt: '2025-06-01T13:00:00Z' });
const other = generatedFileFactory({ chatId: OTHER_CHAT });
/** Handlers built by hand here read no ledger and know of no deletion. */
const noDiscovery = {
  listLedger: async () => ({ runs: [], nextCursor: undefined }),
  getUpstreamDeletions: async () => [],
};
/** Nor do they verify copies. */
const unusedFixity = () => {
  const unused = () => Promise.reject(new Error('these tests verify no copy'));
  return { copies: { head: unused, digest: unused }, records: { get: unused, record: unused }, now: Date.now };
};
/** The holds of the handlers built here, which serve only the file routes: a send would be a bug. */
const unusedHolds = () => ({
  matters: new DynamoDbMatterStore(stack.aws.ddb, stack.table),
  work: { send: () => Promise.reject(new Error('these tests queue no hold work')) },
  releaseDelaySeconds: 0,
  now: Date.now,
});

async function get(path: string, caller = AUDITOR) {
  const res = await request(`${server.url}${path}`, { headers: { [LOCAL_CALLER_HEADER]: caller } });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

beforeAll(async () => {
  stack = await createIngestStack({ s3: 's3rver' });
  for (const f of [...files, gone, other]) await stack.upstream.addFile(f);
  stack.upstream.removeFile(gone.id);
  const { failed } = await stack.deliver(
    [...files, gone, other].map((f) =>
      serializeJob({ fileId: f.id, chatId: f.source === 'generated' ? f.chatId : CHAT }),
    ),
  );
  expect(failed).toEqual([]);
  // The lookup role's permissions are checked on every call, presigned downloads included.
  server = await startLookupServer(await createRecordedLookup(stack, captureLog));
});
afterAll(async () => {
  await server.close();
  await stack.close();
});

describe('GET /chats/{chatId}/files', () => {
  it('pages through a chat in upstream creation order with an opaque cursor', async () => {
    const first = await get(`/chats/${CHAT}/files?limit=2`);
    expect(first.status).toBe(200);
    const page1 = first.json as { files: { fileId: string }[]; nextCursor?: string };
    expect(page1.files.map((f) => f.fileId)).toEqual([files[0]?.id, files[2]?.id]);
    expect(page1.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);

    const second = await get(`/chats/${CHAT}/files?limit=2&cursor=${page1.nextCursor}`);
    const page2 = second.json as { files: { fileId: string; status: string }[]; nextCursor?: string };
    expect(page2.files.map((f) => [f.fileId, f.status])).toEqual([
      [files[1]?.id, 'archived'],
      [gone.id, 'unavailable'],
    ]);
  });

  it('answers an unknown chat with an empty list', async () => {
    const res = await get('/chats/claude_chat_01NobodyHere/files');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ chatId: 'claude_chat_01NobodyHere', files: [] });
  });

  it.each([
    ['a malformed chat id', '/chats/not-a-chat/files'],
    ['a chat id with an encoded slash', '/chats/claude_chat_a%2F..%2Fb/files'],
    ['limit 0', `/chats/${CHAT}/files?limit=0`],
    ['limit 101', `/chats/${CHAT}/files?limit=101`],
    ['a non-numeric limit', `/chats/${CHAT}/files?limit=ten`],
    ['a garbage cursor', `/chats/${CHAT}/files?cursor=***`],
  ])('refuses %s with 400 and a JSON error', async (_name, path) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { type: 'invalid_request', message: expect.any(String) } });
  });

  it('refuses a cursor issued for another chat, so it cannot page through that chat', async () => {
    const otherPage = await get(`/chats/${CHAT}/files?limit=1`);
    const cursor = (otherPage.json as { nextCursor: string }).nextCursor;
    const res = await get(`/chats/${OTHER_CHAT}/files?cursor=${cursor}`);
    expect(res.status).toBe(400);
  });
});

describe('GET /files/{fileId}', () => {
  it('returns the integrity evidence of an archived file', async () => {
    const res = await get(`/files/${files[1]?.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      status: 'archived',
      md5: createHash('md5').update('a,b\n').digest('hex'),
      sha256: createHash('sha256').update('a,b\n').digest('hex'),
      sizeBytes: 4,
      archivedAt: expect.any(String),
    });
    expect(res.json).toHaveProperty('versionId');
  });

  it('returns the failure outcome of a file that could not be archived', async () => {
    const res = await get(`/files/${gone.id}`);
    expect(res.json).toMatchObject({ status: 'unavailable', reason: 'not_found' });
  });

  it('answers 404 for an unknown id and 400 for an invalid one', async () => {
    expect((await get('/files/claude_gen_file_01neverSeen')).status).toBe(404);
    const bad = await get('/files/..%2F..%2Fetc');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { type: 'invalid_request' } });
  });
});

describe('GET /files/{fileId}/content', () => {
  it('redirects to a presigned URL of the archived object with its Content-Disposition', async () => {
    const file = files[2];
    const res = await get(`/files/${file?.id}/content`);
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = String(res.headers['location']);
    expect(location).toContain('X-Amz-Expires=300');
    const download = await request(location);
    expect(await download.body.text()).toBe('second');
    expect(download.headers['content-disposition']).toBe(
      `attachment; filename="R_sum_.txt"; filename*=UTF-8''R%C3%A9sum%C3%A9.txt`,
    );
  });

  it('answers 409 for a file with no archived copy', async () => {
    const res = await get(`/files/${gone.id}/content`);
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ error: { type: 'not_archived' } });
  });

  it('issues URLs that stop working after their lifetime', async () => {
    const shortLived = createLookupHandler({
      index: new DynamoDbFileIndex(stack.aws.ddb, stack.table),
      discovery: noDiscovery,
      downloads: new S3DownloadSigner(createS3UrlSigner({ endpoint: stack.aws.s3rverEndpoint })),
      search: new DynamoDbFileSearch(stack.aws.ddb, stack.table),
      trail: new DynamoDbAccessTrail(stack.aws.ddb, stack.table),
      presignTtlSeconds: 1,
      holds: unusedHolds(),
      fixity: unusedFixity(),
      log: captureLog,
    });
    const res = await shortLived({
      httpMethod: 'GET',
      resource: '/files/{fileId}/content',
      path: `/files/${files[0]?.id}/content`,
      pathParameters: { fileId: files[0]?.id ?? '' },
    } as unknown as Parameters<typeof shortLived>[0]);
    const location = String(res.headers?.['Location']);
    expect((await request(location)).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await request(location)).statusCode).toBe(403);
  });
});

describe('errors and the access trail', () => {
  it('answers an unknown route with a JSON 404', async () => {
    const res = await get('/admin');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ error: { type: 'not_found' } });
  });

  it('hides internal errors behind a generic 500', async () => {
    const broken = createLookupHandler({
      index: new DynamoDbFileIndex(stack.aws.ddb, 'no-such-table'),
      discovery: noDiscovery,
      downloads: new S3DownloadSigner(createS3UrlSigner({ endpoint: stack.aws.s3rverEndpoint })),
      search: new DynamoDbFileSearch(stack.aws.ddb, stack.table),
      trail: new DynamoDbAccessTrail(stack.aws.ddb, stack.table),
      presignTtlSeconds: 300,
      holds: unusedHolds(),
      fixity: unusedFixity(),
      log: captureLog,
    });
    const res = await broken({
      httpMethod: 'GET',
      resource: '/files/{fileId}',
      path: '/files/file_x',
      pathParameters: { fileId: 'file_x' },
    } as unknown as Parameters<typeof broken>[0]);
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({
      error: { type: 'internal_error', message: 'The request could not be completed.' },
    });
    expect(res.body).not.toMatch(/ResourceNotFound|no-such-table|at /);
  });

  it('logs the caller identity of every request', async () => {
    await get(`/files/${files[0]?.id}`, 'arn:aws:iam::123456789012:role/auditor-bob');
    const entry = logs.findLast((l) => l.message === 'lookup');
    expect(entry?.attributes).toMatchObject({
      caller: 'arn:aws:iam::123456789012:role/auditor-bob',
      resource: '/files/{fileId}',
      status: 200,
    });
  });
});
