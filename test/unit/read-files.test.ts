import { describe, expect, it } from 'vitest';
import type { ArchivedRecord, UnavailableRecord } from '../../shared/contracts/file-records.js';
import { listChatFiles, presignFileDownload, readFileRecord } from '../../shared/lookup/read-files.js';
import { InvalidCursorError, RequestRejectedError } from '../../shared/platform/errors.js';
import { MemoryArchiveStore } from './fakes/memory-archive-store.js';
import { MemoryFileIndex } from './fakes/memory-file-index.js';

const CHAT = 'claude_chat_01Read';

function archived(fileId: string, createdAt: string, versionId: string | null = 'v7'): ArchivedRecord {
  return {
    status: 'archived',
    fileId,
    source: 'generated',
    chatIds: [CHAT],
    filename: `${fileId}.txt`,
    mimeType: 'text/plain',
    sizeBytes: 1,
    createdAt,
    upstreamRequestId: null,
    md5: '0'.repeat(32),
    sha256: '0'.repeat(64),
    bucket: 'archive-bucket',
    key: `archive/generated/${fileId}`,
    versionId,
    contentType: 'text/plain',
    contentDisposition: `attachment; filename="${fileId}.txt"`,
    archivedAt: createdAt,
  };
}

const unavailable: UnavailableRecord = {
  status: 'unavailable',
  fileId: 'claude_gen_file_gone',
  source: 'generated',
  chatIds: [CHAT],
  filename: null,
  mimeType: null,
  sizeBytes: null,
  createdAt: '2026-01-03T00:00:00Z',
  upstreamRequestId: null,
  reason: 'not_found',
  detail: 'upstream answered 404',
  recordedAt: '2026-01-03T00:00:00Z',
};

async function indexWith(...records: (ArchivedRecord | UnavailableRecord)[]): Promise<MemoryFileIndex> {
  const index = new MemoryFileIndex();
  for (const r of records) {
    await index.claim(r.fileId, r.source, 'seed', 0, 1_000);
    if (r.status === 'archived') await index.markArchived(r, 'seed');
    else await index.markUnavailable(r, 'seed');
  }
  return index;
}

describe('lookup read use cases', () => {
  it("lists a chat's files in creation order, a page at a time", async () => {
    const index = await indexWith(
      archived('claude_gen_file_b', '2026-01-02T00:00:00Z'),
      archived('claude_gen_file_a', '2026-01-01T00:00:00Z'),
      unavailable,
    );
    const first = await listChatFiles(index, CHAT, 2, undefined);
    expect(first.items.map((r) => r.fileId)).toEqual(['claude_gen_file_a', 'claude_gen_file_b']);
    const second = await listChatFiles(index, CHAT, 2, first.nextCursor);
    expect(second).toEqual({
      items: [expect.objectContaining({ fileId: 'claude_gen_file_gone', status: 'unavailable' })],
      nextCursor: undefined,
    });
  });

  it("refuses another chat's cursor as an invalid request", async () => {
    const index = await indexWith(
      archived('claude_gen_file_a', '2026-01-01T00:00:00Z'),
      archived('claude_gen_file_b', '2026-01-02T00:00:00Z'),
    );
    const { nextCursor } = await listChatFiles(index, CHAT, 1, undefined);
    const err = await listChatFiles(index, 'claude_chat_01Other', 1, nextCursor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidCursorError);
    expect(err).toMatchObject({ kind: 'invalid_request' });
  });

  it('reads one record whatever its status, and rejects an unknown file as not found', async () => {
    const index = await indexWith(unavailable);
    expect(await readFileRecord(index, unavailable.fileId)).toMatchObject({
      status: 'unavailable',
      reason: 'not_found',
      sizeBytes: null,
    });
    await expect(readFileRecord(index, 'claude_gen_file_never')).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('presigns the exact archived version with its stored headers', async () => {
    const record = archived('claude_gen_file_a', '2026-01-01T00:00:00Z');
    const store = new MemoryArchiveStore();
    const url = await presignFileDownload(await indexWith(record), store, record.fileId, 300);
    expect(url).toBe('memory://archive-bucket/archive/generated/claude_gen_file_a?versionId=v7&ttl=300');
    expect(store.presigned[0]?.ref).toMatchObject({
      bucket: 'archive-bucket',
      key: record.key,
      versionId: 'v7',
      contentDisposition: record.contentDisposition,
    });
  });

  it('offers no download of a file with no archived copy', async () => {
    const store = new MemoryArchiveStore();
    const err = await presignFileDownload(await indexWith(unavailable), store, unavailable.fileId, 300).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RequestRejectedError);
    expect(err).toMatchObject({ kind: 'not_archived', message: 'No archived copy exists (status: unavailable).' });
    expect(store.presigned).toEqual([]);
  });
});
