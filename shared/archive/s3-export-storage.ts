/**
 * The exports bucket over S3, and reads of archived versions: what an export run needs of S3
 * (shared/export/ports.ts ExportStorage). The bag is one multipart upload whose parts carry their
 * CRC-32 and whose completion carries the FULL_OBJECT CRC-32 of the whole ZIP, which S3 checks
 * against the parts before the bag becomes visible
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html). A part
 * number sent again replaces the earlier part, which is what lets a resumed run re-send the parts
 * after its checkpoint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html).
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ExportStorage, UploadedPart } from '../export/ports.js';
import { crc32, crc32ToBase64 } from './crc32.js';

export class S3ExportStorage implements ExportStorage {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async readArchived(
    ref: { bucket: string; key: string; versionId: string | null },
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ...(ref.versionId ? { VersionId: ref.versionId } : {}),
      }),
      { abortSignal: signal },
    );
    if (!res.Body) throw new Error(`S3 returned no body for ${ref.key}`);
    return res.Body as AsyncIterable<Uint8Array>;
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.putBytes(key, Buffer.from(JSON.stringify(value), 'utf8'), 'application/json');
  }

  async getJson(key: string): Promise<unknown> {
    return JSON.parse(Buffer.from(await this.getBytes(key)).toString('utf8'));
  }

  async putBytes(key: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        ChecksumAlgorithm: 'CRC32',
        ChecksumCRC32: crc32ToBase64(crc32(bytes)),
      }),
    );
  }

  async getBytes(key: string): Promise<Uint8Array> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!res.Body) throw new Error(`S3 returned no body for ${key}`);
    return res.Body.transformToByteArray();
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async startUpload(key: string): Promise<string> {
    const res = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: 'application/zip',
        ChecksumAlgorithm: 'CRC32',
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    if (!res.UploadId) throw new Error('S3 returned no UploadId');
    return res.UploadId;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    bytes: Uint8Array,
    signal: AbortSignal,
    crc32Base64?: string,
  ): Promise<string> {
    const res = await this.s3.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ChecksumAlgorithm: 'CRC32',
        // The export run combines each part's CRC from the chunks it copied in: not read a second time here.
        ChecksumCRC32: crc32Base64 ?? crc32ToBase64(crc32(bytes)),
      }),
      { abortSignal: signal },
    );
    if (!res.ETag) throw new Error(`S3 returned no ETag for part ${partNumber}`);
    return res.ETag;
  }

  async completeUpload(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
    crc32Base64: string,
    size: number,
  ): Promise<void> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        ChecksumType: 'FULL_OBJECT',
        ChecksumCRC32: crc32Base64,
        MpuObjectSize: size,
        MultipartUpload: {
          Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ChecksumCRC32: p.crc32Base64 })),
        },
      }),
    );
  }

  async readObject(key: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    if (!res.Body) throw new Error(`S3 returned no body for ${key}`);
    return res.Body as AsyncIterable<Uint8Array>;
  }
}
