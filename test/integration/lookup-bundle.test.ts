import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlingWithLazyModules, lazyModuleArgs } from '../../infra/constructs/archiver-function.js';
import { RARE_ROUTES_BUNDLE, RARE_ROUTES_ENTRY } from '../../lambdas/lookup/rare-routes-file.js';
import { ensureQueues, ensureTable } from '../../local/aws/resources.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';

// The lookup as deployed: index.mjs built with the functions' esbuild options, and its rare routes
// (the holds, exports and fixity routes' S3 and SQS clients) built by the CDK's after-bundling hook
// into a file of their own (infra/constructs/archiver-function.ts). The other tests run the lookup
// from its sources; this one proves the two-file bundle works: index.mjs holds no S3 or SQS client,
// and a rare route loads the second file and answers (a hold placed, its sweep sent to SQS).

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let aws: LocalAwsFixture;
let dir: string;
let table: string;
let queueUrl: string;

beforeAll(async () => {
  aws = localAwsFromInject();
  dir = await mkdtemp(join(tmpdir(), 'lookup-bundle-'));
  const esbuild = join(repoRoot, 'node_modules/.bin/esbuild');
  execFileSync(esbuild, ['--bundle', 'lambdas/lookup/handler.ts', ...lazyModuleArgs(join(dir, 'index.mjs'))], {
    cwd: repoRoot,
    stdio: 'pipe',
  });
  const hooks = bundlingWithLazyModules({ [RARE_ROUTES_BUNDLE]: RARE_ROUTES_ENTRY }).commandHooks;
  for (const command of hooks?.afterBundling(repoRoot, dir) ?? [])
    execFileSync('bash', ['-c', command], { cwd: repoRoot, stdio: 'pipe' });
  table = uniqueName('lookup-bundle');
  await ensureTable(aws.ddb, table);
  ({ queueUrl } = await ensureQueues(aws.sqs, {
    name: uniqueName('lookup-bundle-holds'),
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 60,
  }));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  aws.destroy();
});

/** Imports the bundle in a fresh Node process, as Lambda does, and answers one API Gateway event. */
function invokeBundle(event: object): { statusCode: number; body: string } {
  const script =
    `const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))});` +
    `const res = await handler(${JSON.stringify(event)}, { functionName: 'lookup', awsRequestId: 'r1' });` +
    'process.stdout.write(JSON.stringify(res));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env['PATH'],
      AWS_REGION: aws.region,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: 'archiver-lookup',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      ARCHIVE_BUCKET: uniqueName('lookup-bundle-archive'),
      INDEX_TABLE: table,
      HOLD_WORK_QUEUE_URL: queueUrl,
      HOLD_RELEASE_DELAY_SECONDS: '0',
      LOCAL_S3_ENDPOINT: aws.s3Endpoint,
      LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
      LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
    },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('the lookup bundle with its rare routes in a file of their own', () => {
  it('leaves the S3 and SQS clients out of index.mjs and puts them in the rare routes file', async () => {
    // The clients' protocol settings name their service targets; the strings survive minification.
    const main = await readFile(join(dir, 'index.mjs'), 'utf8');
    const rare = await readFile(join(dir, RARE_ROUTES_BUNDLE), 'utf8');
    expect({ s3: main.includes('AmazonS3'), sqs: main.includes('AmazonSQS') }).toEqual({ s3: false, sqs: false });
    expect({ s3: rare.includes('AmazonS3'), sqs: rare.includes('AmazonSQS') }).toEqual({ s3: true, sqs: true });
  });

  it('loads the rare routes file for a hold: the matter is placed and its sweep queued', async () => {
    // Act
    const res = invokeBundle({
      httpMethod: 'POST',
      resource: '/holds',
      path: '/holds',
      headers: { 'content-type': 'application/json' },
      requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/legal' } },
      body: JSON.stringify({
        matterId: 'M-bundle',
        reason: 'Bundle check',
        scope: { chats: ['claude_chat_01Bundle'] },
      }),
    });

    // Assert
    expect(res.statusCode).toBe(202);
    const received = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }),
    );
    expect(received.Messages?.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([
      expect.objectContaining({ kind: 'hold-work', matterId: 'M-bundle', action: 'place', page: 0 }),
    ]);
  });
});
