import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { readByteStream } from '../platform/byte-stream.js';
import { IntegrityError } from '../platform/errors.js';
import type { StoredObject } from './archive-store.js';
import { crc32, crc32ToBase64 } from './crc32.js';
import { verifyIntegrity } from './integrity.js';
import type { Digests, ExpectedIntegrity } from './integrity.js';
import { MAX_PARTS, MultipartUpload } from './multipart-upload.js';
import type { ObjectTarget } from './multipart-upload.js';
import { PartHasher } from './part-hasher.js';
import type { EvidenceHashes } from './part-hasher.js';

export { MAX_PARTS };
export type { ObjectTarget };

const MIB = 1024 * 1024;
export const MIN_PART_BYTES = 5 * MIB;
export const MAX_PART_BYTES = 5 * 1024 * MIB;

/**
 * Part size for a body of `sizeBytes` (null when unknown): the default, raised in whole MiB when the
 * file is so large that 10,000 parts of the default size would not hold it.
 */
export function choosePartSize(sizeBytes: number | null, defaultPartBytes: number): number {
  const floor = Math.max(MIN_PART_BYTES, defaultPartBytes);
  if (sizeBytes === null) return floor;
  const needed = Math.ceil(sizeBytes / MAX_PARTS / MIB) * MIB;
  return Math.min(MAX_PART_BYTES, Math.max(floor, needed));
}

export interface WriterDeps {
  s3: S3Client;
  defaultPartBytes: number;
  /** Parts in flight at once; one file holds up to (concurrency + 1) part buffers (in flight, being filled). */
  concurrency: number;
  /** Told when an incomplete upload could not be aborted (the bucket's lifecycle rule removes it). */
  onAbortFailure?: (err: unknown) => void;
}

/**
 * Streams `body` into S3 while hashing and counting it, and makes the object visible only when the
 * bytes match what upstream published.
 *
 * Each byte is copied once, from the arriving chunk into a part buffer; part buffers are reused, so
 * memory is (concurrency + 1) part buffers whatever the file size. MD5 and SHA-256 (the evidence) and
 * CRC-32 (S3's check) are computed over the part buffers as sent. A body that fits in one part goes
 * as one PutObject carrying Content-MD5 and x-amz-checksum-crc32, both checked by S3. A larger body
 * goes as a multipart upload whose parts carry their CRC-32 and whose completion carries the
 * FULL_OBJECT CRC-32 and the size, all checked by S3; it is completed only after the MD5 and size
 * match upstream's, and aborted on any failure: a corrupt or truncated file never becomes an object.
 */
export async function writeVerifiedObject(
  body: AsyncIterable<Uint8Array>,
  target: ObjectTarget,
  expected: ExpectedIntegrity,
  signal: AbortSignal,
  deps: WriterDeps,
): Promise<StoredObject> {
  const partBytes = choosePartSize(expected.sizeBytes, deps.defaultPartBytes);
  const spare: Buffer[] = [];
  const hasher = new PartHasher();
  const upload = new MultipartUpload(target, deps.s3, signal, Math.max(1, deps.concurrency), hasher, (bytes) => {
    if (bytes.byteLength === partBytes && Buffer.isBuffer(bytes)) spare.push(bytes);
  });
  // A body known to be smaller than a part gets a buffer of its own size.
  let part: Buffer = Buffer.allocUnsafeSlow(
    expected.sizeBytes === null ? partBytes : Math.min(partBytes, expected.sizeBytes),
  );
  let filled = 0;
  let received = 0;

  /** Copies `chunk` from `offset` on into part buffers; a promise when it had to wait for a part to go. */
  const copyIn = (chunk: Uint8Array, offset: number): Promise<void> | undefined => {
    while (offset < chunk.byteLength) {
      if (filled === part.byteLength) {
        // Full, and more bytes follow: not the last part. Sent only now, so that a body of exactly
        // one part goes as a PutObject.
        const full = part;
        const from = offset;
        return upload.sendPart(full).then(() => {
          part = spare.pop() ?? Buffer.allocUnsafeSlow(partBytes);
          filled = 0;
          return copyIn(chunk, from);
        });
      }
      const n = Math.min(chunk.byteLength - offset, part.byteLength - filled);
      part.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
    }
    return undefined;
  };

  try {
    await readByteStream(body, (chunk) => {
      signal.throwIfAborted();
      received += chunk.byteLength;
      // Stop reading as soon as the body is longer than published: never download without bound.
      if (expected.sizeBytes !== null && received > expected.sizeBytes) {
        throw new IntegrityError('size', String(expected.sizeBytes), `more than ${expected.sizeBytes}`);
      }
      return copyIn(chunk, 0);
    });
    signal.throwIfAborted();

    if (!upload.started) return await putWhole(part.subarray(0, filled), target, expected, signal, deps.s3);

    await upload.sendPart(part.subarray(0, filled));
    const parts = await upload.finishParts();
    const digests = toDigests(received, hasher.digest(), upload.crc32Base64);
    verifyIntegrity(expected, digests);
    const res = await upload.complete(parts);
    return { versionId: res.VersionId, etag: res.ETag, digests, parts: parts.length };
  } catch (err) {
    await upload.abort(deps.onAbortFailure);
    throw err;
  }
}

/** One PutObject for a body that fits in one part, verified before it is sent. */
async function putWhole(
  bytes: Buffer,
  target: ObjectTarget,
  expected: ExpectedIntegrity,
  signal: AbortSignal,
  s3: S3Client,
): Promise<StoredObject> {
  const hasher = new PartHasher();
  hasher.update(bytes);
  const digests = toDigests(bytes.byteLength, hasher.digest(), crc32ToBase64(crc32(bytes)));
  verifyIntegrity(expected, digests);
  const res = await s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentMD5: digests.md5Base64,
      ChecksumAlgorithm: 'CRC32',
      ChecksumCRC32: digests.crc32Base64,
      ContentType: target.contentType,
      ContentDisposition: target.contentDisposition,
      Metadata: target.metadata,
    }),
    { abortSignal: signal },
  );
  return { versionId: res.VersionId, etag: res.ETag, digests, parts: 0 };
}

function toDigests(bytes: number, hashes: EvidenceHashes, crc32Base64: string): Digests {
  return {
    bytes,
    md5Hex: hashes.md5.toString('hex'),
    md5Base64: hashes.md5.toString('base64'),
    sha256Hex: hashes.sha256.toString('hex'),
    crc32Base64,
  };
}
