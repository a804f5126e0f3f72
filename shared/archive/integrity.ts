import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { IntegrityError } from '../platform/errors.js';
import { combineCrc32, crc32, crc32ToBase64 } from './crc32.js';

export interface Digests {
  bytes: number;
  md5Hex: string;
  md5Base64: string;
  sha256Hex: string;
  /**
   * CRC-32 of the whole object, base64 of its four big-endian bytes: the FULL_OBJECT checksum S3
   * verifies when the object is written and keeps with it (HeadObject with ChecksumMode ENABLED,
   * GetObjectAttributes), so a later fixity audit can compare it with the record without a download.
   */
  crc32Base64: string;
}

/** MD5, SHA-256 and CRC-32 of a stream read in chunks (the read-back of an existing object). */
export class IntegrityMeter {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  private crc = 0;
  private count = 0;

  /** `chunkCrc`: the chunk's own CRC-32 when the caller has it already (combined, not computed again). */
  update(chunk: Uint8Array, chunkCrc?: number): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.crc = chunkCrc === undefined ? crc32(chunk, this.crc) : combineCrc32(this.crc, chunkCrc, chunk.byteLength);
    this.count += chunk.byteLength;
  }

  get bytes(): number {
    return this.count;
  }

  digest(): Digests {
    const md5 = this.md5.digest();
    return {
      bytes: this.count,
      md5Hex: md5.toString('hex'),
      md5Base64: md5.toString('base64'),
      sha256Hex: this.sha256.digest('hex'),
      crc32Base64: crc32ToBase64(this.crc),
    };
  }
}

/**
 * What upstream published about the bytes. The size must match when published. `Content-MD5` is the
 * authority on the bytes served when present; the metadata `md5` is checked only when it is absent
 * (upstream documents the header as authoritative where the two disagree).
 */
export interface ExpectedIntegrity {
  sizeBytes: number | null;
  /** `Content-MD5` header: base64 of the MD5 over the exact bytes served. */
  contentMd5Base64: string | undefined;
  /** The metadata `md5`, lowercase hex. */
  metadataMd5Hex: string | null;
}

/** Decodes an RFC 1864 Content-MD5 value to lowercase hex; undefined when it is not 16 bytes of base64. */
export function contentMd5ToHex(value: string): string | undefined {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]{22}==$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'base64').toString('hex');
}

/** Throws IntegrityError on the first check the received bytes fail; the size is checked first. */
export function verifyIntegrity(expected: ExpectedIntegrity, actual: Digests): void {
  if (expected.sizeBytes !== null && expected.sizeBytes !== actual.bytes) {
    throw new IntegrityError('size', String(expected.sizeBytes), String(actual.bytes));
  }
  if (expected.contentMd5Base64 !== undefined) {
    const hex = contentMd5ToHex(expected.contentMd5Base64);
    if (hex !== actual.md5Hex) {
      throw new IntegrityError('content-md5', hex ?? 'a valid Content-MD5 header', actual.md5Hex);
    }
    return;
  }
  if (expected.metadataMd5Hex !== null && expected.metadataMd5Hex !== actual.md5Hex) {
    throw new IntegrityError('metadata-md5', expected.metadataMd5Hex, actual.md5Hex);
  }
}
