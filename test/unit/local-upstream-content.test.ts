import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestContent, readContent } from '../../local/upstream/content.js';

const concat = (content: Parameters<typeof readContent>[0], limit?: number): Buffer =>
  Buffer.concat([...readContent(content, limit)]);

describe('generated upstream content', () => {
  it('is deterministic for a seed, differs across seeds, and has exactly the requested size', () => {
    const a = concat({ size: 300_000, seed: 7 });
    const again = concat({ size: 300_000, seed: 7 });
    const other = concat({ size: 300_000, seed: 8 });
    expect(a.length).toBe(300_000);
    expect(a.equals(again)).toBe(true);
    expect(a.equals(other)).toBe(false);
  });

  it('is not trivially compressible (so size checks and hashes are meaningful)', () => {
    const bytes = concat({ size: 65_536, seed: 1 });
    expect(new Set(bytes).size).toBeGreaterThan(250);
  });

  it('yields a prefix of the same bytes when limited (what truncate and reset serve)', () => {
    const full = concat({ size: 600_000, seed: 3 });
    const prefix = concat({ size: 600_000, seed: 3 }, 333_333);
    expect(prefix.equals(full.subarray(0, 333_333))).toBe(true);
  });

  it('comes in chunks of at most 256 KiB, so 1 GB is never held at once', () => {
    const sizes = [...readContent({ size: 1024 * 1024 + 5, seed: 2 })].map((c) => c.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1024 * 1024 + 5);
  });
});

describe('digestContent', () => {
  it('matches hashes computed independently over the bytes readContent yields', async () => {
    const spec = { size: 777_777, seed: 11 };
    const bytes = concat(spec);
    const digest = await digestContent(spec);
    const md5 = createHash('md5').update(bytes).digest();
    expect(digest).toEqual({
      sizeBytes: 777_777,
      md5Hex: md5.toString('hex'),
      md5Base64: md5.toString('base64'),
      sha256Hex: createHash('sha256').update(bytes).digest('hex'),
    });
  });

  it('hashes a buffer as is', async () => {
    const digest = await digestContent(Buffer.from('hello world'));
    expect(digest.md5Hex).toBe('5eb63bbbe01eeed093cb22bb8f5acdc3');
    expect(digest.sizeBytes).toBe(11);
  });
});
