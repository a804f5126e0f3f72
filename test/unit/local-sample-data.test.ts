import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../shared/contracts/job.js';
import { drawSamplePng, SAMPLE_CHATS, sampleFiles, sampleJobs } from '../../local/sample-data.js';

describe('sample data for npm start', () => {
  it('covers every case the brief lists: chats with generated files, a shared upload, both Files API kinds, a multi-MB file', () => {
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
  });

  it('enqueues one valid job per file; some carry chat id and complete metadata, some only the file id', () => {
    const files = sampleFiles();
    const jobs = sampleJobs().map((body) => parseJob(body));
    expect(jobs).toHaveLength(files.length);
    const parsed = jobs.map((j) => {
      if (!j.ok) throw new Error(j.reason);
      return j.job;
    });
    expect(parsed.map((j) => j.fileId)).toEqual(files.map((f) => f.id));
    const carried = parsed.filter((j) => j.file !== undefined);
    expect(carried.length).toBeGreaterThan(0);
    for (const job of carried) {
      expect(job.chatId).toMatch(/^claude_chat_/);
      expect(job.file).toMatchObject({ md5: expect.stringMatching(/^[0-9a-f]{32}$/), size_bytes: expect.any(Number) });
    }
    expect(parsed.some((j) => j.file === undefined && j.chatId === undefined)).toBe(true);
  });

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
