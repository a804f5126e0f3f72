/**
 * One side of `npm run bench:export`, in its own process so that its memory is its own: `copy` reads
 * every object and writes it to another key (GetObject streamed into PutObject, one at a time, the
 * plainest copy of the same bytes from the same server), `export` runs the export job. Prints one
 * JSON line: seconds, payload bytes, RSS before and peak RSS (VmHWM, reset at the start), and the CPU
 * seconds the work took in this process, and the sampled peaks of its Buffers and JS heap.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ExportStorage } from '../shared/archive/s3-export-storage.js';
import { runExport } from '../shared/export/export-run.js';
import { exportIndexDeps } from '../lambdas/export/runtime.js';
import { createDocumentClient, createS3Client } from '../shared/platform/aws-clients.js';
import { readStatusBytes, resetPeakRss, sampleOwnMemory } from './memory.js';

const [
  mode,
  s3Endpoint,
  dynamodbEndpoint,
  table,
  archiveBucket,
  exportsBucket,
  exportId,
  partMib,
  concurrency,
  keysJson,
] = process.argv.slice(2);
const s3 = createS3Client({ endpoint: s3Endpoint });
const doc = createDocumentClient({ endpoint: dynamodbEndpoint });
const objects = JSON.parse(keysJson ?? '[]') as { key: string; size: number }[];

async function copy(): Promise<number> {
  let bytes = 0;
  for (const o of objects) {
    const res = await s3.send(new GetObjectCommand({ Bucket: archiveBucket, Key: o.key }));
    await s3.send(
      new PutObjectCommand({
        Bucket: exportsBucket,
        Key: `copy/${o.key}`,
        Body: res.Body as never,
        ContentLength: o.size,
      }),
    );
    bytes += o.size;
  }
  return bytes;
}

async function exportAll(): Promise<number> {
  const outcome = await runExport(
    exportId as string,
    {
      ...exportIndexDeps(doc, table as string),
      storage: new S3ExportStorage(s3, exportsBucket as string),
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: (m, a) => console.error(m, a) },
    },
    {
      partBytes: Number(partMib) * 1024 * 1024,
      concurrency: Number(concurrency),
      sourceOrganization: 'Benchmark organization',
      checkpointEverySeconds: 60,
    },
    Date.now() + 3_600_000,
    AbortSignal.timeout(3_600_000),
  );
  if (outcome.kind !== 'completed') throw new Error(`export ended ${JSON.stringify(outcome)}`);
  return outcome.job.counts.payloadBytes;
}

const rssBefore = readStatusBytes('self', 'VmRSS') ?? 0;
resetPeakRss();
const started = performance.now();
const cpuBefore = process.cpuUsage();
// What the peak is made of: Buffers (part buffers, stream chunks not yet collected) and the JS heap.
const sampler = sampleOwnMemory(250);
const bytes = mode === 'copy' ? await copy() : await exportAll();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const sampled = sampler.stop();
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const peak = readStatusBytes('self', 'VmHWM') ?? 0;
console.log(
  JSON.stringify({
    mode,
    seconds,
    bytes,
    rssBefore,
    peakRss: peak,
    cpuSeconds,
    peakArrayBuffers: sampled.arrayBuffersBytes,
    peakHeapUsed: sampled.heapUsedBytes,
  }),
);
s3.destroy();
doc.destroy();
