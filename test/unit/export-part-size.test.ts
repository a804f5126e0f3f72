import { describe, expect, it } from 'vitest';
import { MIN_PART_BYTES, partSizeFor } from '../../shared/export/export-run.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** S3's most parts in one multipart upload (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
const MAX_PARTS = 10_000;

function capacity(partBytes: number): number {
  let bytes = 0;
  for (let n = 1; n <= MAX_PARTS; n++) bytes += partSizeFor(n, partBytes);
  return bytes;
}

describe("the export bag's part sizes", () => {
  it('keep the configured size for the first 1,000 parts, then double every 1,000 up to 64 MiB', () => {
    expect(partSizeFor(1, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(1000, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(1001, 8 * MiB)).toBe(16 * MiB);
    expect(partSizeFor(2001, 8 * MiB)).toBe(32 * MiB);
    expect(partSizeFor(3001, 8 * MiB)).toBe(64 * MiB);
    expect(partSizeFor(MAX_PARTS, 8 * MiB)).toBe(64 * MiB);
    // A configured size above the cap is kept as it is.
    expect(partSizeFor(5000, 64 * MiB)).toBe(64 * MiB);
  });

  it('let a bag of several hundred GiB fit in 10,000 parts from any configured size, none below S3 minimum', () => {
    for (const partBytes of [5 * MiB, 8 * MiB, 16 * MiB, 64 * MiB]) {
      expect(capacity(partBytes)).toBeGreaterThan(400 * GiB);
      for (let n = 1; n <= MAX_PARTS; n += 499)
        expect(partSizeFor(n, partBytes)).toBeGreaterThanOrEqual(MIN_PART_BYTES);
    }
    // Fixed 8 MiB parts would have stopped at 78 GiB.
    expect(MAX_PARTS * 8 * MiB).toBeLessThan(80 * GiB);
  });
});
