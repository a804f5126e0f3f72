import { describe, expect, it } from 'vitest';
import { MAX_PARTS, MIN_PART_BYTES, choosePartSize } from '../../shared/archive/verified-writer.js';

const MIB = 1024 * 1024;

describe('choosePartSize', () => {
  it('uses the default part size for unknown and ordinary sizes', () => {
    expect(choosePartSize(null, 8 * MIB)).toBe(8 * MIB);
    expect(choosePartSize(500 * MIB, 8 * MIB)).toBe(8 * MIB);
  });

  it('never goes below the S3 minimum of 5 MiB', () => {
    expect(choosePartSize(1, 1 * MIB)).toBe(MIN_PART_BYTES);
  });

  it('grows in whole MiB so that 10,000 parts always hold a known size', () => {
    for (const size of [80 * 1024 * MIB + 1, 200 * 1024 * MIB, 3 * 1024 * 1024 * MIB]) {
      const part = choosePartSize(size, 8 * MIB);
      expect(part % MIB).toBe(0);
      expect(part * MAX_PARTS).toBeGreaterThanOrEqual(size);
    }
  });
});
