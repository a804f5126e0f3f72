/**
 * The real-S3 tier with the deployed permissions: the ingest and lookup handlers run against the RADOS
 * Gateway as users that hold exactly the S3 statements of the synthesized ingest and lookup role
 * policies (test/support/permissions/gateway-role-users.ts), on a bucket configured as the archive
 * is deployed (versioned, Object Lock, default GOVERNANCE retention). A permission the roles lack fails
 * here the way it fails in AWS: S3 answers 403. Runs only where radosgw is installed (vitest.config.ts).
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLookupClients, createLookupRuntime } from '../../lambdas/lookup/runtime.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { LookupConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { createS3Client } from '../../shared/platform/aws-clients.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createIngestStack, type IngestStack } from '../support/ingest-stack.js';
import { recordCallsOf } from '../support/permissions/aws-call-recorder.js';
import { s3StatementsFor } from '../support/permissions/gateway-role-users.js';
import { generatedFileFactory } from '../support/upstream.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const quietLog: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let stack: IngestStack;
beforeAll(async () => {
  stack = await createIngestStack({ s3: 'rgw', partSizeMib: 5 });
});
afterAll(async () => {
  await stack.close();
});

describe('the ingest role on a real S3 (RADOS Gateway)', () => {
  it('holds, on the gateway, exactly the S3 statements the CDK app grants the ingest role', () => {
    const statements = s3StatementsFor('ingest', stack.bucket, inject('deployedPermissions')).Statement;
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: [`arn:aws:s3:::${stack.bucket}/*`],
      },
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [`arn:aws:s3:::${stack.bucket}`],
        Condition: { StringLike: { 's3:prefix': 'archive/*' } },
      },
      // Legal holds (test/integration/legal-holds.test.ts places and releases them as this user).
      {
        Effect: 'Allow',
        Action: ['s3:PutObjectLegalHold'],
        Resource: [`arn:aws:s3:::${stack.bucket}/archive/*`],
      },
    ]);
  });

  it.each([
    ['a single-part file', Buffer.from('quarterly numbers\n')],
    ['a multi-part file (11 MiB in 5 MiB parts)', Buffer.alloc(11 * 1024 * 1024, 'x')],
  ])('archives %s as a new object, and records its real version', async (_name, content) => {
    const file = generatedFileFactory({ content });
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([serializeJob({ fileId: file.id })]);

    const record = await stack.index.get(file.id);
    // On failure, show what the handler logged: the S3 answer the ingest user got.
    const problems = stack.logs
      .filter((l) => (l.level === 'warn' || l.level === 'error') && l.attributes['fileId'] === file.id)
      .map((l) => ({ message: l.message, error: l.attributes['error'] }));
    expect({ failed, status: record?.status, problems }).toEqual({ failed: [], status: 'archived', problems: [] });
    const key = objectKeyFor('generated', file.id);
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
    expect(record).toMatchObject({ md5: md5(content), sha256: sha256(content), versionId: head.VersionId });
    expect(head.VersionId).toMatch(/\S/);
    expect(stack.commits(key)).toBe(1);
    expect(stack.openUploads()).toBe(0);
  });

  it('adopts the object an earlier delivery committed before it died, without writing a second version', async () => {
    const content = Buffer.from('committed, never indexed\n');
    const file = generatedFileFactory({ content });
    await stack.upstream.addFile(file);
    const key = objectKeyFor('generated', file.id);
    // The earlier delivery claimed the file (only a claim holder writes), committed, and died: its
    // lease has long run out.
    expect(
      await stack.index.claim(file.id, 'generated', 'crashed-delivery', Date.now() - 3_600_000, 120_000),
    ).toMatchObject({ kind: 'claimed' });
    const earlier = await stack.s3.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        Body: content,
        ContentMD5: createHash('md5').update(content).digest('base64'),
      }),
    );

    const { failed } = await stack.deliver([serializeJob({ fileId: file.id })]);

    expect(failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'archived',
      versionId: earlier.VersionId,
      sha256: sha256(content),
    });
    expect(stack.commits(key)).toBe(0);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(0);
  });

  it(
    'reads the current version it re-hashes, but may not read a version ' + 'by its id (no s3:GetObjectVersion)',
    async () => {
      const key = objectKeyFor('generated', 'file_version_probe');
      const body = 'probe';
      const put = await stack.s3.send(
        new PutObjectCommand({
          Bucket: stack.bucket,
          Key: key,
          Body: body,
          ContentMD5: createHash('md5').update(body).digest('base64'),
        }),
      );
      const ingestUser = createS3Client({
        endpoint: stack.archive.endpoint,
        region: stack.aws.region,
        credentials: await stack.archive.credentialsFor('ingest'),
      });
      try {
        const current = await ingestUser.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
        expect(await current.Body?.transformToString()).toBe(body);
        await expect(
          ingestUser.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key, VersionId: put.VersionId })),
        ).rejects.toMatchObject({
          $metadata: { httpStatusCode: 403 },
        });
      } finally {
        ingestUser.destroy();
      }
    },
  );
});

describe('the lookup role on a real S3 (RADOS Gateway)', () => {
  it(
    'redirects to a presigned URL, signed as the lookup role, that ' + 'downloads exactly the archived version',
    async () => {
      // Arrange: two versions at the archive key, the record naming the first (as after an adoption).
      const content = Buffer.from('archived version');
      const file = generatedFileFactory({ content });
      const key = objectKeyFor('generated', file.id);
      const put = (body: string) =>
        stack.s3.send(
          new PutObjectCommand({
            Bucket: stack.bucket,
            Key: key,
            Body: body,
            ContentMD5: createHash('md5').update(body).digest('base64'),
          }),
        );
      const archived = await put('archived version');
      const versionId = archived.VersionId;
      if (!versionId) throw new Error('the gateway bucket is not versioned');
      await put('a later version');
      const owner = 'test-owner';
      await stack.index.claim(file.id, 'generated', owner, Date.now(), 60_000);
      await stack.index.markArchived(
        {
          status: 'archived',
          fileId: file.id,
          source: 'generated',
          chatIds: [file.chatId],
          filename: file.filename,
          mimeType: file.mimeType,
          sizeBytes: content.length,
          createdAt: file.createdAt ?? null,
          upstreamRequestId: null,
          md5: md5(content),
          sha256: sha256(content),
          bucket: stack.bucket,
          key,
          versionId,
          contentType: 'text/plain',
          contentDisposition: 'attachment; filename="report.txt"',
          archivedAt: new Date().toISOString(),
        },
        owner,
      );
      const config = loadConfig(LookupConfigSchema, {
        ARCHIVE_BUCKET: stack.bucket,
        INDEX_TABLE: stack.table,
        HOLD_WORK_QUEUE_URL: stack.queues.queueUrl,
        LOCAL_S3_ENDPOINT: stack.archive.endpoint,
        LOCAL_DYNAMODB_ENDPOINT: stack.aws.dynamodbEndpoint,
        LOCAL_SQS_ENDPOINT: stack.aws.sqsEndpoint,
      });
      const credentials = await stack.archive.credentialsFor('lookup');
      const clients = createLookupClients(config, {
        ...(credentials ? { s3: { region: stack.aws.region, credentials } } : {}),
        onClient: (client) => recordCallsOf(client, 'lookup', stack.bindings),
      });
      const lookup = createLookupRuntime(config, quietLog, clients);

      // Act
      const res = await lookup({
        httpMethod: 'GET',
        resource: '/files/{fileId}/content',
        path: `/files/${file.id}/content`,
        pathParameters: { fileId: file.id },
      } as unknown as Parameters<typeof lookup>[0]);

      // Assess: the gateway verifies the lookup user's signature and policy, and serves that version.
      expect(res.statusCode).toBe(302);
      const download = await request(String(res.headers?.['Location']));
      expect({ status: download.statusCode, body: await download.body.text() }).toEqual({
        status: 200,
        body: 'archived version',
      });
      // The gateway enforces the lookup user's policy: reading is allowed, writing is not. (Its own
      // client, unrecorded: this refused call is the point, not a call the handler makes.)
      const asLookup = createS3Client({
        endpoint: config.LOCAL_S3_ENDPOINT,
        region: stack.aws.region,
        credentials: await stack.archive.credentialsFor('lookup'),
      });
      await expect(
        asLookup.send(
          new PutObjectCommand({
            Bucket: stack.bucket,
            Key: key,
            Body: 'x',
            ContentMD5: createHash('md5').update('x').digest('base64'),
          }),
        ),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      const current = await asLookup.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
      expect(await current.Body?.transformToString()).toBe('a later version');
      asLookup.destroy();
      clients.destroy();
    },
  );
});
