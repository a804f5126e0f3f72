import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Client factories. In AWS they take the SDK defaults. With an endpoint override (the local stack,
 * tests) they use the settings that both local S3 servers handle correctly: path-style addressing and
 * checksums only where an operation requires them (s3rver stores aws-chunked framing otherwise).
 */
export interface ClientOptions {
  endpoint?: string | undefined;
  region?: string | undefined;
  /** S3 with an endpoint override only: a local server's user (the RADOS Gateway's); otherwise the SDK's provider chain. */
  credentials?: S3ClientConfig['credentials'];
}

export function createS3Client(opts: ClientOptions = {}): S3Client {
  if (!opts.endpoint) return new S3Client(opts.region ? { region: opts.region } : {});
  return new S3Client({
    endpoint: opts.endpoint,
    region: opts.region ?? 'us-east-1',
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createDocumentClient(opts: ClientOptions = {}): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.region ? { region: opts.region } : opts.endpoint ? { region: 'us-east-1' } : {}),
  });
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(opts: ClientOptions = {}): SQSClient {
  return new SQSClient({
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.region ? { region: opts.region } : opts.endpoint ? { region: 'us-east-1' } : {}),
  });
}
