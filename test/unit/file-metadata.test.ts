import { describe, expect, it } from 'vitest';
import { contentDisposition } from '../../shared/archive/content-disposition.js';
import { normaliseMetadata } from '../../shared/upstream/file-metadata.js';

describe('upstream metadata normalisation', () => {
  it(
    "reads an artifact version: the version id is the file's, the " +
      'title names it, an untitled one is named by its id',
    () => {
      const answer = {
        id: 'claude_artifact_01a',
        version_id: 'claude_artifact_version_01v',
        claude_chat_id: 'claude_chat_1',
        created_at: '2026-01-01T00:00:00Z',
        title: 'Plan',
        artifact_type: 'application/vnd.ant.code',
        md5: 'D41D8CD98F00B204E9800998ECF8427E',
        size_bytes: 0,
      };
      expect(normaliseMetadata('claude_artifact_version_01v', 'artifact', answer)).toMatchObject({
        chatIds: ['claude_chat_1'],
        filename: 'Plan',
        md5Hex: 'd41d8cd98f00b204e9800998ecf8427e',
        mimeType: 'application/vnd.ant.code',
        sizeBytes: 0,
        downloadable: true,
      });
      expect(normaliseMetadata('claude_artifact_version_01v', 'artifact', { ...answer, title: null }).filename).toBe(
        'claude_artifact_version_01v',
      );
      // The metadata of another version is refused, not archived under this one's id.
      expect(() => normaliseMetadata('claude_artifact_version_01other', 'artifact', answer)).toThrow(/another file/);
    },
  );

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
    const m = normaliseMetadata('claude_gen_file_a', 'generated', {
      id: 'claude_gen_file_a',
      claude_chat_id: 'claude_chat_c',
      filename: '',
    });
    expect(m.filename).toBe('');
    expect(contentDisposition(m.filename)).toBe(`attachment; filename="file"; filename*=UTF-8''file`);
  });

  it('treats a Files API file without downloadable:true as not downloadable', () => {
    const base = { id: 'file_a', type: 'file', created_at: 'x', filename: 'f', mime_type: 'text/plain', size_bytes: 1 };
    expect(normaliseMetadata('file_a', 'files_api', base).downloadable).toBe(false);
    expect(normaliseMetadata('file_a', 'files_api', { ...base, downloadable: true }).downloadable).toBe(true);
  });

  it(
    'puts created_at in canonical form, keeps one that does not parse ' + 'verbatim as evidence, drops a non-string',
    () => {
      const gen = { id: 'claude_gen_file_a', claude_chat_id: 'claude_chat_c', filename: 'f', md5: null, size_bytes: 1 };
      const createdAt = (created_at: unknown) =>
        normaliseMetadata('claude_gen_file_a', 'generated', { ...gen, created_at }).createdAt;
      expect(createdAt('2025-06-01T00:00:00.5+02:00')).toBe('2025-05-31T22:00:00.500Z');
      expect(createdAt(`2025-06-01T00:00:00.${'7'.repeat(60)}+00:00`)).toBe('2025-06-01T00:00:00.777Z');
      // Not a timestamp: kept as upstream said it; it never reaches a key (the file sorts by its archive time).
      expect(createdAt('2025-06-01T00:00:00Z#F#x')).toBe('2025-06-01T00:00:00Z#F#x');
      expect(createdAt('Mon, 02 Jun 2025 09:15:00 GMT')).toBe('Mon, 02 Jun 2025 09:15:00 GMT');
      expect(createdAt('bad\ud800')).toBe('bad\ufffd');
      expect(createdAt(1749000000)).toBeNull();
      expect(createdAt('x'.repeat(257))).toBeNull();
    },
  );

  it('rejects metadata for another id, a hostile chat id, or a wrong type', () => {
    const gen = { id: 'claude_gen_file_a', claude_chat_id: 'claude_chat_c', filename: 'f', md5: null, size_bytes: 1 };
    expect(() => normaliseMetadata('claude_gen_file_b', 'generated', gen)).toThrow();
    expect(() => normaliseMetadata('claude_gen_file_a', 'generated', { ...gen, claude_chat_id: '../x' })).toThrow();
    expect(() => normaliseMetadata('claude_gen_file_a', 'generated', { ...gen, size_bytes: '1' })).toThrow();
  });
});
