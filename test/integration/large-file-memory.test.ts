import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { createIngestStack } from '../support/ingest-stack.js';
import type { IngestStack } from '../support/ingest-stack.js';
import { uploadedFileFactory } from '../support/upstream.js';

const MIB = 1024 * 1024;

let stack: IngestStack;
beforeAll(async () => {
  // fauxqs holds the objects in the global setup's process, so this worker's RSS is the archiver's own.
  stack = await createIngestStack({ s3: 'fauxqs', partSizeMib: 8, concurrency: 4 });
});
afterAll(async () => {
  await stack.close();
});

/** Archives a generated file of `size` bytes and returns the peak RSS growth over the run. */
async function archivePeakGrowth(size: number, seed: number): Promise<number> {
  const file = uploadedFileFactory({ content: { size, seed } });
  await stack.upstream.addFile(file);
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const { failed } = await stack.deliver([serializeJob({ fileId: file.id })], { timeoutMs: 600_000 });
    expect(failed).toEqual([]);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  const digest = await stack.upstream.digestOf(file.id);
  expect(await stack.index.get(file.id)).toMatchObject({
    status: 'archived',
    sizeBytes: size,
    sha256: digest.sha256Hex,
  });
  expect(stack.commits(objectKeyFor('uploaded', file.id))).toBe(1);
  return peak - baseline;
}

describe('memory while streaming a large file', () => {
  it('stays bounded by the part buffers, whatever the file size (50 MiB vs 200 MiB)', async () => {
    await archivePeakGrowth(10 * MIB, 1); // warm-up: code paths, agents and pools allocated once
    const small = await archivePeakGrowth(50 * MIB, 2);
    const large = await archivePeakGrowth(200 * MIB, 3);
    console.info(
      `peak RSS growth: 50 MiB file ${(small / MIB).toFixed(1)} MiB, 200 MiB file ${(large / MIB).toFixed(1)} MiB`,
    );

    // Parts in flight (4 × 8 MiB) plus the part being filled and its join: ~48 MiB by design.
    // The bound is far below the file size, and quadrupling the file must not grow it materially.
    expect(large).toBeLessThan(128 * MIB);
    expect(large - small).toBeLessThan(48 * MIB);
  });
});
