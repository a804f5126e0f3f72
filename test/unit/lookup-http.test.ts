import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import { MemoryArchiveStore } from './fakes/memory-archive-store.js';
import { MemoryFileIndex } from './fakes/memory-file-index.js';
import { recordingTelemetry } from './fakes/recording-telemetry.js';

const FILE = 'claude_gen_file_01Http';
const CHAT = 'claude_chat_01Http';

function event(httpMethod: string, resource: string, pathParameters: Record<string, string> | null, query: Record<string, string> | null = null) {
  return {
    httpMethod,
    resource,
    path: resource,
    pathParameters,
    queryStringParameters: query,
    requestContext: { requestId: 'r-1', identity: { userArn: 'arn:aws:iam::123456789012:user/auditor' } },
  } as unknown as APIGatewayProxyEvent;
}

async function lookup() {
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
  return { handler: createLookupHandler({ index, downloads: new MemoryArchiveStore(), presignTtlSeconds: 300, log: telemetry.log }), index, ...telemetry };
}

describe('lookup over HTTP', () => {
  it('dispatches each route of the contract to its use case', async () => {
    const { handler } = await lookup();
    const list = await handler(event('GET', '/chats/{chatId}/files', { chatId: CHAT }, { limit: '1' }));
    expect(JSON.parse(list.body)).toMatchObject({ chatId: CHAT, files: [{ fileId: FILE }] });
    expect((await handler(event('GET', '/files/{fileId}', { fileId: FILE }))).statusCode).toBe(200);
    const content = await handler(event('GET', '/files/{fileId}/content', { fileId: FILE }));
    expect(content).toMatchObject({ statusCode: 302, headers: { Location: expect.stringContaining('versionId=v1&ttl=300') } });
  });

  it.each([
    ['an unknown route', event('GET', '/admin', null), 404, 'not_found'],
    ['another method', event('DELETE', '/files/{fileId}', { fileId: FILE }), 405, 'method_not_allowed'],
    ['an unknown file', event('GET', '/files/{fileId}', { fileId: 'claude_gen_file_nope' }), 404, 'not_found'],
    ['a malformed id, named', event('GET', '/files/{fileId}', { fileId: '../etc' }), 400, 'invalid_request'],
    ['a forged cursor', event('GET', '/chats/{chatId}/files', { chatId: CHAT }, { cursor: 'eyJ4IjoxfQ' }), 400, 'invalid_request'],
  ])('answers %s with a JSON error', async (_name, request, status, type) => {
    const { handler } = await lookup();
    const res = await handler(request);
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ error: { type, message: expect.any(String) } });
  });

  it('validates the path before the query, naming the parameter', async () => {
    const { handler } = await lookup();
    const res = await handler(event('GET', '/chats/{chatId}/files', { chatId: 'nope' }, { limit: '0' }));
    expect(JSON.parse(res.body)).toEqual({ error: { type: 'invalid_request', message: 'chatId must be a claude_chat_… id' } });
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
    expect(logs[1]?.attributes).toMatchObject({ caller: 'arn:aws:iam::123456789012:user/auditor', resource: '/files/{fileId}' });
  });
});
