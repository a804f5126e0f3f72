import { once } from 'node:events';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { S3UrlSigner } from '../../shared/archive/s3-url-signer.js';
import { SecretsManagerReader } from '../../shared/platform/secrets-manager-reader.js';
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

// The functions read their secrets without a Secrets Manager client (shared/platform/secrets-manager-reader.ts):
// the recorder must still count each read as the GetSecretValue it is, and a refused one as failed,
// or the deployed grants checks would never see the functions' secret reads.

describe('recordCallsOf on the in-process secret reader', () => {
  it('records each read as a GetSecretValue by the principal on the secret, with how it ended', async () => {
    // Arrange: a loopback Secrets Manager answering once with the value, then with a refusal
    const answers = [
      { status: 200, body: { SecretString: 'value' } },
      { status: 400, body: { __type: 'AccessDeniedException', message: 'not authorized' } },
    ];
    const server = createServer((req, res) => {
      req.resume();
      const answer = answers.shift();
      res.writeHead(answer?.status ?? 500, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer?.body ?? {}));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    const reader = new SecretsManagerReader({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      endpoint: `http://127.0.0.1:${address.port}`,
    });
    const bindings = { secrets: { 'local-secret': 'upstreamApiKey' as const } };
    recordCallsOf(reader, 'ingest', bindings);
    takeUncheckedCalls();

    try {
      // Act
      await reader.secretString('local-secret');
      await reader.secretString('local-secret').catch(() => undefined);
    } finally {
      await reader.close();
      server.close();
    }

    // Assert
    const call = { principal: 'ingest', service: 'SecretsManager', operation: 'GetSecretValue', bindings };
    expect(takeUncheckedCalls()).toEqual([
      { ...call, target: { SecretId: 'local-secret' }, outcome: 'ok', via: undefined },
      { ...call, target: { SecretId: 'local-secret' }, outcome: 'failed', via: undefined },
    ]);
  });
});
