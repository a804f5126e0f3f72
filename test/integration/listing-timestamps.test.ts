import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CALLER_HEADER, startLookupServer } from '../../local/lookup-server.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { createIngestStack } from '../support/ingest-stack.js';
import type { IngestStack } from '../support/ingest-stack.js';
import { createRecordedLookup } from '../support/recorded-lookup.js';
import { generatedFileFactory, uploadedFileFactory } from '../support/upstream.js';
import type { GeneratedUpstreamFile } from '../../local/upstream/catalogue.js';

/**
 * Upstream timestamps come with any precision and offset. Each file's listing key and the page cursor
 * built from it must take one canonical form, so that every cursor the API hands out is accepted
 * back and a chat lists in order of creation instants (DynamoDB sorts the keys as strings).
 */
const CHAT = 'claude_chat_01TimestampChat';
const LONG_FRACTION = (digit: string) => digit.repeat(60);

const first = uploadedFileFactory({ chatIds: [CHAT], createdAt: '2025-06-01T09:00:00.000000Z' });
// 86 characters, carried in the job as discovery passes it on (no metadata request).
const carriedContent = Buffer.from('carried');
const carried = generatedFileFactory({
  chatId: CHAT,
  createdAt: `2025-06-01T10:00:00.${LONG_FRACTION('1')}+00:00`,
  content: carriedContent,
});
// 10:30:00.250 UTC, written in local time: as given it would sort after 11:00Z.
const offset = generatedFileFactory({ chatId: CHAT, createdAt: '2025-06-01T12:30:00.250000+02:00' });
// 86 characters again, this time in the metadata response.
const fetched = generatedFileFactory({ chatId: CHAT, createdAt: `2025-06-01T11:00:00.${LONG_FRACTION('2')}+00:00` });
// Not a timestamp: kept as evidence, sorted by the time the archive recorded it (after the others).
const unparseable = generatedFileFactory({ chatId: CHAT, createdAt: 'yesterday' });

let stack: IngestStack;
let server: { url: string; close(): Promise<void> };

async function get(path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${server.url}${path}`, {
    headers: { [LOCAL_CALLER_HEADER]: 'arn:aws:iam::123456789012:user/auditor' },
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

function carriedJob(file: GeneratedUpstreamFile, content: Buffer): string {
  return serializeJob({
    fileId: file.id,
    chatId: file.chatId,
    file: {
      filename: file.filename,
      md5: createHash('md5').update(content).digest('hex'),
      mime_type: file.mimeType,
      size_bytes: content.length,
      created_at: file.createdAt ?? null,
    },
  });
}

beforeAll(async () => {
  stack = await createIngestStack();
  for (const f of [first, carried, offset, fetched, unparseable]) await stack.upstream.addFile(f);
  const { failed } = await stack.deliver([
    serializeJob({ fileId: first.id, chatId: CHAT }),
    carriedJob(carried, carriedContent),
    serializeJob({ fileId: offset.id }),
    serializeJob({ fileId: fetched.id }),
    serializeJob({ fileId: unparseable.id }),
  ]);
  expect(failed).toEqual([]);
  expect(stack.upstream.requestCount(carried.id, 'metadata')).toBe(0);
  // Lookup's calls are checked against the lookup role.
  server = await startLookupServer(await createRecordedLookup(stack));
});
afterAll(async () => {
  await server?.close();
  await stack?.close();
});

describe('chat listings with upstream timestamps of any precision and offset', () => {
  it('accepts back every cursor it hands out, one file per page, in order of creation instant', async () => {
    const seen: { fileId: string; createdAt: unknown }[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await get(`/chats/${CHAT}/files?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, `page ${page + 1}: ${JSON.stringify(res.json)}`).toBe(200);
      const body = res.json as { files: { fileId: string; createdAt: unknown }[]; nextCursor?: string };
      seen.push(...body.files.map((f) => ({ fileId: f.fileId, createdAt: f.createdAt })));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([
      { fileId: first.id, createdAt: '2025-06-01T09:00:00.000Z' },
      { fileId: carried.id, createdAt: '2025-06-01T10:00:00.111Z' },
      { fileId: offset.id, createdAt: '2025-06-01T10:30:00.250Z' },
      { fileId: fetched.id, createdAt: '2025-06-01T11:00:00.222Z' },
      { fileId: unparseable.id, createdAt: 'yesterday' },
    ]);
  });

  it('shows the same canonical createdAt on the file record', async () => {
    const res = await get(`/files/${carried.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'archived', createdAt: '2025-06-01T10:00:00.111Z' });
  });
});
