/**
 * CRC-32 (the zlib / ISO-HDLC polynomial, S3's `CRC32` checksum algorithm) for the archive writer.
 * Node computes it natively (`zlib.crc32`); this module adds what Node lacks: combining the CRCs of
 * consecutive byte ranges into the CRC of their concatenation without reading the bytes again,
 * which is how a multipart upload's FULL_OBJECT checksum follows from the checksums of its parts.
 */
import { crc32 } from 'node:zlib';

export { crc32 };

/** The reflected CRC-32 polynomial. */
const POLY = 0xedb88320;

/** a(x) · b(x) modulo the CRC polynomial, in the reflected bit order CRC-32 uses (zlib's multmodp). */
function multiplyModP(a: number, b: number): number {
  let m = 0x80000000;
  let product = 0;
  let factor = b >>> 0;
  for (;;) {
    if ((a & m) !== 0) {
      product ^= factor;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    if (m === 0) break;
    factor = factor & 1 ? (factor >>> 1) ^ POLY : factor >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..31 (zlib's x2n_table). */
const X2N: readonly number[] = (() => {
  const table: number[] = [];
  let p = 0x40000000; // x^1
  for (let k = 0; k < 32; k++) {
    table.push(p);
    p = multiplyModP(p, p);
  }
  return table;
})();

/** x^(8·bytes) modulo the polynomial: the operator that shifts a CRC past `bytes` zero bytes. */
function shiftOperator(bytes: number): number {
  let p = 0x80000000; // x^0
  let k = 3; // 8 bits per byte: start at x^(2^3)
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) p = multiplyModP(X2N[k % 32] ?? 0, p);
  }
  return p;
}

/**
 * Shift operators of recent lengths: a stream's chunks mostly come in a few sizes (the socket's reads),
 * so the export, which combines a CRC per chunk, computes each operator once. Bounded: cleared when full.
 */
const shiftCache = new Map<number, number>();
const SHIFT_CACHE_SIZE = 256;

function cachedShiftOperator(bytes: number): number {
  let op = shiftCache.get(bytes);
  if (op === undefined) {
    if (shiftCache.size >= SHIFT_CACHE_SIZE) shiftCache.clear();
    op = shiftOperator(bytes);
    shiftCache.set(bytes, op);
  }
  return op;
}

/**
 * The CRC-32 of A followed by B, given crc32(A), crc32(B) and B's length in bytes (zlib's
 * crc32_combine). Costs about 32 × log2(length) bit steps, independent of the bytes (one
 * multiplication when the length's operator is cached), far less than reading B again.
 */
export function combineCrc32(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`invalid length ${lengthB}`);
  return (multiplyModP(cachedShiftOperator(lengthB), crcA) ^ crcB) >>> 0;
}

/** A CRC-32 as S3 writes it in `x-amz-checksum-crc32`: the four big-endian bytes, base64. */
export function crc32ToBase64(crc: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0);
  return bytes.toString('base64');
}
