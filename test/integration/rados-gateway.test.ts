/**
 * The real-S3 tier: what the emulators (fauxqs, s3rver) cannot show, checked against Ceph's RADOS
 * Gateway. The bucket is set up as infra/constructs/archive-bucket.ts deploys the archive: Object
 * Lock enabled at creation, versioning on, default retention GOVERNANCE (1 day here). Not mirrored:
 * SSE-KMS (the gateway has no KMS here) and the lifecycle rules (not enforced within a test).
 *
 * This file runs only where radosgw is installed (vitest.config.ts leaves it out otherwise, and CI
 * requires it), so it fails rather than skips if the gateway was not provided.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { writeVerifiedObject } from '../../shared/archive/verified-writer.js';
import { uniqueName } from '../support/local-aws.js';
import { connectRadosGateway, radosGatewayS3Client, type RadosGateway } from '../support/rados-gateway.js';

const provided = inject('localAws').rgw;
if (!provided) throw new Error('the integration global setup did not start the RADOS gateway (is radosgw installed?)');

const MIB = 1024 * 1024;
let gateway: RadosGateway;
let s3: S3Client;
let bucket: string;

const md5Base64 = (bytes: string | Uint8Array): string => createHash('md5').update(bytes).digest('base64');

beforeAll(async () => {
  gateway = connectRadosGateway(provided);
  s3 = radosGatewayS3Client(gateway);
  bucket = uniqueName('rgw-archive');
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
      },
    }),
  );
  const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention).toMatchObject({ Mode: 'GOVERNANCE', Days: 1 });
});
afterAll(() => {
  s3?.destroy();
});

describe('RADOS gateway (real S3): integrity checks', () => {
  it(
    'refuses a PutObject whose Content-MD5 does not match the body ' + 'with 400 BadDigest, and stores nothing',
    async () => {
      const key = 'integrity/put-bad-md5';
      await expect(
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: 'archived bytes',
            ContentMD5: md5Base64('other bytes'),
          }),
        ),
      ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
      await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });

      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: 'archived bytes',
          ContentMD5: md5Base64('archived bytes'),
        }),
      );
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.ETag).toBe(`"${createHash('md5').update('archived bytes').digest('hex')}"`);
    },
  );

  it('refuses an UploadPart whose Content-MD5 does not match the part with 400 BadDigest', async () => {
    const key = 'integrity/part-bad-md5';
    const part = Buffer.alloc(5 * MIB, 7);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    try {
      await expect(
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: 1,
            Body: part,
            ContentMD5: md5Base64(Buffer.alloc(5 * MIB, 8)),
          }),
        ),
      ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
      const good = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: 1,
          Body: part,
          ContentMD5: md5Base64(part),
        }),
      );
      expect(good.ETag).toBe(`"${createHash('md5').update(part).digest('hex')}"`);
    } finally {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    }
  });
});

describe('RADOS gateway (real S3): versions and Object Lock', () => {
  it('gives each write a real VersionId, and a GET by VersionId returns exactly that version', async () => {
    const key = 'versions/same-key';
    const first = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', ContentMD5: md5Base64('first') }),
    );
    const second = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', ContentMD5: md5Base64('second') }),
    );
    expect(first.VersionId).toMatch(/\S/);
    expect(first.VersionId).not.toBe('null');
    expect(second.VersionId).not.toBe(first.VersionId);

    const read = async (VersionId?: string) => {
      const got = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(VersionId ? { VersionId } : {}) }),
      );
      return { body: await got.Body!.transformToString(), versionId: got.VersionId };
    };
    expect(await read(first.VersionId)).toEqual({ body: 'first', versionId: first.VersionId });
    expect(await read(second.VersionId)).toEqual({ body: 'second', versionId: second.VersionId });
    expect(await read()).toEqual({ body: 'second', versionId: second.VersionId });
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    expect(listed.Versions?.map((v) => v.VersionId).sort()).toEqual([first.VersionId, second.VersionId].sort());
  });

  it(
    'locks every version under the default GOVERNANCE retention: ' +
      'deleting it answers 403 AccessDenied unless bypassed',
    async () => {
      const key = 'lock/archived-file';
      const { VersionId } = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'kept', ContentMD5: md5Base64('kept') }),
      );
      const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId }));
      expect(retention.Retention?.Mode).toBe('GOVERNANCE');
      const untilMs = retention.Retention!.RetainUntilDate!.getTime() - Date.now();
      expect(untilMs).toBeGreaterThan(23 * 3600_000);
      expect(untilMs).toBeLessThanOrEqual(24 * 3600_000 + 60_000);

      await expect(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId }))).rejects.toMatchObject({
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
      // A delete without a VersionId only adds a delete marker; the locked version is still there.
      const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      expect(marker.DeleteMarker).toBe(true);
      const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId }));
      expect(await kept.Body!.transformToString()).toBe('kept');

      // GOVERNANCE (unlike COMPLIANCE) lets a user allowed s3:BypassGovernanceRetention delete it.
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId, BypassGovernanceRetention: true }));
      await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
    },
  );
});

describe('RADOS gateway (real S3): the archive writer', () => {
  // The same call the ingest handler makes, with production's client: PutObject carries Content-MD5
  // (which this server verifies) and a CRC-32, parts carry their CRC-32 (which Pacific ignores), the
  // object bodies go UNSIGNED-PAYLOAD (the headers stay signed, and this server checks the signature),
  // and the result must be a locked version holding exactly the bytes sent.
  it.each([
    { name: 'one PutObject', bytes: 3 * MIB, parts: 0 },
    { name: 'a multipart upload', bytes: 12 * MIB + 1, parts: 3 },
  ])('stores a locked version with exactly the bytes streamed, through $name', async ({ bytes, parts }) => {
    const data = Buffer.alloc(bytes);
    for (let i = 0; i + 4 <= bytes; i += 4096) data.writeUInt32BE(i, i);
    const key = `writer/${bytes}`;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes; i += MIB) yield data.subarray(i, i + MIB);
    }
    const stored = await writeVerifiedObject(
      body(),
      { bucket, key, contentType: 'application/octet-stream', contentDisposition: 'attachment', metadata: {} },
      { sizeBytes: bytes, contentMd5Base64: md5Base64(data), metadataMd5Hex: null },
      new AbortController().signal,
      { s3, defaultPartBytes: 5 * MIB, concurrency: 2 },
    );
    expect(stored.parts).toBe(parts);
    expect(stored.versionId).toMatch(/\S/);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: stored.versionId }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(got.ObjectLockMode).toBe('GOVERNANCE');
  });
});

describe('RADOS gateway (real S3): multipart uploads', () => {
  it('lists an open multipart upload, and after AbortMultipartUpload lists none', async () => {
    const prefix = 'multipart-abort/';
    const key = `${prefix}file`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = Buffer.alloc(5 * MIB, 1);
    await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: part,
        ContentMD5: md5Base64(part),
      }),
    );
    const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    expect(open.Uploads?.map((u) => u.UploadId)).toEqual([UploadId]);

    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    expect(after.Uploads ?? []).toEqual([]);
  });
});

describe('RADOS gateway (real S3): presigned URLs', () => {
  it('serves a presigned GET, refuses one whose signature does not match, and refuses it once expired', async () => {
    const key = 'presigned/file.txt';
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: 'presigned body',
        ContentMD5: md5Base64('presigned body'),
      }),
    );

    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('presigned body');

    const tampered = await fetch(url.replace('/file.txt?', '/other.txt?'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

    const shortLived = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const expired = await fetch(shortLived);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('<Code>AccessDenied</Code>');
  });
});

describe('RADOS gateway (real S3): user policies', () => {
  it('answers HeadObject of a missing key with 403 without s3:ListBucket, and 404 with it', async () => {
    const uid = uniqueName('reader');
    const credentials = await gateway.createUser(uid);
    const reader = radosGatewayS3Client(gateway, credentials);
    const key = 'policy/present';
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'readable', ContentMD5: md5Base64('readable') }),
    );
    const policy = (actions: string[]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: actions, Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] },
        ],
      });
    try {
      await gateway.putUserPolicy(uid, 'archive-read', policy(['s3:GetObject']));
      const got = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await got.Body!.transformToString()).toBe('readable');
      await expect(reader.send(new HeadObjectCommand({ Bucket: bucket, Key: 'policy/missing' }))).rejects.toMatchObject(
        {
          $metadata: { httpStatusCode: 403 },
        },
      );

      await gateway.putUserPolicy(uid, 'archive-read', policy(['s3:GetObject', 's3:ListBucket']));
      await expect(reader.send(new HeadObjectCommand({ Bucket: bucket, Key: 'policy/missing' }))).rejects.toMatchObject(
        {
          name: 'NotFound',
          $metadata: { httpStatusCode: 404 },
        },
      );
    } finally {
      reader.destroy();
    }
  });
});
