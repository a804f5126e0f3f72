import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FileIdSchema } from '../../shared/contracts/ids.js';
import { sampleBacklog } from '../../local/sample-backlog.js';
import { drawSamplePng, SAMPLE_CHATS, sampleChatFacts, sampleFiles, sampleProjects } from '../../local/sample-data.js';
import { UpstreamProjects } from '../../local/upstream/projects.js';
import { FileCatalogue } from '../../local/upstream/catalogue.js';

describe('sample data for npm start', () => {
  it(
    'covers every case the brief lists: chats with generated files, ' +
      'a shared upload, both Files API kinds, a multi-MB file',
    () => {
      const files = sampleFiles();
      const generated = files.filter((f) => f.source === 'generated');
      expect(new Set(generated.map((f) => f.chatId)).size).toBeGreaterThanOrEqual(2);
      expect(generated.map((f) => f.mimeType)).toEqual(expect.arrayContaining(['text/plain', 'text/csv', 'image/png']));
      expect(generated.some((f) => !Buffer.isBuffer(f.content) && f.content.size >= 5 * 1024 * 1024)).toBe(true);
      expect(files.some((f) => f.source === 'uploaded' && f.chatIds.length === 2)).toBe(true);
      const filesApi = files.filter((f) => f.source === 'files_api');
      expect(filesApi.map((f) => f.downloadable).sort()).toEqual([false, true]);
      expect(new Set(files.map((f) => f.id)).size).toBe(files.length);
      expect(Object.values(SAMPLE_CHATS)).toContain('claude_chat_01SampleQuarterlyReview');
    },
  );

  it('holds a backlog that pages: several hundred chats, some soft-deleted, upload and deletion activities', () => {
    const backlog = sampleBacklog();
    const chats = new Set(
      backlog.files.flatMap((f) => (f.source === 'generated' ? [f.chatId] : f.source === 'uploaded' ? f.chatIds : [])),
    );
    expect(chats.size).toBeGreaterThanOrEqual(300);
    expect(backlog.chatFacts.length).toBeGreaterThanOrEqual(10);
    for (const [chatId, facts] of backlog.chatFacts) {
      expect(chats.has(chatId)).toBe(true);
      expect(facts.deletedAt).toMatch(/Z$/);
    }
    const uploaded = backlog.files.filter((f) => f.source === 'uploaded').map((f) => f.id);
    const uploads = backlog.activities.filter((a) => a.type === 'claude_file_uploaded').map((a) => a.claude_file_id);
    expect(uploads.sort()).toEqual(uploaded.sort());
    const types = new Set(backlog.activities.map((a) => a.type));
    expect([...types].sort()).toEqual(['claude_chat_deleted', 'claude_file_deleted', 'claude_file_uploaded']);
    const ids = [
      ...backlog.files.map((f) => f.id),
      ...backlog.activities.map((a) => a.id),
      ...sampleFiles().map((f) => f.id),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    for (const f of backlog.files) expect(FileIdSchema.safeParse(f.id).success).toBe(true);
  });

  it(
    'holds projects with an attached uploaded file and documents, ' +
      'one project deleted in the app, one creator gone',
    () => {
      const projects = sampleProjects();
      const files = new Map(sampleFiles().map((f) => [f.id, f]));
      const attached = projects.flatMap((p) => p.fileIds ?? []);
      expect(attached.length).toBeGreaterThan(0);
      for (const id of attached) expect(files.get(id)?.source).toBe('uploaded');
      const documents = projects.flatMap((p) => p.documents ?? []);
      expect(documents.length).toBeGreaterThanOrEqual(2);
      for (const d of documents) expect(FileIdSchema.safeParse(d.id).success).toBe(true);
      expect(documents.some((d) => d.userId === null)).toBe(true);
      expect(projects.some((p) => p.deletedAt)).toBe(true);
      // Every project is one the sample upstream accepts (ids checked as upstream's would be).
      const upstream = new UpstreamProjects(new FileCatalogue());
      for (const p of projects) expect(() => upstream.set(p)).not.toThrow();
      expect(sampleChatFacts().map(([, f]) => f.projectId)).toEqual([projects[0]?.id]);
    },
  );

  it('draws a structurally valid PNG (signature, IHDR size, IDAT inflating to the scanlines, IEND)', () => {
    const png = drawSamplePng(4, 3);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(4);
    expect(png.readUInt32BE(20)).toBe(3);
    const idatLength = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
    expect(inflateSync(png.subarray(41, 41 + idatLength))).toHaveLength(3 * (1 + 4 * 3));
    expect(png.subarray(-8, -4).toString('ascii')).toBe('IEND');
  });
});
