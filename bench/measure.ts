/** One measured row: warm up, transfer, verify what was stored, and delete it again. */
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ContentDigest } from '../local/upstream/content.js';
import { BUCKET, WARM_UP_BYTES, type BenchContext, type PathName, type Row } from './bench-context.js';
import { chatIdFor, fileIdFor, warmUpIdFor } from './bench-files.js';
import { runRclone } from './rclone-runner.js';
import { runWorker } from './worker-runner.js';

export async function measure(
  ctx: BenchContext,
  path: PathName,
  sizeBytes: number,
  seed: number,
  digest: ContentDigest,
): Promise<Row> {
  const fileId = fileIdFor(path, sizeBytes, seed);
  const warmUpId = warmUpIdFor(path, sizeBytes, seed);
  let row: Row;
  let key: string | undefined;
  try {
    if (path === 'rclone') {
      const rclone = ctx.rclone;
      if (!rclone) throw new Error('rclone is not prepared');
      const warmUpKey = `bench/rclone/${warmUpId}`;
      await runRclone(ctx, rclone.config, warmUpId, warmUpKey, WARM_UP_BYTES);
      await deleteObject(ctx.s3, warmUpKey);
      key = `bench/rclone/${fileId}`;
      row = await runRclone(ctx, rclone.config, fileId, key, sizeBytes);
    } else {
      const outcome = await runWorker(
        ctx,
        path,
        { fileId, chatId: chatIdFor(seed), sizeBytes },
        { fileId: warmUpId, chatId: chatIdFor(seed), sizeBytes: WARM_UP_BYTES },
      );
      row = outcome.row;
      key = outcome.key;
    }
    if (row.ok && key !== undefined) row.verified = await verify(ctx, path, key, fileId, sizeBytes, digest);
  } catch (err) {
    row = { sizeBytes, path, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    // Keep the servers' disk and memory small: every object goes once measured.
    if (key !== undefined) await deleteObject(ctx.s3, key).catch(() => undefined);
    if (path !== 'rclone') {
      const warmUpKey = path === 'ingest' ? `archive/generated/${warmUpId}` : `bench/${path}/${warmUpId}`;
      await deleteObject(ctx.s3, warmUpKey).catch(() => undefined);
    }
  }
  return row;
}

/** Checks the stored object's size; for the ingest path, also that the index holds the true hashes. */
async function verify(
  ctx: BenchContext,
  path: PathName,
  key: string,
  fileId: string,
  sizeBytes: number,
  digest: ContentDigest,
): Promise<string> {
  const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  if (head.ContentLength !== sizeBytes)
    throw new Error(`${key}: stored ${head.ContentLength} bytes, expected ${sizeBytes}`);
  if (path !== 'ingest') return 'size';
  const record = await ctx.repository.get(fileId);
  if (record?.status !== 'archived')
    throw new Error(`${fileId}: index status ${record?.status ?? 'missing'}, expected archived`);
  if (record.sha256 !== digest.sha256Hex || record.md5 !== digest.md5Hex || record.sizeBytes !== sizeBytes) {
    throw new Error(`${fileId}: indexed hashes or size differ from upstream's`);
  }
  return 'size, indexed md5+sha256';
}

async function deleteObject(s3: S3Client, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}
