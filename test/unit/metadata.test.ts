import { describe, expect, it } from 'vitest';
import { carriedMetadata } from '../../shared/ingest/archive-file.js';
import { contentDisposition } from '../../shared/archive/content-disposition.js';
import { FileIdSchema, sourceOfFileId } from '../../shared/contracts/ids.js';
import { parseJob } from '../../shared/contracts/job.js';
import type { IngestJob } from '../../shared/contracts/job.js';
import { normaliseMetadata } from '../../shared/upstream/file-metadata.js';

function job(body: object): IngestJob {
  const parsed = parseJob(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.job;
}

describe('file ids', () => {
  it('accepts the documented prefixes and refuses anything that could escape a path or key', () => {
    expect(FileIdSchema.safeParse('claude_gen_file_01H5CWunD7RpVJ5bHa8RCkja').success).toBe(true);
    for (const bad of ['', 'file_', 'file_a/b', 'file_a b', 'file_a%2F', 'claude_file_\u0000', 'gen_file_x']) {
      expect(FileIdSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(sourceOfFileId('file_x')).toBe('files_api');
  });
});

describe('carried metadata', () => {
  const complete = { filename: 'a.txt', md5: null, mime_type: 'text/plain', size_bytes: 3, created_at: '2026-01-01T00:00:00Z' };

  it('skips the metadata request only with a chat id and every field present', () => {
    expect(carriedMetadata(job({ fileId: 'claude_gen_file_a', chatId: 'claude_chat_c', file: complete }), 'generated')).toMatchObject({
      chatIds: ['claude_chat_c'],
      sizeBytes: 3,
      md5Hex: null,
    });
    expect(carriedMetadata(job({ fileId: 'claude_gen_file_a', file: complete }), 'generated')).toBeUndefined();
    const { created_at: _omitted, ...partial } = complete;
    expect(carriedMetadata(job({ fileId: 'claude_gen_file_a', chatId: 'claude_chat_c', file: partial }), 'generated')).toBeUndefined();
  });

  it('always asks the Files API, whose metadata says whether a file is downloadable', () => {
    expect(carriedMetadata(job({ fileId: 'file_a', chatId: 'claude_chat_c', file: complete }), 'files_api')).toBeUndefined();
  });
});

describe('upstream metadata normalisation', () => {
  it('reads an uploaded file in several chats, deduplicating chat ids and lowercasing md5', () => {
    const m = normaliseMetadata('claude_file_a', 'uploaded', {
      id: 'claude_file_a',
      claude_chat_ids: ['claude_chat_1', 'claude_chat_2', 'claude_chat_1'],
      created_at: '2026-01-01T00:00:00Z',
      filename: 'x.pdf',
      md5: 'D41D8CD98F00B204E9800998ECF8427E',
      message_ids: [],
      mime_type: 'application/pdf',
      size_bytes: 10,
      unknown_future_field: true,
    });
    expect(m.chatIds).toEqual(['claude_chat_1', 'claude_chat_2']);
    expect(m.md5Hex).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('keeps a file whose upstream name is empty; the download name falls back to "file"', () => {
    const m = normaliseMetadata('claude_gen_file_a', 'generated', { id: 'claude_gen_file_a', claude_chat_id: 'claude_chat_c', filename: '' });
    expect(m.filename).toBe('');
    expect(contentDisposition(m.filename)).toBe(`attachment; filename="file"; filename*=UTF-8''file`);
  });

  it('treats a Files API file without downloadable:true as not downloadable', () => {
    const base = { id: 'file_a', type: 'file', created_at: 'x', filename: 'f', mime_type: 'text/plain', size_bytes: 1 };
    expect(normaliseMetadata('file_a', 'files_api', base).downloadable).toBe(false);
    expect(normaliseMetadata('file_a', 'files_api', { ...base, downloadable: true }).downloadable).toBe(true);
  });

  it('drops a created_at that could not sit safely in a sort key, keeping the file', () => {
    const gen = { id: 'claude_gen_file_a', claude_chat_id: 'claude_chat_c', filename: 'f', md5: null, size_bytes: 1 };
    expect(normaliseMetadata('claude_gen_file_a', 'generated', { ...gen, created_at: '2025-06-01T00:00:00Z#F#x' }).createdAt).toBeNull();
    expect(normaliseMetadata('claude_gen_file_a', 'generated', { ...gen, created_at: '2025-06-01T00:00:00.5+02:00' }).createdAt).toBe(
      '2025-06-01T00:00:00.5+02:00',
    );
  });

  it('rejects metadata for another id, a hostile chat id, or a wrong type', () => {
    const gen = { id: 'claude_gen_file_a', claude_chat_id: 'claude_chat_c', filename: 'f', md5: null, size_bytes: 1 };
    expect(() => normaliseMetadata('claude_gen_file_b', 'generated', gen)).toThrow();
    expect(() => normaliseMetadata('claude_gen_file_a', 'generated', { ...gen, claude_chat_id: '../x' })).toThrow();
    expect(() => normaliseMetadata('claude_gen_file_a', 'generated', { ...gen, size_bytes: '1' })).toThrow();
  });
});
