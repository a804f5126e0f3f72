/**
 * The multipart upload of one object, as the verified writer drives it: parts sent in order with a
 * bounded number in flight, each carrying its CRC-32 (`x-amz-checksum-crc32`), and a FULL_OBJECT
 * CRC-32 of the whole object handed to CompleteMultipartUpload, which S3 checks against the parts it
 * stored before the object becomes visible. The checksum algorithm is CRC32 at every step (create,
 * parts, complete): S3 refuses a part or a completion whose algorithm differs from the upload's.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, CompleteMultipartUploadCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { IntegrityError } from '../platform/errors.js';
import { combineCrc32, crc32, crc32ToBase64 } from './crc32.js';
import type { ArchiveObject } from './archive-store.js';
import type { PartHasher } from './part-hasher.js';

export const MAX_PARTS = 10_000;

/** An object to write and the bucket it goes to. */
export interface ObjectTarget extends ArchiveObject {
  bucket: string;
}

export class MultipartUpload {
  private uploadId: string | undefined;
  private partNumber = 0;
  private bytesSent = 0;
  private crc = 0;
  private readonly completed: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly target: ObjectTarget,
    private readonly s3: S3Client,
    private readonly signal: AbortSignal,
    private readonly concurrency: number,
    private readonly hasher: PartHasher,
    /** Called with each part's bytes once its upload is over: the buffer may then be reused. */
    private readonly onPartDone: (bytes: Uint8Array) => void,
  ) {}

  get started(): boolean {
    return this.uploadId !== undefined;
  }

  /** The CRC-32 of every byte sent so far, as S3 computes the FULL_OBJECT checksum. */
  get crc32Base64(): string {
    return crc32ToBase64(this.crc);
  }

  /**
   * Hashes and sends the next part. Returns once fewer than `concurrency` parts are in flight
   * (backpressure: the body is not read further meanwhile); throws the first failure of any part.
   */
  async sendPart(bytes: Uint8Array): Promise<void> {
    this.rethrowFailure();
    this.partNumber += 1;
    if (this.partNumber > MAX_PARTS)
      throw new IntegrityError('too-many-parts', String(MAX_PARTS), String(this.partNumber));
    const partNumber = this.partNumber;
    const partCrc = crc32(bytes);
    this.crc = partNumber === 1 ? partCrc : combineCrc32(this.crc, partCrc, bytes.byteLength);
    this.bytesSent += bytes.byteLength;
    const checksum = crc32ToBase64(partCrc);
    this.hasher.update(bytes);
    let uploadId: string;
    try {
      uploadId = await this.ensureStarted();
    } catch (err) {
      this.onPartDone(bytes);
      throw err;
    }
    const sent = this.s3
      .send(
        new UploadPartCommand({
          Bucket: this.target.bucket,
          Key: this.target.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ChecksumAlgorithm: 'CRC32',
          ChecksumCRC32: checksum,
        }),
        { abortSignal: this.signal },
      )
      .then((res) => {
        this.completed[partNumber - 1] = { PartNumber: partNumber, ETag: res.ETag, ChecksumCRC32: checksum };
      });
    const tracked: Promise<void> = sent.then(
      () => this.partDone(tracked, bytes),
      (error: unknown) => {
        this.failure ??= { error };
        this.partDone(tracked, bytes);
      },
    );
    this.inFlight.add(tracked);
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    this.rethrowFailure();
  }

  private partDone(tracked: Promise<void>, bytes: Uint8Array): void {
    this.inFlight.delete(tracked);
    this.onPartDone(bytes);
  }

  /** Waits for every part; throws the first failure. */
  async finishParts(): Promise<CompletedPart[]> {
    await Promise.all(this.inFlight);
    this.rethrowFailure();
    return this.completed.slice(0, this.partNumber);
  }

  /**
   * Makes the object visible. S3 checks the FULL_OBJECT CRC-32 and the total size against the parts
   * it holds and refuses the completion (nothing becomes visible) when either differs.
   */
  complete(parts: CompletedPart[]): Promise<CompleteMultipartUploadCommandOutput> {
    return this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        ChecksumType: 'FULL_OBJECT',
        ChecksumCRC32: this.crc32Base64,
        MpuObjectSize: this.bytesSent,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: this.signal },
    );
  }

  /** Best effort: waits for parts in flight, then aborts with a fresh signal (the job's may be spent). */
  async abort(onFailure?: (err: unknown) => void): Promise<void> {
    await Promise.allSettled(this.inFlight);
    if (this.uploadId === undefined) return;
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
        ChecksumAlgorithm: 'CRC32',
        ChecksumType: 'FULL_OBJECT',
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
