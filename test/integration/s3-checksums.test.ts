/**
 * The writer's and the export's checksums as S3 checks them. No local server verifies a CRC, so the checks run on the
 * wire (test/support/s3-checksum-checker.ts) in front of fauxqs, with the write counter behind them
 * to see what became visible and what stayed open.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBucket, ensureTable } from '../../local/aws/resources.js';
import { S3ExportStorage } from '../../shared/archive/s3-export-storage.js';
import { writeVerifiedObject } from '../../shared/archive/verified-writer.js';
import { newExportId, queuedExportJob } from '../../shared/contracts/exports.js';
import { runExport } from '../../shared/export/export-run.js';
import { DynamoDbExportJobs } from '../../shared/index/dynamodb-export-jobs.js';
import { exportIndexDeps } from '../../lambdas/export/runtime.js';
import { createS3Client } from '../../shared/platform/aws-clients.js';
import { checkBag, downloadObject, seedArchived } from '../support/export-fixture.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';
import { startS3ChecksumChecker } from '../support/s3-checksum-checker.js';
import type { S3ChecksumChecker } from '../support/s3-checksum-checker.js';
import { startS3WriteCounter } from '../support/s3-write-counter.js';
import type { S3WriteCounter } from '../support/s3-write-counter.js';

const MIB = 1024 * 1024;
let aws: LocalAwsFixture;
let wire: S3WriteCounter;
let checker: S3ChecksumChecker;
let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  aws = localAwsFromInject();
  bucket = uniqueName('checksums');
  await ensureBucket(aws.s3, bucket);
  wire = await startS3WriteCounter(aws.s3Endpoint);
  checker = await startS3ChecksumChecker(wire.endpoint);
  s3 = createS3Client({ endpoint: checker.endpoint, region: aws.region });
});
afterAll(async () => {
  s3.destroy();
  await checker.close();
  await wire.close();
  aws.destroy();
});

function bytesOf(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 1024) data.writeUInt32BE((i * 2654435761 + seed) >>> 0, i);
  return data;
}

function write(key: string, data: Buffer) {
  async function* body(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
  }
  return writeVerifiedObject(
    body(),
    { bucket, key, contentType: 'application/octet-stream', contentDisposition: 'attachment', metadata: {} },
    { sizeBytes: data.length, contentMd5Base64: createHash('md5').update(data).digest('base64'), metadataMd5Hex: null },
    new AbortController().signal,
    { s3, defaultPartBytes: 5 * MIB, concurrency: 2 },
  );
}

const crc32Base64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
};

describe('the archive writer under S3 checksum checks', () => {
  it(
    'sends a CRC-32 with every part and the FULL_OBJECT CRC-32 and ' + 'size at completion, all matching the bytes',
    async () => {
      const data = bytesOf(12 * MIB + 1, 1);
      const key = 'checked/multipart';
      const from = checker.seen.length;

      const stored = await write(key, data);

      expect(stored.parts).toBe(3);
      expect(stored.digests.crc32Base64).toBe(crc32Base64(data));
      const checked = checker.seen.slice(from).filter((s) => s.operation !== 'POST other');
      expect(checked.map((s) => [s.operation, s.checksum])).toEqual([
        ['UploadPart', 'ok'],
        ['UploadPart', 'ok'],
        ['UploadPart', 'ok'],
        ['CompleteMultipartUpload', 'ok'],
      ]);
      // fauxqs 1.9.2 dropped every part that carries a checksum and completed an empty object.
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    },
  );

  it('sends a body that fits in one part as one PutObject with Content-MD5 and a CRC-32 that match', async () => {
    const data = bytesOf(3 * MIB, 2);
    const from = checker.seen.length;

    const stored = await write('checked/single', data);

    expect(stored.parts).toBe(0);
    expect(stored.digests.crc32Base64).toBe(crc32Base64(data));
    expect(checker.seen.slice(from).map((s) => [s.operation, s.checksum])).toEqual([['PutObject', 'ok']]);
  });

  it('sends object bodies as UNSIGNED-PAYLOAD (their checksum protects them) and signs every other body', async () => {
    const from = checker.seen.length;
    await write('checked/signing', bytesOf(6 * MIB, 3));
    const seen = checker.seen.slice(from);
    expect(seen.filter((s) => s.operation === 'UploadPart').map((s) => s.contentSha256)).toEqual([
      'UNSIGNED-PAYLOAD',
      'UNSIGNED-PAYLOAD',
    ]);
    for (const s of seen.filter((s) => s.operation !== 'UploadPart')) expect(s.contentSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it(
    'a part damaged on the way is refused (BadDigest): the upload ' + 'is aborted and nothing becomes visible',
    async () => {
      const key = 'checked/damaged-part';
      const before = wire.createdUploads(bucket);
      checker.damageNext({ part: 2 });

      await expect(write(key, bytesOf(12 * MIB, 4))).rejects.toMatchObject({
        name: 'BadDigest',
        $metadata: { httpStatusCode: 400 },
      });

      expect(wire.createdUploads(bucket)).toBe(before + 1);
      expect(wire.openUploads(bucket)).toBe(0);
      expect(wire.commits(bucket, key)).toBe(0);
      await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
        name: 'NotFound',
      });
    },
  );

  it('a PutObject body damaged on the way is refused (BadDigest) and nothing becomes visible', async () => {
    const key = 'checked/damaged-put';
    checker.damageNext('put-object');

    await expect(write(key, bytesOf(1 * MIB, 5))).rejects.toMatchObject({
      name: 'BadDigest',
      $metadata: { httpStatusCode: 400 },
    });

    expect(wire.commits(bucket, key)).toBe(0);
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });
});

describe('the export bag under S3 checksum checks', () => {
  it(
    'sends each part the CRC-32 of its bytes and completes with the FULL_OBJECT CRC-32 of the bag, ' +
      'though the run combines them from the chunks it read instead of reading the bytes again',
    async () => {
      const table = uniqueName('checksums-index');
      const bags = uniqueName('checksums-bags');
      await ensureTable(aws.ddb, table);
      await ensureBucket(aws.s3, bags);
      // Sizes that put chunks across part boundaries (5 MiB parts), an empty file, and small ones between.
      const sizes = [7 * MIB + 333, 1, 0, 64 * 1024 + 7, 4 * MIB - 5, 300_001, 3 * MIB];
      for (const [i, size] of sizes.entries()) {
        await seedArchived(s3, aws.ddb, bucket, table, {
          fileId: `claude_gen_file_01Crc${i}`,
          filename: `crc ${i}.bin`,
          content: bytesOf(size, 100 + i),
          chatIds: ['claude_chat_01Crc'],
        });
      }
      const exportId = newExportId();
      const at = new Date().toISOString();
      const jobs = new DynamoDbExportJobs(aws.ddb, table);
      await jobs.create(
        queuedExportJob(
          { exportId, scope: { chats: ['claude_chat_01Crc'] }, matterId: null, description: null, requestedBy: 'test' },
          at,
        ),
      );
      const from = checker.seen.length;

      const outcome = await runExport(
        exportId,
        {
          ...exportIndexDeps(aws.ddb, table),
          jobs,
          storage: new S3ExportStorage(s3, bags),
          log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        },
        { partBytes: 5 * MIB, concurrency: 2, sourceOrganization: 'Example Corp', checkpointEverySeconds: 3600 },
        Date.now() + 600_000,
        AbortSignal.timeout(120_000),
      );

      expect(outcome.kind).toBe('completed');
      const checked = checker.seen.slice(from).filter((s) => s.operation !== 'POST other');
      const parts = checked.filter((s) => s.operation === 'UploadPart');
      expect(parts.length).toBe(3); // 14.4 MiB of payload in 5 MiB parts
      expect(checked.filter((s) => s.operation === 'UploadPart' || s.operation === 'CompleteMultipartUpload')).toEqual([
        ...parts.map(() => expect.objectContaining({ checksum: 'ok' })),
        expect.objectContaining({ checksum: 'ok' }),
      ]);
      expect(checked.at(-1)?.operation).toBe('CompleteMultipartUpload');
      // The ZIP entries' CRCs come from the same combined CRCs: unzip -t checks each against its bytes.
      const work = await mkdtemp(join(tmpdir(), 'crc-bag-'));
      try {
        const job = await jobs.get(exportId);
        const zip = join(work, 'bag.zip');
        const bytes = await downloadObject(s3, bags, job?.bag?.key ?? '', zip);
        expect(job?.bag?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
        const bag = await checkBag(zip, exportId);
        expect(bag.payload).toHaveLength(sizes.length);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  );
});
