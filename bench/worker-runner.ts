/**
 * Runs one measured transfer in a fresh worker process (transfer-worker.ts), so that its memory
 * figures are the archiver's alone, and turns the worker's answer into a row.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  API_KEY,
  BENCH_MAX_RECEIVE_COUNT,
  BUCKET,
  MB,
  TABLE,
  WORKER_SAMPLE_INTERVAL_MS,
  benchDir,
  live,
  repoRoot,
  timeoutMsFor,
  type BenchContext,
  type Row,
} from './bench-context.js';
import { WorkerMarkSchema, WorkerResultSchema } from './protocol.js';
import type { WorkerMode, WorkerTask } from './protocol.js';
import { cpuSnapshot, serverCpuBetween, type CpuSnapshot } from './server-cpu.js';

export async function runWorker(
  ctx: BenchContext,
  mode: WorkerMode,
  file: WorkerTask['file'],
  warmUp: WorkerTask['warmUp'],
): Promise<{ row: Row; key: string | undefined }> {
  const task: WorkerTask = {
    type: 'task',
    mode,
    upstreamUrl: ctx.upstream.url,
    apiKey: API_KEY,
    s3Endpoint: ctx.aws.s3Endpoint,
    sqsEndpoint: ctx.aws.sqsEndpoint,
    dynamodbEndpoint: ctx.aws.dynamodbEndpoint,
    bucket: BUCKET,
    table: TABLE,
    queueUrl: ctx.queues.queueUrl,
    deadLetterQueueUrl: ctx.queues.dlqUrl,
    maxReceiveCount: BENCH_MAX_RECEIVE_COUNT,
    partSizeMib: ctx.opts.partSizeMib,
    concurrency: ctx.opts.concurrency,
    warmUp,
    file,
    sampleIntervalMs: WORKER_SAMPLE_INTERVAL_MS,
  };
  const script = join(benchDir, 'transfer-worker.ts');
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(script, [], {
    cwd: repoRoot,
    execArgv: [
      '--import',
      tsxLoader,
      '--expose-gc',
      ...(ctx.opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.opts.profileDir}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.children.add(child);
  const timeoutMs = timeoutMsFor(file.sizeBytes) + timeoutMsFor(warmUp.sizeBytes);
  let cpuAtStart: CpuSnapshot | undefined;
  let cpuAtEnd: CpuSnapshot | undefined;
  try {
    const message = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`worker did not finish within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      child.on('message', (m: unknown) => {
        const mark = WorkerMarkSchema.safeParse(m);
        if (mark.success) {
          if (mark.data.phase === 'start') cpuAtStart = cpuSnapshot(ctx);
          else cpuAtEnd = cpuSnapshot(ctx);
          return;
        }
        clearTimeout(timer);
        resolve(m);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker exited without a result (code ${code}, signal ${signal})`));
      });
      child.send(task);
    });
    const result = WorkerResultSchema.parse(message);
    if (!result.ok)
      return { row: { sizeBytes: file.sizeBytes, path: mode, ok: false, error: result.error }, key: undefined };
    const serverCpuSeconds = serverCpuBetween(cpuAtStart, cpuAtEnd);
    return {
      key: result.key,
      row: {
        sizeBytes: file.sizeBytes,
        path: mode,
        ok: true,
        seconds: result.seconds,
        mbPerSecond: result.bytes / MB / result.seconds,
        cpuSeconds: result.cpuSeconds,
        gcCount: result.gcCount,
        gcMs: result.gcMs,
        gcMajorCount: result.gcMajorCount,
        gcMajorMs: result.gcMajorMs,
        rssBeforeBytes: result.rssBeforeBytes,
        rssPeakBytes: result.rssPeakBytes,
        rssPeakSampledBytes: result.rssPeakSampledBytes,
        rssHwmBytes: result.rssHwmBytes,
        arrayBuffersPeakBytes: result.arrayBuffersPeakBytes,
        heapUsedPeakBytes: result.heapUsedPeakBytes,
        ...(serverCpuSeconds ? { serverCpuSeconds } : {}),
      },
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    live.children.delete(child);
  }
}
