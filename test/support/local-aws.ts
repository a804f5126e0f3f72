import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createDocumentClient, createS3Client, createSqsClient } from '../../shared/platform/aws-clients.js';
import type { ProvidedLocalAws } from './global-setup.js';

/** The global setup's endpoints plus a client for each, built the way the Lambdas build theirs. */
export interface LocalAwsFixture extends ProvidedLocalAws {
  /** S3 on fauxqs (in memory, correct multipart, presigned URLs never expire). */
  s3: S3Client;
  /** S3 on s3rver (on disk, presigned URLs expire, no AbortMultipartUpload). */
  s3rver: S3Client;
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Destroys the clients' connection pools. */
  destroy(): void;
}

/** Reads the endpoints the integration global setup provided and builds clients for them. */
export function localAwsFromInject(): LocalAwsFixture {
  const provided = inject('localAws');
  const { region } = provided;
  const s3 = createS3Client({ endpoint: provided.s3Endpoint, region });
  const s3rver = createS3Client({ endpoint: provided.s3rverEndpoint, region });
  const ddb = createDocumentClient({ endpoint: provided.dynamodbEndpoint, region });
  const sqs = createSqsClient({ endpoint: provided.sqsEndpoint, region });
  return {
    ...provided,
    s3,
    s3rver,
    ddb,
    sqs,
    destroy() {
      s3.destroy();
      s3rver.destroy();
      ddb.destroy();
      sqs.destroy();
    },
  };
}

/**
 * A name no other test uses, valid as an S3 bucket, SQS queue (with a `-dlq` suffix too) and
 * DynamoDB table name: lowercase letters, digits and hyphens, at most 63 characters.
 */
export function uniqueName(prefix: string): string {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(prefix)) {
    throw new Error('prefix must be 1-40 lowercase letters, digits or hyphens, starting with a letter');
  }
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
