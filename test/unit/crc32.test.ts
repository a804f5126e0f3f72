import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { combineCrc32, crc32ToBase64 } from '../../shared/archive/crc32.js';

const GIB = 1024 ** 3;

describe('CRC-32 for S3 FULL_OBJECT checksums', () => {
  it('writes a CRC as S3 does: base64 of the four big-endian bytes', () => {
    // crc32("hello") = 0x3610a686.
    expect(crc32ToBase64(crc32('hello'))).toBe('NhCmhg==');
    expect(crc32ToBase64(0)).toBe('AAAAAA==');
  });

  it('combines the CRCs of two byte ranges into the CRC of their concatenation (zlib crc32_combine)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        expect(combineCrc32(crc32(a), crc32(b), b.byteLength)).toBe(crc32(Buffer.concat([a, b])));
      }),
      { numRuns: 300 },
    );
  });

  it('folds the CRCs of any split into parts back into the CRC of the whole', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 20_000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (bytes, cuts) => {
          const points = [...new Set(cuts.map((c) => c % bytes.byteLength))].sort((x, y) => x - y);
          const bounds = [0, ...points, bytes.byteLength];
          let combined = 0;
          for (let i = 0; i + 1 < bounds.length; i++) {
            const part = bytes.subarray(bounds[i], bounds[i + 1]);
            combined = i === 0 ? crc32(part) : combineCrc32(combined, crc32(part), part.byteLength);
          }
          expect(combined).toBe(crc32(bytes));
        },
      ),
    );
  });

  it('handles part lengths beyond 32 bits (S3 parts reach 5 GiB): combining is associative at any length', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const length = fc.integer({ min: 0, max: 5 * GIB });
    fc.assert(
      fc.property(u32, u32, u32, length, length, (x, y, z, m, n) => {
        expect(combineCrc32(combineCrc32(x, y, m), z, n)).toBe(combineCrc32(x, combineCrc32(y, z, n), m + n));
      }),
    );
    // Appending no bytes leaves a CRC unchanged.
    expect(combineCrc32(0x3610a686, 0, 0)).toBe(0x3610a686);
  });

  it('refuses a length that is not a whole number of bytes', () => {
    expect(() => combineCrc32(1, 2, -1)).toThrow(RangeError);
    expect(() => combineCrc32(1, 2, 1.5)).toThrow(RangeError);
  });
});
