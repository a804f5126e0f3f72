import { describe, expect, it } from 'vitest';
import { S3UrlSigner } from '../../shared/archive/s3-url-signer.js';
import { recordCallsOf, takeUncheckedCalls } from '../support/permissions/aws-call-recorder.js';

// The lookup signs its download URLs without an S3 client (shared/archive/s3-url-signer.ts), so no
// SDK middleware sees them: the recorder must still count each as the S3 GetObject its URL makes,
// or the deployed grants checks would never check the lookup role's read of the archive.

describe('recordCallsOf on the in-process URL signer', () => {
  it('records each presigned URL as a GetObject by the principal, on the bound bucket', async () => {
    // Arrange
    const signer = new S3UrlSigner({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const bindings = { buckets: { 'test-bucket': 'archiveBucket' as const } };
    recordCallsOf(signer, 'lookup', bindings);
    takeUncheckedCalls();

    // Act
    await signer.presignGetObject({ Bucket: 'test-bucket', Key: 'files/k', VersionId: 'v1' }, 60);

    // Assert
    expect(takeUncheckedCalls()).toEqual([
      {
        principal: 'lookup',
        service: 'S3',
        operation: 'GetObject',
        target: { Bucket: 'test-bucket', Key: 'files/k', VersionId: 'v1' },
        bindings,
        outcome: 'ok',
        via: undefined,
      },
    ]);
  });
});
