/**
 * Global setup of the integration project: one local AWS stack for the whole run. fauxqs answers S3
 * (correct multipart) and SQS, dynalite answers DynamoDB, and a separate s3rver (on disk, expiring
 * presigned URLs) answers a second S3 endpoint. Each test file makes its own bucket, table and
 * queues (see uniqueName), so files can run in parallel against the same servers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { useLocalAwsEnvironment } from '../../local/aws/local-account.js';
import { startS3rver } from '../../local/aws/s3rver-server.js';
import { startLocalAws } from '../../local/aws/servers.js';

/** What tests read with `inject('localAws')`; every endpoint is on 127.0.0.1. */
export interface ProvidedLocalAws {
  region: string;
  /** fauxqs S3 (in memory). */
  s3Endpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  /** s3rver S3 (on disk under s3rverDirectory). */
  s3rverEndpoint: string;
  s3rverDirectory: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    localAws: ProvidedLocalAws;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  useLocalAwsEnvironment();
  const s3rverDirectory = await mkdtemp(join(tmpdir(), 'archiver-test-s3rver-'));
  const aws = await startLocalAws({ s3: 'fauxqs' });
  let s3rver: Awaited<ReturnType<typeof startS3rver>>;
  try {
    s3rver = await startS3rver({ directory: s3rverDirectory });
  } catch (err) {
    await aws.stop();
    throw err;
  }
  project.provide('localAws', {
    region: aws.region,
    s3Endpoint: aws.s3Endpoint,
    sqsEndpoint: aws.sqsEndpoint,
    dynamodbEndpoint: aws.dynamodbEndpoint,
    s3rverEndpoint: s3rver.endpoint,
    s3rverDirectory,
  });
  return async () => {
    await Promise.all([aws.stop(), s3rver.stop()]);
    await rm(s3rverDirectory, { recursive: true, force: true });
  };
}
