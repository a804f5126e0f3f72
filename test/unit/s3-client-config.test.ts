import { CompleteMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../shared/platform/aws-clients.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

interface SignedRequest {
  protocol: string;
  hostname: string;
  headers: Record<string, string>;
}

class Captured extends Error {
  constructor(readonly request: SignedRequest) {
    super('captured');
  }
}

/**
 * Sends `command` through the client's whole middleware stack, signing included, and returns the signed request instead
 * of sending it.
 */
async function signedRequestOf(s3: S3Client, send: (s3: S3Client) => Promise<unknown>): Promise<SignedRequest> {
  const capture: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = () => async (args) => {
    throw new Captured(args.request as SignedRequest);
  };
  s3.middlewareStack.addRelativeTo(capture, {
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
    name: 'captureSignedRequest',
    override: true,
  });
  try {
    await send(s3);
  } catch (err) {
    if (err instanceof Captured) return err.request;
    throw err;
  } finally {
    s3.destroy();
  }
  throw new Error('the request was sent');
}

const part = {
  Bucket: 'archive',
  Key: 'archive/generated/f',
  UploadId: 'u1',
  PartNumber: 1,
  Body: Buffer.from('part bytes'),
  ChecksumAlgorithm: 'CRC32' as const,
  ChecksumCRC32: 'AAAAAA==',
};
const signedHeaders = (r: SignedRequest) =>
  /SignedHeaders=([^,]+)/.exec(r.headers['authorization'] ?? '')?.[1]?.split(';') ?? [];
const SHA256_HEX = /^[0-9a-f]{64}$/;

describe('one S3 client configuration for AWS, the local stack and the tests', () => {
  it(
    'computes checksums only where S3 requires them and validates ' +
      'responses only when asked, with or without an endpoint',
    async () => {
      for (const s3 of [
        createS3Client({ region: 'eu-west-1' }),
        createS3Client({ endpoint: 'http://127.0.0.1:9000' }),
      ]) {
        expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
        expect(await s3.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
        expect(s3.middlewareStack.identify()).toContain(
          'unsignedPayloadWhenChecksummed - before httpSigningMiddleware',
        );
        s3.destroy();
      }
      // Path-style only for an endpoint override: `bucket.127.0.0.1` does not resolve.
      expect(createS3Client({ region: 'eu-west-1' }).config.forcePathStyle).toBe(false);
      expect(createS3Client({ endpoint: 'http://127.0.0.1:9000' }).config.forcePathStyle).toBe(true);
    },
  );

  it('in AWS (TLS): a part goes with its own CRC-32 only, unsigned payload, the checksum header signed', async () => {
    const r = await signedRequestOf(createS3Client({ region: 'eu-west-1', credentials }), (s3) =>
      s3.send(new UploadPartCommand(part)),
    );

    expect(r.protocol).toBe('https:');
    expect(r.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(r.headers['x-amz-checksum-crc32']).toBe('AAAAAA==');
    expect(Object.keys(r.headers).filter((h) => /^x-amz-checksum-|^content-md5$/i.test(h))).toEqual([
      'x-amz-checksum-crc32',
    ]);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(signedHeaders(r)).toEqual(expect.arrayContaining(['x-amz-checksum-crc32', 'x-amz-content-sha256']));
  });

  it(
    'keeps the payload signed where no checksum covers it: CompleteMultipartUpload, ' + 'and a PutObject without one',
    async () => {
      const complete = await signedRequestOf(createS3Client({ region: 'eu-west-1', credentials }), (s3) =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'archive',
            Key: 'k',
            UploadId: 'u1',
            ChecksumType: 'FULL_OBJECT',
            ChecksumCRC32: 'AAAAAA==',
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"e"', ChecksumCRC32: 'AAAAAA==' }] },
          }),
        ),
      );
      // Its x-amz-checksum-crc32 is the object's, not a checksum of this XML body.
      expect(complete.headers['x-amz-content-sha256']).toMatch(SHA256_HEX);

      const bare = await signedRequestOf(createS3Client({ region: 'eu-west-1', credentials }), (s3) =>
        s3.send(new PutObjectCommand({ Bucket: 'archive', Key: 'k', Body: 'x' })),
      );
      expect(bare.headers['x-amz-content-sha256']).toMatch(SHA256_HEX);
    },
  );

  it('leaves a checksummed body unsigned over plain HTTP only to a loopback server', async () => {
    const local = await signedRequestOf(createS3Client({ endpoint: 'http://127.0.0.1:9000', credentials }), (s3) =>
      s3.send(new UploadPartCommand(part)),
    );
    expect(local.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');

    const remote = await signedRequestOf(
      createS3Client({ endpoint: 'http://s3.internal.example:9000', credentials }),
      (s3) => s3.send(new UploadPartCommand(part)),
    );
    expect(remote.headers['x-amz-content-sha256']).toMatch(SHA256_HEX);
  });
});
