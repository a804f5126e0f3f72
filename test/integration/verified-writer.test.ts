import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket } from '../../local/aws/resources.js';
import { createS3Client } from '../../shared/platform/aws-clients.js';
import { writeVerifiedObject } from '../../shared/archive/verified-writer.js';
import { DeadlineError } from '../../shared/platform/errors.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';
import { startS3WriteCounter } from '../support/s3-write-counter.js';
import type { S3WriteCounter } from '../support/s3-write-counter.js';

const MIB = 1024 * 1024;
let aws: LocalAwsFixture;
let wire: S3WriteCounter;
let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  aws = localAwsFromInject();
  bucket = uniqueName('writer');
  await ensureBucket(aws.s3, bucket);
  // fauxqs, observed through a loopback proxy: it never lists open multipart uploads itself.
  wire = await startS3WriteCounter(aws.s3Endpoint);
  s3 = createS3Client({ endpoint: wire.endpoint, region: aws.region });
});
afterAll(async () => {
  s3.destroy();
  await wire.close();
  aws.destroy();
});

/** Yields `bytes`, then stalls as a hung upstream does; `onStall` runs once the stall begins. */
async function* stallingBody(bytes: number, signal: AbortSignal, onStall: () => void): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < bytes; sent += MIB) yield Buffer.alloc(MIB, sent / MIB);
  onStall();
  await new Promise((_resolve, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
  );
}

describe('writeVerifiedObject against a real S3 server', () => {
  it('aborts the multipart upload when the deadline fires mid-stream: no object, no open upload', async () => {
    const controller = new AbortController();
    const key = 'archive/generated/claude_gen_file_01deadline';
    // The deadline fires while the body is stalled after two parts were sent.
    const body = stallingBody(12 * MIB, controller.signal, () =>
      setTimeout(() => controller.abort(new DeadlineError()), 50),
    );

    const write = writeVerifiedObject(
      body,
      { bucket, key, contentType: 'application/octet-stream', contentDisposition: 'attachment', metadata: {} },
      { sizeBytes: 20 * MIB, contentMd5Base64: undefined, metadataMd5Hex: null },
      controller.signal,
      { s3, defaultPartBytes: 5 * MIB, concurrency: 2 },
    );

    await expect(write).rejects.toBeInstanceOf(DeadlineError);
    expect(wire.createdUploads(bucket)).toBe(1);
    expect(wire.openUploads(bucket)).toBe(0);
    expect(wire.commits(bucket, key)).toBe(0);
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('stops reading a body longer than its published size instead of downloading without bound', async () => {
    let yielded = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        yielded += MIB;
        yield Buffer.alloc(MIB);
      }
    }
    const write = writeVerifiedObject(
      endless(),
      {
        bucket,
        key: 'archive/uploaded/claude_file_01endless',
        contentType: 'text/plain',
        contentDisposition: 'attachment',
        metadata: {},
      },
      { sizeBytes: 3 * MIB, contentMd5Base64: undefined, metadataMd5Hex: null },
      new AbortController().signal,
      { s3, defaultPartBytes: 5 * MIB, concurrency: 2 },
    );
    await expect(write).rejects.toMatchObject({ name: 'IntegrityError', check: 'size' });
    expect(yielded).toBe(4 * MIB);
  });
});
