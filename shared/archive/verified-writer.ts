import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { IntegrityError } from '../platform/errors.js';
import { IntegrityMeter, verifyIntegrity } from './integrity.js';
import type { ExpectedIntegrity } from './integrity.js';
import type { ArchiveObject, StoredObject } from './archive-store.js';

const MIB = 1024 * 1024;
export const MIN_PART_BYTES = 5 * MIB;
export const MAX_PART_BYTES = 5 * 1024 * MIB;
export const MAX_PARTS = 10_000;

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

export interface ObjectTarget extends ArchiveObject {
  bucket: string;
}

export interface WriterDeps {
  s3: S3Client;
  defaultPartBytes: number;
  /** Parts in flight at once; one file holds up to (concurrency + 2) × part size (in flight, being filled, its join). */
  concurrency: number;
  /** Told when an incomplete upload could not be aborted (the bucket's lifecycle rule removes it). */
  onAbortFailure?: (err: unknown) => void;
}

/**
 * Streams `body` into S3 while hashing and counting it, and makes the object visible only when the
 * bytes match what upstream published. Bodies smaller than one part are held in memory (one part at
 * most) and sent as one PutObject carrying Content-MD5, so S3 checks them again. Larger bodies go as a
 * multipart upload that is completed only after verification, and aborted on any failure: a corrupt
 * or truncated file never becomes an object.
 */
export async function writeVerifiedObject(
  body: AsyncIterable<Uint8Array>,
  target: ObjectTarget,
  expected: ExpectedIntegrity,
  signal: AbortSignal,
  deps: WriterDeps,
): Promise<StoredObject> {
  const partBytes = choosePartSize(expected.sizeBytes, deps.defaultPartBytes);
  const meter = new IntegrityMeter();
  const upload = new MultipartState(target, deps.s3, signal, Math.max(1, deps.concurrency));
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;

  try {
    for await (const chunk of body) {
      signal.throwIfAborted();
      meter.update(chunk);
      // Stop reading as soon as the body is longer than published: never download without bound.
      if (expected.sizeBytes !== null && meter.bytes > expected.sizeBytes) {
        throw new IntegrityError('size', String(expected.sizeBytes), `more than ${expected.sizeBytes}`);
      }
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      while (pendingBytes >= partBytes) {
        const joined = Buffer.concat(pending, pendingBytes);
        const part = joined.subarray(0, partBytes);
        const rest = joined.subarray(partBytes);
        pending = rest.byteLength > 0 ? [rest] : [];
        pendingBytes = rest.byteLength;
        await upload.sendPart(part);
      }
    }
    signal.throwIfAborted();

    if (!upload.started) {
      const digests = meter.digest();
      verifyIntegrity(expected, digests);
      const bodyBytes = Buffer.concat(pending, pendingBytes);
      const res = await deps.s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: target.key,
          Body: bodyBytes,
          ContentLength: bodyBytes.byteLength,
          ContentMD5: digests.md5Base64,
          ContentType: target.contentType,
          ContentDisposition: target.contentDisposition,
          Metadata: target.metadata,
        }),
        { abortSignal: signal },
      );
      return { versionId: res.VersionId, etag: res.ETag, digests, parts: 0 };
    }

    if (pendingBytes > 0) await upload.sendPart(Buffer.concat(pending, pendingBytes));
    pending = [];
    const parts = await upload.finishParts();
    const digests = meter.digest();
    verifyIntegrity(expected, digests);
    const res = await upload.complete(parts);
    return { versionId: res.VersionId, etag: res.ETag, digests, parts: parts.length };
  } catch (err) {
    await upload.abort(deps.onAbortFailure);
    throw err;
  }
}

/** The multipart upload of one object: parts in flight, bounded, and the first failure kept. */
class MultipartState {
  private uploadId: string | undefined;
  private partNumber = 0;
  private readonly completed: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly target: ObjectTarget,
    private readonly s3: S3Client,
    private readonly signal: AbortSignal,
    private readonly concurrency: number,
  ) {}

  get started(): boolean {
    return this.uploadId !== undefined;
  }

  async sendPart(bytes: Uint8Array): Promise<void> {
    this.rethrowFailure();
    this.partNumber += 1;
    if (this.partNumber > MAX_PARTS) throw new IntegrityError('too-many-parts', String(MAX_PARTS), String(this.partNumber));
    const uploadId = await this.ensureStarted();
    const partNumber = this.partNumber;
    const contentMd5 = createHash('md5').update(bytes).digest('base64');
    const sent = this.s3
      .send(
        new UploadPartCommand({
          Bucket: this.target.bucket,
          Key: this.target.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ContentMD5: contentMd5,
        }),
        { abortSignal: this.signal },
      )
      .then(
        (res) => {
          this.completed[partNumber - 1] = { PartNumber: partNumber, ETag: res.ETag };
        },
        (error: unknown) => {
          this.failure ??= { error };
        },
      );
    const tracked = sent.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    // Backpressure: the body is not read further while the part queue is full.
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    this.rethrowFailure();
  }

  async finishParts(): Promise<CompletedPart[]> {
    await Promise.all(this.inFlight);
    this.rethrowFailure();
    return this.completed.slice(0, this.partNumber);
  }

  async complete(parts: CompletedPart[]) {
    return this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: this.signal },
    );
  }

  /** Best effort: waits for parts in flight, then aborts with a fresh signal (the job's may be spent). */
  async abort(onFailure?: (err: unknown) => void): Promise<void> {
    if (this.uploadId === undefined) return;
    await Promise.allSettled(this.inFlight);
    try {
      await this.s3.send(
        new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId }),
        { abortSignal: AbortSignal.timeout(10_000) },
      );
    } catch (err) {
      onFailure?.(err);
    }
  }

  private async ensureStarted(): Promise<string> {
    if (this.uploadId !== undefined) return this.uploadId;
    const res = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        ContentType: this.target.contentType,
        ContentDisposition: this.target.contentDisposition,
        Metadata: this.target.metadata,
      }),
      { abortSignal: this.signal },
    );
    if (!res.UploadId) throw new Error('S3 returned no UploadId');
    this.uploadId = res.UploadId;
    return res.UploadId;
  }

  private rethrowFailure(): void {
    if (this.failure) throw this.failure.error;
  }
}
